import type { AdapterStatus } from "../adapter.js";
import { GrpcStatus, grpcCodeOf } from "./errors.js";

/**
 * Connection health of the Pub/Sub adapter, derived from the calls it makes: gRPC reconnects by itself, so
 * "reconnecting" means "the last calls could not reach Pub/Sub" and ends with the next call that does.
 */
export class PubSubHealth {
  #status: AdapterStatus = { state: "connecting" };
  #lastOutcomeAt = 0;

  /** Current status, as `BrokerAdapter.status()` reports it. */
  get status(): AdapterStatus {
    return this.#status;
  }

  /** When a call last succeeded or failed (ms since epoch); a probe is only needed when this is old. */
  get lastOutcomeAt(): number {
    return this.#lastOutcomeAt;
  }

  /** True once `close()` started. */
  get closed(): boolean {
    return this.#status.state === "closed";
  }

  /** A call reached Pub/Sub (whatever it answered). */
  reached(): void {
    this.#lastOutcomeAt = Date.now();
    if (this.#status.state === "connecting" || this.#status.state === "reconnecting") {
      this.#status = { state: "ready" };
    }
  }

  /** A call failed; only transport failures (unreachable, timed out) change the status. */
  failed(error: unknown): void {
    if (!isTransportFailure(error)) {
      this.reached();
      return;
    }
    this.#lastOutcomeAt = Date.now();
    const lastError = error instanceof Error ? error.message : String(error);
    if (this.#status.state === "ready") {
      this.#status = { state: "reconnecting", since: Date.now(), lastError };
    } else if (this.#status.state === "reconnecting") {
      this.#status = { ...this.#status, lastError };
    }
  }

  /** The adapter is closed for good. */
  markClosed(): void {
    this.#status = { state: "closed" };
  }
}

/** Errors that mean "could not talk to Pub/Sub", as opposed to an answer such as NOT_FOUND. */
export function isTransportFailure(error: unknown): boolean {
  const code = grpcCodeOf(error);
  return code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED;
}

/**
 * Checks reachability while the adapter is idle: every `intervalMs`, unless some other call reported an outcome
 * within that time, runs `check` and feeds its outcome into `health`. Without it an idle gateway would keep
 * reporting "ready" through an outage, since health is otherwise learned from the calls the adapter makes.
 */
export class ReachabilityProbe {
  readonly #health: PubSubHealth;
  readonly #intervalMs: number;
  readonly #check: () => Promise<unknown>;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  /**
   * @param health - where outcomes go
   * @param intervalMs - how often to consider a check; 0 disables the probe
   * @param check - one cheap call to Pub/Sub; any answer counts as reachable
   */
  constructor(health: PubSubHealth, intervalMs: number, check: () => Promise<unknown>) {
    this.#health = health;
    this.#intervalMs = intervalMs;
    this.#check = check;
  }

  /** Start checking (idempotent). The timer does not keep the process alive. */
  start(): void {
    if (this.#intervalMs === 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stop checking. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    if (this.#running || this.#health.closed) return;
    if (Date.now() - this.#health.lastOutcomeAt < this.#intervalMs) return;
    this.#running = true;
    this.#check()
      .then(
        () => this.#health.reached(),
        (error: unknown) => this.#health.failed(error),
      )
      .finally(() => {
        this.#running = false;
      });
  }
}
