import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { brokerRetryDelayMs, RetryPolicy } from "../../src/core/retry-policy.js";

describe("retry policy", () => {
  it("backoff - the ceiling doubles per attempt from retryBaseMs and is capped at retryMaxMs", () => {
    const policy = new RetryPolicy({ baseMs: 100, maxMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map((attempt) => policy.ceilingMs(attempt))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(policy.ceilingMs(10_000)).toBe(1000);
    expect(new RetryPolicy({ baseMs: 0, maxMs: 1000 }).ceilingMs(50)).toBe(0);
  });

  it("backoff - full jitter spans 0 up to the ceiling", () => {
    const low = new RetryPolicy({ baseMs: 100, maxMs: 1000, random: () => 0 });
    const high = new RetryPolicy({ baseMs: 100, maxMs: 1000, random: () => 0.999_999_9 });
    expect(low.backoffMs(3)).toBe(0);
    expect(high.backoffMs(3)).toBe(400);
    expect(high.backoffMs(9)).toBe(1000);
  });

  it("backoff - every delay lies in [0, ceiling] for any attempt, settings and randomness", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, extraMs, r) => {
          const policy = new RetryPolicy({ baseMs, maxMs: baseMs + extraMs, random: () => r });
          const delay = policy.backoffMs(attempt);
          return Number.isInteger(delay) && delay >= 0 && delay <= policy.ceilingMs(attempt);
        },
      ),
    );
  });

  it("backoff - real jitter spreads delays over the range", () => {
    const policy = new RetryPolicy({ baseMs: 1000, maxMs: 1000 });
    const delays = Array.from({ length: 2000 }, () => policy.backoffMs(1));
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(900);
    expect(new Set(delays).size).toBeGreaterThan(500);
  });

  it("attempts - the failure of attempt max_attempts is final; an attempt beyond it is exhausted", () => {
    const policy = new RetryPolicy({ maxAttempts: 3 });
    expect([1, 2, 3, 4].map((a) => policy.isFinalAttempt(a))).toEqual([false, false, true, true]);
    expect([1, 2, 3, 4].map((a) => policy.isExhausted(a))).toEqual([false, false, false, true]);
  });

  it("broker retry - pull failures back off exponentially up to 5 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => brokerRetryDelayMs(n))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
  });
});
