import {
  type ClientFrame,
  decodeClientFrame,
  type EventEnvelope,
  encodeFrame,
  type HelloFrame,
  PROTOCOL_VERSION,
  ProtocolError,
  type PublishFrame,
  type ServerFrameInput,
  SoormaError,
  type SubscribeFrame,
  type UnsubscribeFrame,
} from "@soorma/common";
import type { PublishReceipt } from "../broker/adapter.js";
import type { Dispatcher } from "./dispatcher.js";
import type { CoreLogger } from "./logger.js";
import type { Member } from "./member.js";

/** Longest request or delivery id echoed back from a frame that failed to decode. */
const MAX_ECHOED_ID_LENGTH = 128;

/** The terms a session announces in `welcome`. */
export interface SessionTerms {
  readonly leaseMs: number;
  readonly maxAttempts: number;
  readonly maxMessageBytes: number;
  readonly serverVersion: string;
}

/** What a session needs from the gateway around it. */
export interface SessionHost {
  readonly dispatcher: Dispatcher;
  readonly logger: CoreLogger;
  readonly terms: SessionTerms;
  /** True while the gateway drains: no new work is taken. */
  readonly isDraining: boolean;
  /**
   * Store an event for `tenant` (its `platform_tenant_id` is overwritten). Rejects with a SoormaError
   * (`SOORMA_ERR_DRAINING`, `SOORMA_ERR_BROKER_UNAVAILABLE`).
   */
  publish(event: EventEnvelope, tenant: string): Promise<PublishReceipt>;
}

/** The socket under a session. */
export interface SessionTransport {
  /** Send one text frame; silently dropped once the socket is closing. */
  send(text: string): void;
  /** Close the socket with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** Options of {@link Session}. */
export interface SessionOptions {
  readonly connectionId: string;
  /** Platform tenant of the connection (from credentials, else the configured default). */
  readonly tenant: string;
  readonly host: SessionHost;
  readonly transport: SessionTransport;
}

type SessionState = "awaiting-hello" | "open" | "closed";

/** Ids to echo in an error frame so the client can tell which request failed. */
interface ErrorContext {
  reqId?: string;
  deliveryId?: string;
}

/**
 * One WebSocket connection's protocol state machine: `hello` → `welcome`, then subscribe / unsubscribe /
 * publish / ack / nack / in_progress, turned into dispatcher and broker calls.
 *
 * Every bad input is answered with an `error` frame carrying its stable code (and the `req_id` or `delivery_id`
 * when known); the connection stays usable and nothing it had accepted is dropped.
 */
export class Session {
  readonly connectionId: string;
  readonly tenant: string;
  private readonly host: SessionHost;
  private readonly transport: SessionTransport;
  private state: SessionState = "awaiting-hello";
  private member: Member | undefined;
  // subscribe/unsubscribe run one after another, so "subscribe X; unsubscribe X" ends unsubscribed.
  private control: Promise<void> = Promise.resolve();

  constructor(options: SessionOptions) {
    this.connectionId = options.connectionId;
    this.tenant = options.tenant;
    this.host = options.host;
    this.transport = options.transport;
  }

  /** The member this connection became at `hello`, if it did. */
  get currentMember(): Member | undefined {
    return this.member;
  }

  /**
   * Handle one incoming frame. Never throws.
   *
   * @param text - the frame's UTF-8 text
   * @param byteLength - its size on the wire, checked against `max_message_bytes`
   */
  receive(text: string, byteLength: number): void {
    if (this.state === "closed") return;
    if (byteLength > this.host.terms.maxMessageBytes) {
      this.sendError(
        new ProtocolError(
          "SOORMA_ERR_MESSAGE_TOO_LARGE",
          `frame of ${byteLength} bytes exceeds max_message_bytes (${this.host.terms.maxMessageBytes})`,
          { details: { size: byteLength, limit: this.host.terms.maxMessageBytes } },
        ),
        idsOf(text),
      );
      return;
    }
    const decoded = decodeClientFrame(text);
    if (!decoded.ok) {
      const ids = idsOf(text);
      this.sendError(decoded.error, { reqId: decoded.reqId ?? ids.reqId, deliveryId: ids.deliveryId });
      return;
    }
    this.dispatch(decoded.frame);
  }

  /** Tell the client the gateway is shutting down and it has `deadlineMs` to finish in-flight work. */
  notifyDraining(deadlineMs: number): void {
    this.send({ type: "draining", deadline_ms: deadlineMs });
  }

  /** Close the socket (the transport reports back through {@link handleClosed}). */
  close(code: number, reason: string): void {
    this.transport.close(code, reason);
  }

  /** The socket is gone: the member leaves and its held deliveries go back to the broker. Idempotent. */
  handleClosed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.member !== undefined) this.host.dispatcher.removeMember(this.member);
  }

  private dispatch(frame: ClientFrame): void {
    if (frame.type === "hello") {
      this.hello(frame);
      return;
    }
    const context = contextOf(frame);
    const member = this.member;
    if (this.state !== "open" || member === undefined) {
      this.sendError(
        new ProtocolError("SOORMA_ERR_HELLO_REQUIRED", `send hello before ${frame.type}`),
        context,
      );
      return;
    }
    try {
      switch (frame.type) {
        case "subscribe":
          this.enqueueControl(() => this.subscribe(member, frame));
          return;
        case "unsubscribe":
          this.enqueueControl(async () => this.unsubscribe(member, frame));
          return;
        case "publish":
          void this.publish(frame);
          return;
        case "ack":
          this.host.dispatcher.ack(member, frame.delivery_id);
          return;
        case "nack":
          this.host.dispatcher.nack(member, frame.delivery_id, {
            delayMs: frame.delay_ms,
            error: frame.error,
          });
          return;
        case "in_progress":
          this.host.dispatcher.renew(member, frame.delivery_id);
          return;
      }
    } catch (error) {
      this.sendError(error, context);
    }
  }

  private hello(frame: HelloFrame): void {
    if (this.state === "open") {
      this.sendError(
        new ProtocolError("SOORMA_ERR_HELLO_REPEATED", "hello was already sent on this connection"),
      );
      return;
    }
    if (frame.protocol !== PROTOCOL_VERSION) {
      // Not fatal: the client may say hello again with a version this server speaks.
      this.sendError(
        new ProtocolError(
          "SOORMA_ERR_PROTOCOL_VERSION",
          `protocol ${frame.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`,
          { details: { supported: [PROTOCOL_VERSION] } },
        ),
      );
      return;
    }
    const group = frame.agent_name ?? frame.agent_id;
    this.member = this.host.dispatcher.addMember({
      connectionId: this.connectionId,
      agentId: frame.agent_id,
      group,
      tenant: this.tenant,
      prefetch: frame.prefetch,
      send: (delivery) => this.send(delivery),
    });
    this.state = "open";
    const { terms } = this.host;
    this.send({
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      connection_id: this.connectionId,
      agent_id: frame.agent_id,
      group,
      prefetch: frame.prefetch,
      lease_ms: terms.leaseMs,
      max_attempts: terms.maxAttempts,
      max_message_bytes: terms.maxMessageBytes,
      server_version: terms.serverVersion,
    });
    this.host.logger.debug(
      { connectionId: this.connectionId, agentId: frame.agent_id, group, client: frame.client },
      "member joined",
    );
  }

  private async subscribe(member: Member, frame: SubscribeFrame): Promise<void> {
    try {
      await this.host.dispatcher.subscribe(member, frame.topic, frame.event_types);
      this.send({ type: "subscribed", req_id: frame.req_id, topic: frame.topic, group: member.group });
    } catch (error) {
      this.sendError(error, { reqId: frame.req_id });
    }
  }

  private unsubscribe(member: Member, frame: UnsubscribeFrame): void {
    try {
      this.host.dispatcher.unsubscribe(member, frame.topic);
      this.send({ type: "unsubscribed", req_id: frame.req_id, topic: frame.topic });
    } catch (error) {
      this.sendError(error, { reqId: frame.req_id });
    }
  }

  private async publish(frame: PublishFrame): Promise<void> {
    try {
      const receipt = await this.host.publish(frame.event, this.tenant);
      this.send({
        type: "published",
        req_id: frame.req_id,
        event_id: receipt.eventId,
        duplicate: receipt.duplicate,
      });
    } catch (error) {
      this.sendError(error, { reqId: frame.req_id });
    }
  }

  private enqueueControl(task: () => Promise<void>): void {
    this.control = this.control.then(task, task);
  }

  private sendError(error: unknown, context: ErrorContext = {}): void {
    const soorma =
      error instanceof SoormaError
        ? error
        : new SoormaError("SOORMA_ERR_INTERNAL", "internal error; the request may be retried", {
            cause: error,
          });
    if (!(error instanceof SoormaError)) {
      this.host.logger.error(
        { connectionId: this.connectionId, err: error },
        "unexpected error in a session",
      );
    }
    this.send({
      type: "error",
      code: soorma.code,
      message: soorma.message,
      ...(context.reqId === undefined ? {} : { req_id: context.reqId }),
      ...(context.deliveryId === undefined ? {} : { delivery_id: context.deliveryId }),
      ...(soorma.details === undefined ? {} : { details: soorma.details }),
      fatal: false,
    });
  }

  private send(frame: ServerFrameInput): void {
    if (this.state === "closed") return;
    this.transport.send(encodeFrame(frame));
  }
}

function contextOf(frame: Exclude<ClientFrame, HelloFrame>): ErrorContext {
  return "req_id" in frame ? { reqId: frame.req_id } : { deliveryId: frame.delivery_id };
}

/** Best-effort `req_id` / `delivery_id` of a frame that failed to decode or was too large. */
function idsOf(text: string): ErrorContext {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof raw !== "object" || raw === null) return {};
  const record = raw as Record<string, unknown>;
  return { reqId: shortString(record.req_id), deliveryId: shortString(record.delivery_id) };
}

function shortString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ECHOED_ID_LENGTH
    ? value
    : undefined;
}
