/**
 * Wakes the pulls waiting on one inbox. A pull that found nothing visible parks here until something may have
 * become visible: a publish into the inbox or a nack (`notify`), the earliest lease expiry or delayed
 * redelivery (`wait`'s `wakeAt`), its own deadline, or an abort. A wake-up is only a hint: the woken pull
 * re-checks the inbox, so spurious wake-ups are harmless and nothing busy-polls.
 */
export class WakeNotifier {
  readonly #waiters = new Set<() => void>();

  /** Wake every parked pull; each re-checks the inbox and only those that find messages keep them. */
  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolve on the next `notify()`, at wall-clock time `wakeAt` (ms since epoch), or when `signal` aborts,
   * whichever comes first. Never rejects.
   */
  wait(wakeAt: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    const waiters = this.#waiters;
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", wake);
        waiters.delete(wake);
        resolve();
      };
      // +1 ms because timers and Date.now() both round to whole milliseconds: waking a tick early would only
      // cost a re-check and another park.
      const timer = setTimeout(wake, Math.max(0, wakeAt - Date.now() + 1));
      waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  /** How many pulls are parked (diagnostics and tests). */
  get size(): number {
    return this.#waiters.size;
  }
}
