import { randomUUID } from "node:crypto";
import { BrokerUnavailableError, type EventEnvelope, ProtocolError, SoormaError } from "@soorma/common";
import type { Authenticator } from "../auth/authenticator.js";
import type { Principal } from "../auth/principal.js";
import { stampPlatformTenant } from "../auth/tenancy.js";
import type { BrokerAdapter, PublishReceipt } from "../broker/adapter.js";
import type { GatewayConfig } from "../config.js";
import type { LimitsConfig } from "../limits/config.js";
import { type ConnectionCounter, createConnectionCounter } from "../limits/connection-counter.js";
import { CLOSE_CODES } from "./close-codes.js";
import { Dispatcher } from "./dispatcher.js";
import type { CoreLogger } from "./logger.js";
import { Session, type SessionHost, type SessionTerms, type SessionTransport } from "./session.js";

/** WebSocket close code sent to members when the gateway shuts down ("going away"). */
export const CLOSE_GOING_AWAY = CLOSE_CODES.goingAway;

/** Options of {@link Gateway}. */
export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** A connected adapter. The gateway never closes it; the broker plugin does. */
  readonly adapter: BrokerAdapter;
  /** Turns credentials into principals (built from `config.auth` at start). */
  readonly authenticator: Authenticator;
  readonly logger: CoreLogger;
  /** Reported in `welcome`. */
  readonly serverVersion: string;
  /** Longest wait of one idle pull (see `InboxPump`). @default 1000 */
  readonly pullWaitMs?: number;
}

/** Options of {@link Gateway.drain}. */
export interface DrainOptions {
  /** How long to wait for in-flight deliveries to settle. @default config.drainTimeoutMs */
  readonly timeoutMs?: number;
}

/**
 * The gateway's runtime, decorated on the Fastify instance as `app.soorma`: the dispatcher, the open sessions,
 * publishing on behalf of clients, and the graceful drain.
 */
export class Gateway implements SessionHost {
  readonly config: GatewayConfig;
  readonly adapter: BrokerAdapter;
  readonly dispatcher: Dispatcher;
  readonly logger: CoreLogger;
  readonly terms: SessionTerms;
  readonly authenticator: Authenticator;
  readonly limits: LimitsConfig;
  /** Open WebSocket connections per platform tenant. */
  readonly connections: ConnectionCounter;
  /** Open WebSocket sessions. */
  readonly sessions = new Set<Session>();
  private draining = false;
  private drained: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    this.config = options.config;
    this.adapter = options.adapter;
    this.logger = options.logger;
    this.authenticator = options.authenticator;
    this.limits = options.config.limits;
    this.connections = createConnectionCounter(options.config.limits);
    this.terms = {
      leaseMs: options.config.leaseMs,
      maxAttempts: options.config.maxAttempts,
      maxMessageBytes: options.config.maxMessageBytes,
      serverVersion: options.serverVersion,
    };
    this.dispatcher = new Dispatcher({
      adapter: options.adapter,
      logger: options.logger,
      leaseMs: options.config.leaseMs,
      maxAttempts: options.config.maxAttempts,
      retryBaseMs: options.config.retryBaseMs,
      retryMaxMs: options.config.retryMaxMs,
      pullWaitMs: options.pullWaitMs,
    });
  }

  /** True once a drain started: publishes, subscriptions and WebSocket upgrades are refused. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Store `event` for `tenant`: `platform_tenant_id` is always replaced by the caller's platform tenant.
   * Resolves once the broker stored it.
   *
   * @throws ProtocolError `SOORMA_ERR_DRAINING` while draining
   * @throws BrokerUnavailableError when the broker did not store it
   */
  async publish(event: EventEnvelope, tenant: string): Promise<PublishReceipt> {
    if (this.draining) throw drainingError();
    try {
      return await this.adapter.publish(stampPlatformTenant(event, { tenant }));
    } catch (error) {
      throw error instanceof SoormaError
        ? error
        : new BrokerUnavailableError("the broker did not store the event", { cause: error });
    }
  }

  /**
   * Create and start the session of a new WebSocket connection; report its socket's close with
   * {@link closeSession}. `principal` is who the upgrade request authenticated as (always set in open mode);
   * without it the connection's `hello` must carry credentials.
   */
  openSession(transport: SessionTransport, principal?: Principal): Session {
    const session = new Session({ connectionId: randomUUID(), host: this, transport, principal });
    this.sessions.add(session);
    session.start();
    return session;
  }

  /** The socket of `session` closed. */
  closeSession(session: Session): void {
    session.handleClosed();
    this.sessions.delete(session);
  }

  /**
   * Graceful drain: refuse new work (`SOORMA_ERR_DRAINING`), send `draining` to every connection, stop the pumps,
   * wait up to `timeoutMs` for in-flight deliveries to be settled, hand the rest back to the broker (nack without
   * delay: nothing is lost), close every inbox consumer and every connection. The adapter stays open (the broker
   * plugin closes it in `onClose`). Idempotent: later calls return the first drain.
   */
  drain(options: DrainOptions = {}): Promise<void> {
    this.drained ??= this.runDrain(options.timeoutMs ?? this.config.drainTimeoutMs);
    return this.drained;
  }

  private async runDrain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.logger.info({ connections: this.sessions.size, timeoutMs }, "draining");
    for (const session of this.sessions) session.notifyDraining(timeoutMs);
    await this.dispatcher.stopPulling();
    const settled = await this.dispatcher.whenIdle(timeoutMs);
    if (!settled) {
      this.logger.warn(
        { inFlight: this.dispatcher.inFlight },
        "drain deadline passed; un-acked deliveries go back to the broker",
      );
    }
    await this.dispatcher.close();
    for (const session of [...this.sessions]) session.close(CLOSE_GOING_AWAY, "server shutting down");
    this.logger.info({}, "drained");
  }
}

function drainingError(): ProtocolError {
  return new ProtocolError("SOORMA_ERR_DRAINING", "the server is shutting down and takes no new work");
}
