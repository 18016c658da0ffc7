/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. @default 10000 */
  timeoutMs?: number;
  /** Re-check this often. @default 20 */
  intervalMs?: number;
  /** Said in the error when the deadline passes. */
  message?: string;
}

/**
 * Poll `condition` until it returns a truthy value (or a promise of one), then resolve with that value. Rejects
 * with a descriptive error at the deadline: tests wait for conditions, never for fixed sleeps.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 20;
  // Created up front so the stack points at the caller, not at a timer callback.
  const error = new Error(
    `waitFor timed out after ${timeoutMs} ms: ${options.message ?? "condition never held"}`,
  );
  const deadline = Date.now() + timeoutMs;
  let lastFailure: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (failure) {
      lastFailure = failure;
    }
    if (Date.now() >= deadline) {
      if (lastFailure !== undefined) error.cause = lastFailure;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Resolve or reject with `promise`, or reject once `timeoutMs` passes. The timeout error is made at the start so
 * its stack shows who waited.
 */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  const error = new Error(`deadline of ${timeoutMs} ms passed: ${message}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A promise with its resolve/reject exposed, for tests that wait on a callback.
 */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
