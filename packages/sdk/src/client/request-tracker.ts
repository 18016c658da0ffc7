import { TimeoutError } from "@soorma/common";

/** Options of {@link RequestTracker.track}. */
export interface TrackOptions {
  /** Reject with a TimeoutError after this long. */
  timeoutMs: number;
  /** Reject with `signal.reason` when it aborts. */
  signal?: AbortSignal | undefined;
  /** Said in the timeout error, e.g. `publish of order.placed`. */
  what: string;
  /**
   * Called when the request gives up on its own (timeout or abort), not when the server answers, so the owner
   * can forget state it keeps for the request (a buffered publish, a pending subscription).
   */
  onCancel?: () => void;
}

interface PendingRequest {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Requests waiting for the server's answer, by `req_id` (the client also keeps its connect() callers in one). Each has a deadline and an optional AbortSignal; the
 * timeout error is created when the timer starts so its stack shows who made the request.
 */
export class RequestTracker {
  readonly #pending = new Map<string, PendingRequest>();

  /** Number of requests still waiting. */
  get size(): number {
    return this.#pending.size;
  }

  /** True while `reqId` waits for an answer. */
  has(reqId: string): boolean {
    return this.#pending.has(reqId);
  }

  /** Wait for the answer to `reqId`; settled by {@link resolve}/{@link reject}, the deadline or the signal. */
  track<T>(reqId: string, options: TrackOptions): Promise<T> {
    const { signal, timeoutMs, onCancel } = options;
    if (signal?.aborted) {
      onCancel?.();
      return Promise.reject(signal.reason);
    }
    const timeoutError = new TimeoutError(`${options.what} not confirmed within ${timeoutMs} ms`, {
      details: { timeout_ms: timeoutMs },
    });
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(reqId);
      };
      const giveUp = (error: unknown): void => {
        cleanup();
        onCancel?.();
        reject(error);
      };
      const onAbort = (): void => giveUp(signal?.reason);
      const timer = setTimeout(() => giveUp(timeoutError), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(reqId, {
        resolve: (value) => {
          cleanup();
          resolve(value as T);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      });
    });
  }

  /** Settle `reqId` with `value`; false when nothing waits for it (already timed out, or unknown). */
  resolve(reqId: string, value: unknown): boolean {
    const pending = this.#pending.get(reqId);
    pending?.resolve(value);
    return pending !== undefined;
  }

  /** Fail `reqId` with `error`; false when nothing waits for it. */
  reject(reqId: string, error: unknown): boolean {
    const pending = this.#pending.get(reqId);
    pending?.reject(error);
    return pending !== undefined;
  }

  /** Settle every waiting request with `value` (e.g. every connect() waiting for a welcome). */
  resolveAll(value: unknown): void {
    for (const pending of [...this.#pending.values()]) pending.resolve(value);
  }

  /** Fail every waiting request (the client is closing). */
  rejectAll(error: unknown): void {
    for (const pending of [...this.#pending.values()]) pending.reject(error);
  }
}
