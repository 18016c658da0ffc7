import {
  type ClientFrameInput,
  decodeServerFrame,
  type EventEnvelopeInput,
  PROTOCOL_VERSION,
  type PublishedFrame,
  type ServerFrame,
  type SubscribedFrame,
  type WelcomeFrame,
  WS_PATH,
} from "@soorma/common";
import { deferred, withDeadline } from "@soorma/test-utils";
import WebSocket from "ws";

/** Default deadline of every wait of a {@link FrameClient}. */
export const FRAME_TIMEOUT_MS = 5000;

let requestCounter = 0;

/** A fresh request id. */
export function nextReqId(): string {
  requestCounter += 1;
  return `r-${requestCounter}`;
}

/** Fields of a `hello` a test may set; the rest is filled in. */
export interface HelloFields {
  agent_id?: string;
  agent_name?: string;
  prefetch?: number;
  /** Credentials in the hello instead of the upgrade's `Authorization` header. */
  auth?: { api_key?: string; token?: string };
}

/** How a socket closed. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

type FrameOf<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

interface Waiter {
  readonly match: (frame: ServerFrame) => boolean;
  readonly resolve: (frame: ServerFrame) => void;
}

/**
 * A raw WebSocket client speaking protocol frames, for gateway tests: it keeps every server frame in arrival
 * order and lets a test take the next frame that matches, with a deadline.
 */
export class FrameClient {
  /** Every frame received, in order. */
  readonly received: ServerFrame[] = [];
  /** Resolves when the socket closed. */
  readonly closed: Promise<CloseInfo>;
  private readonly unread: ServerFrame[] = [];
  private readonly waiters = new Set<Waiter>();

  private constructor(readonly socket: WebSocket) {
    const closed = deferred<CloseInfo>();
    this.closed = closed.promise;
    socket.on("message", (data) => {
      const decoded = decodeServerFrame(String(data));
      if (!decoded.ok) throw new Error(`server sent an invalid frame: ${String(data)}`);
      this.accept(decoded.frame);
    });
    socket.on("close", (code, reason) => closed.resolve({ code, reason: reason.toString() }));
  }

  /** Open a connection to `baseUrl` (`ws://host:port`) on the protocol path (plus `query`, e.g. `?a=b`). */
  static async connect(
    baseUrl: string,
    options: WebSocket.ClientOptions = {},
    query = "",
  ): Promise<FrameClient> {
    const socket = new WebSocket(`${baseUrl}${WS_PATH}${query}`, options);
    const client = new FrameClient(socket);
    const opened = new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`upgrade refused with HTTP ${response.statusCode}`)),
      );
    });
    await withDeadline(opened, FRAME_TIMEOUT_MS, `connect to ${baseUrl}`);
    return client;
  }

  /** Connect (with `options`, e.g. an `Authorization` header) and say hello; resolves with the client and the welcome. */
  static async open(
    baseUrl: string,
    hello: HelloFields = {},
    options: WebSocket.ClientOptions = {},
  ): Promise<{ client: FrameClient; welcome: WelcomeFrame }> {
    const client = await FrameClient.connect(baseUrl, options);
    const welcome = await client.hello(hello);
    return { client, welcome };
  }

  /** Send a frame object, or raw text as is. */
  send(frame: ClientFrameInput | Record<string, unknown> | string): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Say hello and wait for the welcome. */
  async hello(fields: HelloFields = {}): Promise<WelcomeFrame> {
    this.sendHello(fields);
    return this.next("welcome");
  }

  /** Send a hello without waiting for the answer (for hellos the gateway is expected to refuse). */
  sendHello(fields: HelloFields = {}): void {
    this.send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      agent_id: fields.agent_id ?? `agent-${Math.random().toString(16).slice(2, 10)}`,
      ...(fields.agent_name === undefined ? {} : { agent_name: fields.agent_name }),
      ...(fields.prefetch === undefined ? {} : { prefetch: fields.prefetch }),
      ...(fields.auth === undefined ? {} : { auth: fields.auth }),
    });
  }

  /** Subscribe and wait for `subscribed`. */
  async subscribe(topic: string, eventTypes: string[] = ["*"]): Promise<SubscribedFrame> {
    const reqId = nextReqId();
    this.send({ type: "subscribe", req_id: reqId, topic, event_types: eventTypes });
    return this.reply(reqId, "subscribed");
  }

  /** Publish and wait for `published`. */
  async publish(event: EventEnvelopeInput): Promise<PublishedFrame> {
    const reqId = nextReqId();
    this.send({ type: "publish", req_id: reqId, event });
    return this.reply(reqId, "published");
  }

  /** Wait for the reply to `reqId`; rejects with the error frame's code when the server answered with one. */
  async reply<T extends "subscribed" | "unsubscribed" | "published">(
    reqId: string,
    type: T,
  ): Promise<FrameOf<T>> {
    const frame = await this.next(
      (f) => (f.type === type || f.type === "error") && "req_id" in f && f.req_id === reqId,
    );
    if (frame.type === "error") throw new Error(`${frame.code}: ${frame.message}`);
    return frame as FrameOf<T>;
  }

  /** Take the next unread frame of `type` (or matching a predicate), waiting up to `timeoutMs`. */
  next<T extends ServerFrame["type"]>(type: T, timeoutMs?: number): Promise<FrameOf<T>>;
  next(match: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  next(
    selector: ServerFrame["type"] | ((frame: ServerFrame) => boolean),
    timeoutMs = FRAME_TIMEOUT_MS,
  ): Promise<ServerFrame> {
    const match = typeof selector === "string" ? (f: ServerFrame) => f.type === selector : selector;
    const index = this.unread.findIndex(match);
    if (index !== -1) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    const waiting = deferred<ServerFrame>();
    const waiter: Waiter = { match, resolve: waiting.resolve };
    this.waiters.add(waiter);
    const label = typeof selector === "string" ? selector : "a matching frame";
    return withDeadline(waiting.promise, timeoutMs, `waiting for ${label}`).finally(() =>
      this.waiters.delete(waiter),
    );
  }

  /** True when a frame of `type` arrived and was not taken yet. */
  hasUnread(type: ServerFrame["type"]): boolean {
    return this.unread.some((frame) => frame.type === type);
  }

  /** Take the next `n` deliveries. */
  async deliveries(n: number, timeoutMs = FRAME_TIMEOUT_MS): Promise<FrameOf<"delivery">[]> {
    const result: FrameOf<"delivery">[] = [];
    for (let i = 0; i < n; i++) result.push(await this.next("delivery", timeoutMs));
    return result;
  }

  /** Close the socket and wait until it is closed. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await withDeadline(this.closed, FRAME_TIMEOUT_MS, "socket close");
  }

  /** Drop the connection without a close handshake (for clients made unresponsive on purpose). */
  terminate(): void {
    this.socket.terminate();
  }

  private accept(frame: ServerFrame): void {
    this.received.push(frame);
    for (const waiter of this.waiters) {
      if (waiter.match(frame)) {
        this.waiters.delete(waiter);
        waiter.resolve(frame);
        return;
      }
    }
    this.unread.push(frame);
  }
}
