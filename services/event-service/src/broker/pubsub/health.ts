import type { AdapterStatus } from "../adapter.js";
import { GrpcStatus, grpcCodeOf } from "./errors.js";

/**
 * Connection health of the Pub/Sub adapter, derived from the calls it makes: gRPC reconnects by itself, so
 * "reconnecting" means "the last calls could not reach Pub/Sub" and ends with the next call that does.
 */
export class PubSubHealth {
  #status: AdapterStatus = { state: "connecting" };

  /** Current status, as `BrokerAdapter.status()` reports it. */
  get status(): AdapterStatus {
    return this.#status;
  }

  /** True once `close()` started. */
  get closed(): boolean {
    return this.#status.state === "closed";
  }

  /** A call reached Pub/Sub (whatever it answered). */
  reached(): void {
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
