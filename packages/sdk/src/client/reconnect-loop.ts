import type { ServerFrame, SoormaError } from "@soorma/common";
import { backoffDelay } from "./backoff.js";
import { Connection, type ConnectionOutcome } from "./connection.js";
import { helloFrame, upgradeHeaders } from "./handshake.js";
import type { ResolvedClientOptions } from "./options.js";
import { RequestTracker, type TrackOptions } from "./request-tracker.js";

/** Ping interval that detects a gateway that vanished without closing the socket. */
const KEEPALIVE_INTERVAL_MS = 15_000;

/** Parameters of a {@link ReconnectLoop}. */
export interface ReconnectLoopParams {
  options: ResolvedClientOptions;
  /** A frame arrived on the current connection. */
  onFrame(connection: Connection, frame: ServerFrame): void;
  /**
   * The current connection ended (it is no longer {@link ReconnectLoop.connection}). The owner decides whether to
   * {@link ReconnectLoop.retryLater} or to stop.
   */
  onClose(outcome: ConnectionOutcome): void;
  /** Every caller of {@link ReconnectLoop.waitForWelcome} gave up before the first welcome; the loop stopped. */
  onAbandoned(): void;
}

/**
 * Keeps one connection to the gateway while running: opens it with fresh credentials and a `hello`, and after a
 * failure opens the next one after an exponential backoff with jitter. Only the current connection reports to
 * the owner; one that was replaced or dropped may still close later, and is ignored then. It also holds the
 * callers waiting for a `welcome` (connect()), since whether anyone still waits decides whether to keep trying.
 */
export class ReconnectLoop {
  readonly #params: ReconnectLoopParams;
  /** Callers of connect() waiting for a `welcome`. */
  readonly #welcomeWaiters = new RequestTracker();
  #connection: Connection | undefined;
  #connectionSeq = 0;
  /** Failed connection attempts since the last `welcome`; drives the backoff. */
  #failedAttempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** True from start() until stop(): the loop keeps (re)connecting. */
  #running = false;
  #everWelcomed = false;

  constructor(params: ReconnectLoopParams) {
    this.#params = params;
  }

  /** The current connection, welcomed or not. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** True while the loop keeps (re)connecting. */
  get running(): boolean {
    return this.#running;
  }

  /** True once any connection was welcomed: later connections are reconnects. */
  get everWelcomed(): boolean {
    return this.#everWelcomed;
  }

  /**
   * Resolve at the next `welcome`. A caller that gives up (timeout, abort) before the first welcome ever stops
   * the loop when nobody else waits: nobody wants the attempts any more.
   */
  waitForWelcome(id: string, options: Omit<TrackOptions, "onCancel">): Promise<void> {
    return this.#welcomeWaiters.track<void>(id, { ...options, onCancel: () => this.#stopIfNobodyWaits() });
  }

  /**
   * Start connecting. `announce` runs once the loop counts as running and before the first attempt, so status
   * listeners it notifies see the client as started.
   */
  start(announce: () => void): void {
    this.#running = true;
    announce();
    void this.#open();
  }

  /** The current connection was welcomed: the next failure starts the backoff from the beginning. */
  welcomed(): void {
    this.#failedAttempts = 0;
    this.#everWelcomed = true;
  }

  /** Settle every caller of {@link waitForWelcome}; called once the owner has taken the welcome in. */
  resolveWelcomeWaiters(): void {
    this.#welcomeWaiters.resolveAll(undefined);
  }

  /** Open the next connection after the backoff delay; ignored once stopped. */
  retryLater(): void {
    if (!this.#running) return;
    this.#failedAttempts += 1;
    const delay = backoffDelay(this.#failedAttempts, this.#params.options.reconnect);
    this.#params.options.logger.debug("reconnect scheduled", {
      attempt: this.#failedAttempts,
      delay_ms: delay,
    });
    this.#retryTimer = setTimeout(() => void this.#open(), delay);
  }

  /**
   * Stop reconnecting and fail the callers waiting for a welcome with `error`; the current connection is left to
   * the owner ({@link detach}).
   */
  stop(error: SoormaError): void {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#welcomeWaiters.rejectAll(error);
  }

  /** Take the current connection away from the loop (its close is no longer reported) and return it. */
  detach(): Connection | undefined {
    const connection = this.#connection;
    this.#connection = undefined;
    return connection;
  }

  /** A connect() that gave up before the first welcome stops the attempts it started: nobody wants them. */
  #stopIfNobodyWaits(): void {
    if (this.#everWelcomed || this.#welcomeWaiters.size > 0 || !this.#running) return;
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#connection?.terminate();
    this.#connection = undefined;
    this.#failedAttempts = 0;
    this.#params.onAbandoned();
  }

  async #open(): Promise<void> {
    const { options, onFrame, onClose } = this.#params;
    const log = options.logger;
    this.#retryTimer = undefined;
    let headers: Record<string, string>;
    try {
      headers = await upgradeHeaders(options.auth);
    } catch (error) {
      log.warn("could not obtain an auth token; retrying", { error });
      this.retryLater();
      return;
    }
    // Stopped while the token was fetched, or a concurrent attempt got there first.
    if (!this.#running || this.#connection !== undefined) return;
    const seq = ++this.#connectionSeq;
    log.debug("connecting", { url: options.url, connection: seq });
    const connection = Connection.open({
      url: options.url,
      seq,
      headers,
      hello: helloFrame(options),
      welcomeTimeoutMs: options.requestTimeoutMs,
      keepaliveMs: KEEPALIVE_INTERVAL_MS,
      logger: log,
      onFrame: (frame) => {
        if (this.#connection === connection) onFrame(connection, frame);
      },
      onClose: (outcome) => {
        if (this.#connection !== connection) return;
        this.#connection = undefined;
        onClose(outcome);
      },
    });
    this.#connection = connection;
  }
}
