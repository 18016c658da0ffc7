import {
  type ClientFrame,
  type DeliveryFrame,
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
import { unauthenticated } from "../auth/auth-errors.js";
import type { Authenticator } from "../auth/authenticator.js";
import { assertCanPublish, assertCanSubscribe, assertCanUseAgentName } from "../auth/authorize.js";
import type { Principal } from "../auth/principal.js";
import type { PublishReceipt } from "../broker/adapter.js";
import type { LimitsConfig } from "../limits/config.js";
import type { ConnectionCounter } from "../limits/connection-counter.js";
import { assertBelowLimit, grantedPrefetch } from "../limits/limit-errors.js";
import { closeCodeFor } from "./close-codes.js";
import { ConnectionGuard, type GuardedSocket } from "./connection-guard.js";
import type { Dispatcher } from "./dispatcher.js";
import { type ErrorContext, idsOf, peekIds } from "./frame-ids.js";
import type { CoreLogger } from "./logger.js";
import type { Member } from "./member.js";

/**
 * Frames a client may pipeline behind a `hello` whose credentials are still being checked (a JWKS fetch can
 * take a while). The socket is paused meanwhile, so only what was already read arrives; beyond this the client
 * is told to wait for `welcome`.
 */
const MAX_FRAMES_WHILE_AUTHENTICATING = 64;

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
  /** Checks the credentials of a `hello` that did not authenticate at upgrade. */
  readonly authenticator: Pick<Authenticator, "authenticate">;
  /** Open connections per platform tenant. */
  readonly connections: ConnectionCounter;
  readonly limits: LimitsConfig;
  /**
   * Store an event for `tenant` (its `platform_tenant_id` is overwritten). Rejects with a SoormaError
   * (`SOORMA_ERR_DRAINING`, `SOORMA_ERR_BROKER_UNAVAILABLE`).
   */
  publish(event: EventEnvelope, tenant: string): Promise<PublishReceipt>;
}

/** The socket under a session. */
export interface SessionTransport extends GuardedSocket {
  /** Send one text frame; silently dropped once the socket is closing. */
  send(text: string): void;
  /** Close the socket with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** Options of {@link Session}. */
export interface SessionOptions {
  readonly connectionId: string;
  readonly host: SessionHost;
  readonly transport: SessionTransport;
  /**
   * Who connected, when the upgrade request already said so (its `Authorization` header, or everybody in open
   * mode). Absent: the `hello` must carry `auth`.
   */
  readonly principal?: Principal | undefined;
}

type SessionState = "awaiting-hello" | "authenticating" | "open" | "closed";

/**
 * One WebSocket connection's protocol state machine: `hello` → `welcome`, then subscribe / unsubscribe /
 * publish / ack / nack / in_progress, turned into dispatcher and broker calls.
 *
 * Every frame passes the connection's rate limit and the size limit before it is decoded. `hello` establishes
 * the principal (unless the upgrade did), takes a connection slot of its tenant, checks the agent name and caps
 * the prefetch; from then on every subscribe and publish is checked against the principal's allow-lists and
 * scoped to its platform tenant. Bad input is answered with an `error` frame carrying its stable code (and the
 * `req_id` or `delivery_id` when known) and the connection stays usable. Fatal conditions (credentials refused
 * or expired, limits a client keeps breaking, no `hello` in time, a reader too slow) get a fatal `error` frame
 * and a close code from {@link closeCodeFor}.
 */
export class Session {
  readonly connectionId: string;
  private readonly host: SessionHost;
  private readonly transport: SessionTransport;
  private state: SessionState = "awaiting-hello";
  private principal: Principal | undefined;
  private member: Member | undefined;
  private readonly guard: ConnectionGuard;
  /** Frames that arrived while the `hello` was being authenticated, replayed after `welcome`. */
  private waiting: string[] = [];
  private pendingPublishes = 0;
  // subscribe/unsubscribe run one after another, so "subscribe X; unsubscribe X" ends unsubscribed.
  private control: Promise<void> = Promise.resolve();

  constructor(options: SessionOptions) {
    this.connectionId = options.connectionId;
    this.host = options.host;
    this.transport = options.transport;
    this.principal = options.principal;
    this.guard = new ConnectionGuard({
      limits: options.host.limits,
      connections: options.host.connections,
      socket: options.transport,
      onFatal: (error) => this.fail(error),
      onSlowConsumer: (slow) => this.slowConsumer(slow),
    });
  }

  /** Platform tenant of the connection, once known. */
  get tenant(): string | undefined {
    return this.principal?.tenant;
  }

  /** The member this connection became at `hello`, if it did. */
  get currentMember(): Member | undefined {
    return this.member;
  }

  /**
   * Start the clocks of a new connection: the hello timeout, and for a connection authenticated at upgrade its
   * connection slot and the expiry of its credentials. May close the connection at once (tenant at its
   * connection limit).
   */
  start(): void {
    this.guard.startHelloTimer();
    if (this.principal !== undefined) this.guard.claim(this.principal);
  }

  /**
   * Handle one incoming frame. Never throws.
   *
   * @param text - the frame's UTF-8 text
   * @param byteLength - its size on the wire, checked against `max_message_bytes`
   */
  receive(text: string, byteLength: number): void {
    if (this.state === "closed") return;
    // Before anything that costs CPU, decoding included.
    const admission = this.guard.admit();
    if (!admission.ok) {
      if (admission.close) this.fail(admission.error, peekIds(text));
      else this.sendError(admission.error, peekIds(text));
      return;
    }
    const { maxMessageBytes } = this.host.terms;
    if (byteLength > maxMessageBytes) {
      this.sendError(
        new ProtocolError(
          "SOORMA_ERR_MESSAGE_TOO_LARGE",
          `frame of ${byteLength} bytes exceeds max_message_bytes (${maxMessageBytes})`,
          { details: { size: byteLength, limit: maxMessageBytes } },
        ),
        peekIds(text),
      );
      return;
    }
    if (this.state === "authenticating") {
      this.hold(text);
      return;
    }
    this.handle(text);
  }

  /** Tell the client the gateway is shutting down and it has `deadlineMs` to finish in-flight work. */
  notifyDraining(deadlineMs: number): void {
    this.send({ type: "draining", deadline_ms: deadlineMs });
  }

  /** Close the socket (the transport reports back through {@link handleClosed}). */
  close(code: number, reason: string): void {
    this.transport.close(code, reason);
  }

  /**
   * The socket is gone, or the session ended it: stop every timer, give the connection slot back, and let the
   * member leave so its held deliveries go back to the broker. Idempotent.
   */
  handleClosed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.guard.release();
    this.waiting = [];
    if (this.member !== undefined) this.host.dispatcher.removeMember(this.member);
  }

  private handle(text: string): void {
    const decoded = decodeClientFrame(text);
    if (!decoded.ok) {
      const ids = idsOf(text);
      this.sendError(decoded.error, { reqId: decoded.reqId ?? ids.reqId, deliveryId: ids.deliveryId });
      return;
    }
    this.dispatch(decoded.frame);
  }

  private hold(text: string): void {
    if (this.waiting.length >= MAX_FRAMES_WHILE_AUTHENTICATING) {
      this.sendError(
        new ProtocolError(
          "SOORMA_ERR_HELLO_REQUIRED",
          "hello is still being authenticated; wait for welcome",
        ),
        peekIds(text),
      );
      return;
    }
    this.waiting.push(text);
  }

  private dispatch(frame: ClientFrame): void {
    if (frame.type === "hello") {
      this.hello(frame);
      return;
    }
    const context = contextOf(frame);
    const { member, principal } = this;
    if (this.state !== "open" || member === undefined || principal === undefined) {
      this.sendError(
        new ProtocolError("SOORMA_ERR_HELLO_REQUIRED", `send hello before ${frame.type}`),
        context,
      );
      return;
    }
    try {
      switch (frame.type) {
        case "subscribe":
          this.enqueueControl(() => this.subscribe(member, principal, frame));
          return;
        case "unsubscribe":
          this.enqueueControl(async () => this.unsubscribe(member, frame));
          return;
        case "publish":
          void this.publish(principal, frame);
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
    if (this.state !== "awaiting-hello") {
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
    const known = this.principal;
    if (known !== undefined) {
      // In open mode nobody presents anything that counts, so credentials in hello are ignored there.
      if (known.credential !== "dev" && presentsCredentials(frame)) {
        this.fail(
          unauthenticated(
            "credentials were already sent in the Authorization header; send them once",
            "ambiguous",
          ),
        );
        return;
      }
      this.join(frame, known);
      return;
    }
    this.state = "authenticating";
    // Frames behind the hello wait in the socket instead of in memory until the credentials are checked.
    this.guard.pauseReading("authenticating");
    this.host.authenticator.authenticate({ helloAuth: frame.auth }).then(
      (principal) => {
        if (this.state === "authenticating") this.authenticated(frame, principal);
      },
      (error: unknown) => {
        if (this.state === "authenticating") this.fail(error);
      },
    );
  }

  private authenticated(frame: HelloFrame, principal: Principal): void {
    this.principal = principal;
    if (!this.guard.claim(principal)) return;
    this.join(frame, principal);
    if (this.state !== "open") return;
    this.guard.resumeReading("authenticating");
    // Synchronously, before the resumed socket delivers anything newer: frames keep their order.
    for (const text of this.waiting.splice(0)) {
      if (this.state !== "open") return;
      this.handle(text);
    }
  }

  private join(frame: HelloFrame, principal: Principal): void {
    const group = frame.agent_name ?? frame.agent_id;
    try {
      assertCanUseAgentName(principal, group);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.guard.helloAccepted();
    const prefetch = grantedPrefetch(frame.prefetch, this.host.limits.maxPrefetch);
    this.member = this.host.dispatcher.addMember({
      connectionId: this.connectionId,
      agentId: frame.agent_id,
      group,
      tenant: principal.tenant,
      prefetch,
      send: (delivery) => this.deliver(delivery),
    });
    if (this.guard.isSlow) this.member.setPaused(true);
    this.state = "open";
    const { terms } = this.host;
    this.send({
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      connection_id: this.connectionId,
      agent_id: frame.agent_id,
      group,
      prefetch,
      lease_ms: terms.leaseMs,
      max_attempts: terms.maxAttempts,
      max_message_bytes: terms.maxMessageBytes,
      server_version: terms.serverVersion,
    });
    this.host.logger.debug(
      {
        connectionId: this.connectionId,
        tenant: principal.tenant,
        subject: principal.subject,
        credential: principal.credential,
        agentId: frame.agent_id,
        group,
        prefetch,
        client: frame.client,
      },
      "member joined",
    );
  }

  private async subscribe(member: Member, principal: Principal, frame: SubscribeFrame): Promise<void> {
    try {
      assertCanSubscribe(principal, frame.topic);
      // Subscribing a topic again only replaces its event types, so it does not count twice.
      if (!member.subscriptions.has(frame.topic)) {
        const max = this.host.limits.maxSubscriptionsPerConnection;
        assertBelowLimit("maxSubscriptionsPerConnection", member.subscriptions.size, max);
      }
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

  private async publish(principal: Principal, frame: PublishFrame): Promise<void> {
    try {
      assertCanPublish(principal, frame.event.topic);
      const max = this.host.limits.maxPendingPublishesPerConnection;
      assertBelowLimit("maxPendingPublishesPerConnection", this.pendingPublishes, max);
    } catch (error) {
      this.sendError(error, { reqId: frame.req_id });
      return;
    }
    this.pendingPublishes += 1;
    try {
      const receipt = await this.host.publish(frame.event, principal.tenant);
      this.send({
        type: "published",
        req_id: frame.req_id,
        event_id: receipt.eventId,
        duplicate: receipt.duplicate,
      });
    } catch (error) {
      this.sendError(error, { reqId: frame.req_id });
    } finally {
      this.pendingPublishes -= 1;
    }
  }

  private deliver(frame: DeliveryFrame): void {
    this.send(frame);
  }

  /**
   * The client does not read what it is sent (or reads again): while slow it gets no new deliveries, so the
   * backlog stays in the broker instead of gateway memory.
   */
  private slowConsumer(slow: boolean): void {
    this.member?.setPaused(slow);
    this.host.logger.info(
      { connectionId: this.connectionId, tenant: this.tenant, bufferedBytes: this.transport.bufferedBytes },
      slow
        ? "slow consumer: deliveries and reading paused until the client reads"
        : "slow consumer recovered",
    );
  }

  private enqueueControl(task: () => Promise<void>): void {
    this.control = this.control.then(task, task);
  }

  /** Send a fatal error frame, end the session and close the socket with the error's close code. */
  private fail(error: unknown, context: ErrorContext = {}): void {
    if (this.state === "closed") return;
    const soorma = this.sendError(error, context, true);
    this.host.logger.info(
      {
        connectionId: this.connectionId,
        tenant: this.tenant,
        subject: this.principal?.subject,
        code: soorma.code,
        details: soorma.details,
      },
      "connection closed by the gateway",
    );
    this.handleClosed();
    this.transport.close(closeCodeFor(soorma.code), soorma.code);
  }

  private sendError(error: unknown, context: ErrorContext = {}, fatal = false): SoormaError {
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
      fatal,
    });
    return soorma;
  }

  private send(frame: ServerFrameInput): void {
    if (this.state === "closed") return;
    this.transport.send(encodeFrame(frame));
    this.guard.afterSend();
  }
}

function contextOf(frame: Exclude<ClientFrame, HelloFrame>): ErrorContext {
  return "req_id" in frame ? { reqId: frame.req_id } : { deliveryId: frame.delivery_id };
}

/** True when a `hello` carries a credential (an empty `auth` object carries none). */
function presentsCredentials(frame: HelloFrame): boolean {
  return frame.auth?.api_key !== undefined || frame.auth?.token !== undefined;
}
