import { BrokerUnavailableError } from "@soorma/common";
import type { AdapterStatus } from "../adapter.js";

/**
 * Lifecycle state shared by the in-process adapters: `connecting` until `connect()` finished, `ready`, then
 * `closed`. `signal` aborts on close so parked pulls resolve at once.
 */
export class LocalLifecycle {
  readonly #name: string;
  readonly #closing = new AbortController();
  #status: AdapterStatus = { state: "connecting" };

  /** @param name adapter name used in error messages, e.g. "sqlite". */
  constructor(name: string) {
    this.#name = name;
  }

  /** Aborted once `close()` started. */
  get signal(): AbortSignal {
    return this.#closing.signal;
  }

  /** Current status, as `BrokerAdapter.status()` reports it. */
  get status(): AdapterStatus {
    return this.#status;
  }

  /** Mark the adapter ready (no-op once closing). */
  markReady(): void {
    if (!this.#closing.signal.aborted) this.#status = { state: "ready" };
  }

  /** Mark the adapter closed and wake every parked pull. */
  markClosed(): void {
    this.#status = { state: "closed" };
    this.#closing.abort();
  }

  /** Throw `BrokerUnavailableError` once the adapter is closed (a closed adapter cannot connect again). */
  assertNotClosed(): void {
    if (this.#status.state === "closed") {
      throw new BrokerUnavailableError(`${this.#name} adapter is closed`);
    }
  }

  /** Throw `BrokerUnavailableError` unless the adapter is connected and not closed. */
  assertReady(): void {
    if (this.#status.state === "ready") return;
    throw new BrokerUnavailableError(
      this.#status.state === "closed"
        ? `${this.#name} adapter is closed`
        : `${this.#name} adapter is not connected; call connect() first`,
    );
  }
}
