import { BrokerUnavailableError } from "@soorma/common";
import type { AdapterStatus } from "../adapter.js";

/**
 * The adapter's view of its NATS connection, as `/ready` reports it:
 * `connecting` → `ready` → (`reconnecting` → `ready`)* → `closed`.
 *
 * `transportUp` is narrower than `ready`: after a reconnect the socket is up (acks and pulls work) while the
 * adapter is still checking that the stream and consumers exist; only then is it `ready` again.
 */
export class ConnectionState {
  #status: AdapterStatus = { state: "connecting" };
  #transportUp = false;
  readonly #readyWaiters = new Set<() => void>();

  /** Current status. */
  get status(): AdapterStatus {
    return this.#status;
  }

  /** True while the socket to a server is up. */
  get transportUp(): boolean {
    return this.#transportUp;
  }

  /** True once the adapter was closed. */
  get closed(): boolean {
    return this.#status.state === "closed";
  }

  /** Connected and the stream and consumers are known to exist. */
  markReady(): void {
    if (this.closed) return;
    this.#transportUp = true;
    this.#status = { state: "ready" };
    this.#wakeWaiters();
  }

  /** The socket dropped; the client reconnects on its own. */
  markDisconnected(reason: string): void {
    if (this.closed) return;
    this.#transportUp = false;
    const since = this.#status.state === "reconnecting" ? this.#status.since : Date.now();
    this.#status = { state: "reconnecting", since, lastError: reason };
  }

  /** The socket is back; the stream and consumers are being checked. */
  markReconnected(): void {
    if (this.closed) return;
    this.#transportUp = true;
    const since = this.#status.state === "reconnecting" ? this.#status.since : Date.now();
    this.#status = { state: "reconnecting", since, lastError: "reconnected; checking stream and consumers" };
  }

  /** Remember the latest problem while not ready. */
  noteError(reason: string): void {
    if (this.#status.state === "reconnecting") this.#status = { ...this.#status, lastError: reason };
  }

  /**
   * Closed for good: no new work is taken. The socket stays usable (so consumers can give back what they hold)
   * until {@link markTransportDown}.
   */
  markClosed(): void {
    this.#status = { state: "closed" };
    this.#wakeWaiters();
  }

  /** The connection was closed on purpose. */
  markTransportDown(): void {
    this.#transportUp = false;
  }

  /**
   * Resolve once the adapter is `ready`, at once when it is. Rejects with `BrokerUnavailableError` when it is
   * closed or not ready within `timeoutMs` (e.g. the broker is still down).
   */
  async whenReady(timeoutMs: number): Promise<void> {
    const error = new BrokerUnavailableError(
      `NATS: not connected to a server within ${timeoutMs} ms; retry later`,
    );
    if (this.#status.state !== "ready" && !this.closed) {
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          this.#readyWaiters.delete(finish);
          resolve();
        };
        const timer = setTimeout(finish, timeoutMs);
        this.#readyWaiters.add(finish);
      });
    }
    if (this.closed) throw new BrokerUnavailableError("NATS adapter is closed");
    if (this.#status.state !== "ready") throw error;
  }

  #wakeWaiters(): void {
    for (const wake of [...this.#readyWaiters]) wake();
  }
}
