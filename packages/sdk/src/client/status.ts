import type { SoormaError } from "@soorma/common";

/**
 * Connection state of an {@link EventBusClient}:
 * `idle` (not started) → `connecting` (first connection) → `connected` ⇄ `reconnecting`; `draining` while the
 * gateway shuts down (then `reconnecting`); `closed` is final.
 */
export type ClientStatus = "idle" | "connecting" | "connected" | "reconnecting" | "draining" | "closed";

/** One status transition. */
export interface StatusChange {
  status: ClientStatus;
  previous: ClientStatus;
  /** What caused the change, when an error did (e.g. the fatal error that closed the client). */
  error?: SoormaError;
  /** `Date.now()` of the change. */
  at: number;
}

/**
 * Holds the current status and fans changes out to callback listeners and async iterators. Each iterator has its
 * own queue, so a slow consumer never misses a change and never blocks the client.
 */
export class StatusTracker {
  #status: ClientStatus = "idle";
  readonly #listeners = new Set<(change: StatusChange) => void>();
  readonly #onListenerError: (error: unknown) => void;

  /** @param onListenerError called when a listener throws; a faulty listener must not break the client. */
  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  /** Current status. */
  get current(): ClientStatus {
    return this.#status;
  }

  /** Move to `status` and notify; a no-op when already there (except to report a new error). */
  set(status: ClientStatus, error?: SoormaError): void {
    const previous = this.#status;
    if (previous === status) return;
    this.#status = status;
    const change: StatusChange = { status, previous, at: Date.now() };
    if (error !== undefined) change.error = error;
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (listenerError) {
        this.#onListenerError(listenerError);
      }
    }
  }

  /** Call `listener` on every change; returns the function that removes it. */
  onChange(listener: (change: StatusChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Changes from now on, as an async iterable. It ends after yielding `closed`, when `signal` aborts, or when the
   * consumer breaks out of its loop.
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterable<StatusChange> {
    const tracker = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<StatusChange> {
        return tracker.#iterator(options.signal);
      },
    };
  }

  #iterator(signal: AbortSignal | undefined): AsyncIterator<StatusChange> {
    const queue: StatusChange[] = [];
    let waiting: ((result: IteratorResult<StatusChange>) => void) | undefined;
    let done = this.#status === "closed" || signal?.aborted === true;

    const finish = (): void => {
      if (done && waiting === undefined) return;
      done = true;
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      const wake = waiting;
      waiting = undefined;
      wake?.({ value: undefined, done: true });
    };
    // An aborted iteration ends at once, even with changes still queued.
    const onAbort = (): void => {
      queue.length = 0;
      finish();
    };
    const unsubscribe = done
      ? () => {}
      : this.onChange((change) => {
          if (waiting !== undefined) {
            const wake = waiting;
            waiting = undefined;
            wake({ value: change, done: false });
          } else {
            queue.push(change);
          }
          // Stop listening at `closed`; queued changes (including `closed`) are still handed out.
          if (change.status === "closed") {
            unsubscribe();
            signal?.removeEventListener("abort", onAbort);
          }
        });
    if (!done) signal?.addEventListener("abort", onAbort, { once: true });

    return {
      next: async () => {
        const queued = queue.shift();
        if (queued !== undefined) return { value: queued, done: false };
        if (done || this.#status === "closed") {
          finish();
          return { value: undefined, done: true };
        }
        return new Promise<IteratorResult<StatusChange>>((resolve) => {
          waiting = resolve;
        });
      },
      return: async () => {
        queue.length = 0;
        finish();
        return { value: undefined, done: true };
      },
    };
  }
}
