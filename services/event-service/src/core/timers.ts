/**
 * Wait `ms`, or less when `signal` aborts (resolves either way, never rejects): used for retry backoff that a
 * shutdown must be able to cut short.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Resolve after pending I/O callbacks and promise continuations ran. A pump that just released credits awaits
 * this before reserving again, so that pumps woken by the release get the first chance at those credits.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
