import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFrameRateLimiter, createTokenBucket } from "../../src/limits/rate-limiter.js";

/** A hand-driven monotonic clock. */
function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("token bucket", () => {
  it("token bucket - starts full: a burst passes, the next take fails", () => {
    const clock = manualClock();
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 5, now: clock.now });
    expect(Array.from({ length: 5 }, () => bucket.tryTake())).toEqual([true, true, true, true, true]);
    expect(bucket.tryTake()).toBe(false);
  });

  it("token bucket - refills at the sustained rate", () => {
    const clock = manualClock();
    const bucket = createTokenBucket({ ratePerSecond: 200, burst: 400, now: clock.now });
    while (bucket.tryTake()) {}
    clock.advance(100);
    let taken = 0;
    while (bucket.tryTake()) taken += 1;
    expect(taken).toBe(20);
  });

  it("token bucket - a long idle period refills to the burst, never beyond", () => {
    const clock = manualClock();
    const bucket = createTokenBucket({ ratePerSecond: 100, burst: 3, now: clock.now });
    bucket.tryTake(3);
    clock.advance(3_600_000);
    expect(bucket.tryTake(3)).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it("token bucket - a clock that goes backwards hands out nothing extra", () => {
    const clock = manualClock(10_000);
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 1, now: clock.now });
    expect(bucket.tryTake()).toBe(true);
    clock.advance(-5_000);
    expect(bucket.tryTake()).toBe(false);
  });

  it("token bucket - msUntilAvailable says when the next token comes", () => {
    const clock = manualClock();
    const bucket = createTokenBucket({ ratePerSecond: 4, burst: 1, now: clock.now });
    expect(bucket.msUntilAvailable()).toBe(0);
    bucket.tryTake();
    expect(bucket.msUntilAvailable()).toBe(250);
    clock.advance(200);
    expect(bucket.msUntilAvailable()).toBeCloseTo(50, 6);
  });

  it("token bucket - non-positive rate or burst is refused", () => {
    expect(() => createTokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => createTokenBucket({ ratePerSecond: 1, burst: -1 })).toThrow(RangeError);
    expect(() => createTokenBucket({ ratePerSecond: Number.NaN, burst: 1 })).toThrow(RangeError);
  });

  it("token bucket - admitted frames never exceed burst + rate x elapsed, for any arrival pattern (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 500 }),
        (rate, burst, gaps) => {
          const clock = manualClock();
          const bucket = createTokenBucket({ ratePerSecond: rate, burst, now: clock.now });
          let admitted = 0;
          let elapsed = 0;
          for (const gap of gaps) {
            clock.advance(gap);
            elapsed += gap;
            if (bucket.tryTake()) admitted += 1;
          }
          expect(admitted).toBeLessThanOrEqual(burst + (rate * elapsed) / 1000 + 1e-9);
        },
      ),
    );
  });
});

describe("frame rate limiter", () => {
  it("frame limiter - over the limit a frame gets SOORMA_ERR_RATE_LIMITED with retry_after_ms", () => {
    const clock = manualClock();
    const limiter = createFrameRateLimiter({
      maxFramesPerSecond: 200,
      frameBurst: 400,
      rateLimitedFramesBeforeClose: 100,
      now: clock.now,
    });
    for (let i = 0; i < 400; i++) expect(limiter.admit().ok).toBe(true);
    const refused = limiter.admit();
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe("SOORMA_ERR_RATE_LIMITED");
    expect(refused.error.statusCode).toBe(429);
    expect(refused.error.details).toEqual({ limit: "maxFramesPerSecond", retry_after_ms: 5 });
    expect(refused.close).toBe(false);
  });

  it("frame limiter - a client that keeps sending while limited is told to close after N rejections in a row", () => {
    const clock = manualClock();
    const limiter = createFrameRateLimiter({
      maxFramesPerSecond: 10,
      frameBurst: 1,
      rateLimitedFramesBeforeClose: 3,
      now: clock.now,
    });
    expect(limiter.admit().ok).toBe(true);
    const outcomes = Array.from({ length: 3 }, () => limiter.admit());
    expect(outcomes.map((o) => (o.ok ? "ok" : o.close))).toEqual([false, false, true]);
  });

  it("frame limiter - an accepted frame resets the rejection count (a client that backs off is not closed)", () => {
    const clock = manualClock();
    const limiter = createFrameRateLimiter({
      maxFramesPerSecond: 10,
      frameBurst: 1,
      rateLimitedFramesBeforeClose: 3,
      now: clock.now,
    });
    for (let round = 0; round < 5; round++) {
      expect(limiter.admit().ok).toBe(true);
      const first = limiter.admit();
      const second = limiter.admit();
      expect(!first.ok && !first.close && !second.ok && !second.close).toBe(true);
      clock.advance(100);
    }
  });
});
