import { LimitError, type SoormaError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { assertBelowLimit, grantedPrefetch, rateLimited } from "../../src/limits/limit-errors.js";

describe("limit checks", () => {
  it("subscriptions - the 101st subscription of a connection is refused with SOORMA_ERR_LIMIT_EXCEEDED", () => {
    expect(() => assertBelowLimit("maxSubscriptionsPerConnection", 99, 100)).not.toThrow();
    try {
      assertBelowLimit("maxSubscriptionsPerConnection", 100, 100);
      expect.unreachable("the limit must hold");
    } catch (error) {
      expect(error).toBeInstanceOf(LimitError);
      expect((error as SoormaError).code).toBe("SOORMA_ERR_LIMIT_EXCEEDED");
      expect((error as SoormaError).details).toEqual({ limit: "maxSubscriptionsPerConnection", max: 100 });
    }
  });

  it("pending publishes - a connection at its limit of unconfirmed publishes is refused", () => {
    expect(() => assertBelowLimit("maxPendingPublishesPerConnection", 256, 256)).toThrow(LimitError);
  });

  it("prefetch - a larger hello.prefetch is lowered to the configured maximum, a smaller one kept", () => {
    expect(grantedPrefetch(1000, 64)).toBe(64);
    expect(grantedPrefetch(16, 64)).toBe(16);
  });

  it("rate limited - retry_after_ms is a whole number of ms, rounded up", () => {
    expect(rateLimited(0.2).details).toEqual({ limit: "maxFramesPerSecond", retry_after_ms: 1 });
    expect(rateLimited(0.2).code).toBe("SOORMA_ERR_RATE_LIMITED");
  });
});
