import { randomBytes } from "node:crypto";
import type { DeliveryFrame, EventEnvelopeInput } from "@soorma/common";
import { waitFor } from "@soorma/test-utils";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/app.js";
import type { BrokerAdapter } from "../../src/broker/adapter.js";
import { createMemoryAdapter } from "../../src/broker/memory.js";
import type { GatewayConfigInput } from "../../src/config.js";
import type { FrameClient } from "./frame-client.js";

/** A gateway listening on a free loopback port, on a fresh memory adapter. */
export interface TestGateway {
  readonly app: FastifyInstance;
  readonly adapter: BrokerAdapter;
  /** `ws://127.0.0.1:<port>` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>` */
  readonly httpUrl: string;
  close(): Promise<void>;
}

/**
 * Start a gateway for one test (on a fresh memory adapter unless `adapter` is given, silent unless `logger` is
 * given); close it in `afterEach` / `finally`.
 */
export async function startGateway(
  config: GatewayConfigInput = {},
  adapter: BrokerAdapter = createMemoryAdapter(),
  logger: boolean | object = false,
): Promise<TestGateway> {
  const app = await buildApp({ config: { broker: "memory", ...config }, adapter, pullWaitMs: 200, logger });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("gateway has no TCP address");
  return {
    app,
    adapter,
    wsUrl: `ws://127.0.0.1:${address.port}`,
    httpUrl: `http://127.0.0.1:${address.port}`,
    close: () => app.close(),
  };
}

/** A random name valid as topic and as group (`prefix-<hex>`). */
export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A minimal valid envelope input. */
export function testEvent(
  topic: string,
  type = "test.happened",
  extra: Partial<EventEnvelopeInput> = {},
): EventEnvelopeInput {
  return { source: "gateway-test", type, topic, data: { n: 1 }, ...extra };
}

/**
 * Wait until one of `clients` received a delivery it has not taken yet, and take it. Unlike racing `next()`
 * calls, this leaves no pending waiter behind that would swallow a later frame.
 */
export async function firstDeliveryAmong(
  clients: readonly FrameClient[],
  timeoutMs = 5000,
): Promise<{ client: FrameClient; delivery: DeliveryFrame }> {
  const client = await waitFor(() => clients.find((c) => c.hasUnread("delivery")), {
    timeoutMs,
    message: "a delivery to one of the clients",
  });
  return { client, delivery: await client.next("delivery") };
}
