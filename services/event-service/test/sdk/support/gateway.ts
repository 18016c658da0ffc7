import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConsoleLogger, type Logger, type LogLevel } from "@soorma/sdk";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../../src/app.js";
import type { GatewayConfig } from "../../../src/config.js";

/** A real gateway listening on loopback, for SDK end-to-end tests. */
export interface SdkTestGateway {
  readonly app: FastifyInstance;
  readonly port: number;
  /** `ws://127.0.0.1:<port>`: what the SDK is given (the SDK appends the WebSocket path). */
  readonly url: string;
  /** Consumer groups as `GET /v1/admin/groups` reports them. */
  groups(): Promise<AdminGroup[]>;
  close(): Promise<void>;
}

/** The parts of the admin API's group listing the tests read. */
export interface AdminGroup {
  group: string;
  members: Array<{ agent_id: string; in_flight: number; topics: string[] }>;
  topics: Array<{ topic: string; pending: number | null }>;
}

/**
 * Start a gateway with `buildApp` on `port` (0 = a free one). `pullWaitMs` is short so closing the app does not
 * wait long for idle pulls.
 */
export async function startGateway(config: Partial<GatewayConfig>, port = 0): Promise<SdkTestGateway> {
  const app = await buildApp({ config, pullWaitMs: 100 });
  try {
    await app.listen({ port, host: "127.0.0.1" });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("gateway has no TCP address");
  return {
    app,
    port: address.port,
    url: `ws://127.0.0.1:${address.port}`,
    groups: async () => {
      const response = await app.inject({ method: "GET", url: "/v1/admin/groups" });
      return (response.json() as { groups: AdminGroup[] }).groups;
    },
    close: () => app.close(),
  };
}

/** A temporary data directory for the SQLite adapter; `remove()` deletes it. */
export async function tempDataDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "soorma-sdk-e2e-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A random name valid as topic, group and event-type word (`prefix-<hex>`). */
export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** SDK logger for tests: silent unless SOORMA_LOG_LEVEL asks for output while debugging. */
export function testLogger(): Logger {
  return createConsoleLogger((process.env.SOORMA_LOG_LEVEL as LogLevel | undefined) ?? "silent");
}

/** Reconnect timing that keeps restart tests short. */
export const FAST_RECONNECT = { initialDelayMs: 20, maxDelayMs: 200 };

/** Pending (stored, un-acked) count of `group`'s inbox for `topic`, as the admin API reports it. */
export async function pendingOf(
  gateway: SdkTestGateway,
  group: string,
  topic: string,
): Promise<number | null> {
  const entry = (await gateway.groups()).find((g) => g.group === group);
  return entry?.topics.find((t) => t.topic === topic)?.pending ?? null;
}
