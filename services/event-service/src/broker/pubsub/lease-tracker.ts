/** Longest ack deadline Pub/Sub accepts, in seconds: the cap of leases and nack delays. */
export const MAX_ACK_DEADLINE_SECONDS = 600;

/** Milliseconds as a Pub/Sub ack deadline: whole seconds rounded up, within [min, 600]. */
export function deadlineSeconds(ms: number, min: number): number {
  return Math.min(MAX_ACK_DEADLINE_SECONDS, Math.max(min, Math.ceil(Math.max(0, ms) / 1000)));
}

/** One pulled message as the tracker sees it. */
export interface TrackedLease {
  /** Until when Pub/Sub keeps the message leased to this consumer (ms since epoch); renewals move it. */
  leaseUntil: number;
}

/**
 * Counts the messages a consumer holds un-settled, for its `maxInFlight` bound. A message stops counting when
 * it is settled or when its lease runs out (Pub/Sub then hands it to someone else, whatever this process does),
 * so a message the core never settles cannot block the consumer for good.
 */
export class LeaseTracker {
  readonly #leases = new Set<TrackedLease>();
  readonly #waiters = new Set<() => void>();

  /** Start counting a message leased until `leaseUntil`. */
  track(leaseUntil: number): TrackedLease {
    const lease: TrackedLease = { leaseUntil };
    this.#leases.add(lease);
    return lease;
  }

  /** Stop counting `lease` (acked or nacked) and wake whoever waits for room. */
  settle(lease: TrackedLease): void {
    this.#leases.delete(lease);
    this.wakeAll();
  }

  /** Messages held whose lease has not run out. */
  inFlight(now = Date.now()): number {
    for (const lease of this.#leases) if (lease.leaseUntil <= now) this.#leases.delete(lease);
    return this.#leases.size;
  }

  /**
   * Wait until a message is settled, a lease runs out, `deadline` passes or `signal` aborts. Resolves false
   * when the deadline passed or the wait was aborted.
   */
  async waitForRoom(deadline: number, signal: AbortSignal): Promise<boolean> {
    const now = Date.now();
    if (now >= deadline || signal.aborted) return false;
    let wakeAt = deadline;
    for (const lease of this.#leases) wakeAt = Math.min(wakeAt, lease.leaseUntil);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, wakeAt - now));
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
    return !signal.aborted && Date.now() < deadline;
  }

  /** Wake every waiter (room freed, or the consumer is closing). */
  wakeAll(): void {
    for (const wake of this.#waiters) wake();
  }
}
