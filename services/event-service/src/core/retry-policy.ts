/** Options of {@link RetryPolicy}. */
export interface RetryPolicyOptions {
  /** Deliveries of one event before it is dead-lettered. @default 5 */
  readonly maxAttempts?: number;
  /** Upper bound of the first retry delay; doubles per attempt. @default 1000 */
  readonly baseMs?: number;
  /** Cap of every retry delay. @default 60000 */
  readonly maxMs?: number;
  /** Source of randomness in [0, 1), replaceable for tests. @default Math.random */
  readonly random?: () => number;
}

/**
 * When to retry a failed delivery, how long to wait, and when to give up.
 *
 * Delays use exponential backoff with full jitter: the delay after attempt `n` is uniform in
 * `[0, min(maxMs, baseMs · 2^(n−1))]`. Full jitter spreads the retries of many events that failed together
 * (a downstream outage) instead of sending them back in one wave.
 */
export class RetryPolicy {
  /** Deliveries of one event before it is dead-lettered. */
  readonly maxAttempts: number;
  /** Upper bound of the first retry delay. */
  readonly baseMs: number;
  /** Cap of every retry delay. */
  readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: RetryPolicyOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseMs = options.baseMs ?? 1000;
    this.maxMs = options.maxMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  /** Largest delay {@link backoffMs} may return after a failure of delivery `attempt` (1-based). */
  ceilingMs(attempt: number): number {
    if (this.baseMs === 0) return 0;
    // Beyond 2^52 the product is already far above any sane cap; clamping the exponent avoids Infinity.
    const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
    return Math.min(this.maxMs, this.baseMs * 2 ** exponent);
  }

  /** A random delay in `[0, ceilingMs(attempt)]` to wait before delivering the event again. */
  backoffMs(attempt: number): number {
    const ceiling = this.ceilingMs(attempt);
    return Math.min(ceiling, Math.floor(this.random() * (ceiling + 1)));
  }

  /** True when a failure of delivery `attempt` is the last one allowed: the event is dead-lettered. */
  isFinalAttempt(attempt: number): boolean {
    return attempt >= this.maxAttempts;
  }

  /**
   * True when the broker hands out an event already past the limit (its last member died mid-handler): it is
   * dead-lettered without being delivered again.
   */
  isExhausted(attempt: number): boolean {
    return attempt > this.maxAttempts;
  }
}

/**
 * Delay before the `failures`-th consecutive retry of a broker operation (pulling): exponential, capped, no
 * jitter because each pump retries alone.
 */
export function brokerRetryDelayMs(failures: number, initialMs = 100, maxMs = 5000): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(failures, 1) - 1, 20));
}
