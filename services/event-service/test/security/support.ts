import { Writable } from "node:stream";
import { type ErrorFrame, type EventEnvelopeInput, WS_PATH } from "@soorma/common";
import { withDeadline } from "@soorma/test-utils";
import { expect } from "vitest";
import WebSocket from "ws";
import { generateApiKey, hashApiKey } from "../../src/auth/api-keys.js";
import type { Role } from "../../src/auth/principal.js";
import type { BrokerAdapter } from "../../src/broker/adapter.js";
import { createMemoryAdapter } from "../../src/broker/memory.js";
import type { GatewayConfigInput } from "../../src/config.js";
import { type CloseInfo, FRAME_TIMEOUT_MS, type FrameClient } from "../gateway/frame-client.js";
import { startGateway, type TestGateway } from "../gateway/harness.js";

/** One key of a test key file. */
export interface KeySpec {
  readonly id: string;
  readonly tenant: string;
  readonly role?: Role;
  readonly agent_names?: "*" | string[];
  readonly publish_topics?: "*" | string[];
  readonly subscribe_topics?: "*" | string[];
  readonly expires_at?: string;
}

/** Fresh random keys for `specs` and the inline key file (hashes only) that configures them. */
export function makeApiKeys(specs: readonly KeySpec[]): { keys: Record<string, string>; inline: string } {
  const keys: Record<string, string> = {};
  const entries = specs.map((spec) => {
    const key = generateApiKey();
    keys[spec.id] = key;
    return { ...spec, hash: hashApiKey(key) };
  });
  return { keys, inline: JSON.stringify({ keys: entries }) };
}

/** `{ Authorization: "Bearer <credential>" }`. */
export function bearer(credential: string): Record<string, string> {
  return { authorization: `Bearer ${credential}` };
}

/** A gateway with API keys configured, and the plain keys to present. */
export interface KeyedGateway extends TestGateway {
  /** Plain key per key id. */
  readonly keys: Record<string, string>;
  /** `POST /v1/events/publish` over real HTTP with `headers`; resolves with the status and JSON body. */
  publishHttp(
    event: EventEnvelopeInput,
    headers?: Record<string, string>,
    query?: string,
  ): Promise<HttpAnswer>;
  /** `GET /v1/admin/groups` over real HTTP. */
  adminGroups(headers?: Record<string, string>, query?: string): Promise<HttpAnswer>;
}

/** Status, JSON body and headers of one HTTP answer. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/** Start a memory-adapter gateway (unless `adapter` is given) secured with API keys made for `specs`. */
export async function startKeyedGateway(
  specs: readonly KeySpec[],
  config: GatewayConfigInput = {},
  adapter: BrokerAdapter = createMemoryAdapter(),
): Promise<KeyedGateway> {
  const { keys, inline } = makeApiKeys(specs);
  const gateway = await startGateway({ ...config, auth: { ...config.auth, apiKeys: inline } }, adapter);
  return withHttpHelpers(gateway, keys);
}

/** Add the HTTP helpers of {@link KeyedGateway} to a started gateway. */
export function withHttpHelpers(gateway: TestGateway, keys: Record<string, string> = {}): KeyedGateway {
  return {
    ...gateway,
    keys,
    publishHttp: (event, headers = {}, query = "") =>
      httpJson(`${gateway.httpUrl}/v1/events/publish${query}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ event }),
      }),
    adminGroups: (headers = {}, query = "") =>
      httpJson(`${gateway.httpUrl}/v1/admin/groups${query}`, { method: "GET", headers }),
  };
}

async function httpJson(url: string, init: RequestInit): Promise<HttpAnswer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(FRAME_TIMEOUT_MS) });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: response.headers,
  };
}

/** What a refused WebSocket upgrade answered. */
export interface RefusedUpgrade {
  readonly status: number;
  readonly body: { success?: boolean; error?: { code?: string; details?: { reason?: string } } };
  readonly wwwAuthenticate: string | undefined;
}

/**
 * Try an upgrade that should be refused; resolves with the HTTP answer, rejects if the socket opened.
 * `path` may carry a query string (`?api_key=…`).
 */
export async function refusedUpgrade(
  baseUrl: string,
  headers: Record<string, string> = {},
  path: string = WS_PATH,
): Promise<RefusedUpgrade> {
  const socket = new WebSocket(`${baseUrl}${path}`, { headers });
  const answer = new Promise<RefusedUpgrade>((resolve, reject) => {
    socket.once("open", () => {
      socket.terminate();
      reject(new Error("the upgrade was accepted"));
    });
    socket.once("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const header = response.headers["www-authenticate"];
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as RefusedUpgrade["body"],
          wwwAuthenticate: typeof header === "string" ? header : undefined,
        });
        socket.terminate();
      });
    });
    socket.once("error", (error) => reject(error));
  });
  return withDeadline(answer, FRAME_TIMEOUT_MS, "refused upgrade");
}

/**
 * Wait for the fatal error frame `code` and for the close that follows it with `closeCode`; resolves with both.
 */
export async function expectFatal(
  client: FrameClient,
  code: string,
  closeCode: number,
): Promise<{ frame: ErrorFrame; close: CloseInfo }> {
  const frame = (await client.next((f) => f.type === "error" && f.fatal)) as ErrorFrame;
  expect(frame).toMatchObject({ type: "error", code, fatal: true });
  const close = await withDeadline(client.closed, FRAME_TIMEOUT_MS, "close after a fatal error");
  expect(close.code).toBe(closeCode);
  return { frame, close };
}

/** JSON log lines written by a gateway, for tests that check what it logged. */
export interface LogCapture {
  /** Fastify's `logger` option that writes here. */
  readonly logger: object;
  readonly lines: Array<Record<string, unknown>>;
}

/** A pino destination that keeps every line (at `level` and above) in memory. */
export function captureLogs(level = "info"): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  let partial = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      partial += chunk.toString("utf8");
      const complete = partial.split("\n");
      partial = complete.pop() ?? "";
      for (const line of complete) if (line.trim() !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: { level, stream }, lines };
}

/**
 * The real `adapter` with some methods replaced (fault injection: a slow broker, a namespacing bug); every
 * other call goes to the real adapter unchanged.
 */
export function wrapAdapter(adapter: BrokerAdapter, overrides: Partial<BrokerAdapter>): BrokerAdapter {
  return {
    get kind() {
      return adapter.kind;
    },
    get capabilities() {
      return adapter.capabilities;
    },
    connect: () => adapter.connect(),
    close: () => adapter.close(),
    status: () => adapter.status(),
    publish: (event) => adapter.publish(event),
    ensureInbox: (key) => adapter.ensureInbox(key),
    openInbox: (key, options) => adapter.openInbox(key, options),
    listInboxes: (tenant) => adapter.listInboxes(tenant),
    [Symbol.asyncDispose]: () => adapter.close(),
    ...overrides,
  };
}
