import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_RECONNECT, resolveReconnectOptions } from "../src/client/backoff.js";

describe("backoff", () => {
  it("defaults - exported constants are 100 ms initial, 5 s max, x2, jitter 0.5", () => {
    expect(DEFAULT_RECONNECT).toEqual({ initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.5 });
    expect(Object.isFrozen(DEFAULT_RECONNECT)).toBe(true);
  });

  it("growth - without jitter the delay doubles per attempt and stops at maxDelayMs", () => {
    const options = { jitter: 0 };
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(attempt, options));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it("bounds - every jittered delay lies in [base * (1 - jitter), base]", () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const base = Math.min(5000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i += 1) {
        const delay = backoffDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.5));
        expect(delay).toBeLessThanOrEqual(base);
      }
    }
  });

  it("jitter - the random draw moves the delay across the whole jitter range", () => {
    const options = { initialDelayMs: 1000, maxDelayMs: 1000, jitter: 0.5 };
    expect(backoffDelay(1, options, () => 0)).toBe(1000);
    expect(backoffDelay(1, options, () => 0.5)).toBe(750);
    expect(backoffDelay(1, options, () => 0.999_999)).toBe(500);
    const spread = new Set(Array.from({ length: 100 }, () => backoffDelay(1, options)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it("options - custom initial, multiplier and cap are honoured", () => {
    const options = { initialDelayMs: 10, multiplier: 3, maxDelayMs: 200, jitter: 0 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, options))).toEqual([10, 30, 90, 200]);
  });

  it("validation - impossible reconnect options are a ConfigError", () => {
    expect(() => resolveReconnectOptions({ initialDelayMs: -1 })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => resolveReconnectOptions({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => resolveReconnectOptions({ multiplier: 0.5 })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => resolveReconnectOptions({ jitter: 1.5 })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(resolveReconnectOptions({ maxDelayMs: 50, initialDelayMs: 10 })).toEqual({
      ...DEFAULT_RECONNECT,
      initialDelayMs: 10,
      maxDelayMs: 50,
    });
  });
});
