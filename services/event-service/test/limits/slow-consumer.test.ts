import { describe, expect, it } from "vitest";
import { createSlowConsumerGuard, slowConsumerError } from "../../src/limits/slow-consumer.js";

describe("slow consumer", () => {
  function setUp() {
    let now = 0;
    const guard = createSlowConsumerGuard({
      maxBufferedBytesPerConnection: 1000,
      slowConsumerGraceMs: 5000,
      now: () => now,
    });
    return { guard, advance: (ms: number) => (now += ms) };
  }

  it("slow consumer - a socket under the threshold is ok", () => {
    const { guard } = setUp();
    expect(guard.check(0)).toBe("ok");
    expect(guard.check(1000)).toBe("ok");
  });

  it("slow consumer - over the threshold it is paused, and evicted once the grace time passes", () => {
    const { guard, advance } = setUp();
    expect(guard.check(1001)).toBe("paused");
    advance(4999);
    expect(guard.check(50_000)).toBe("paused");
    advance(1);
    expect(guard.check(2000)).toBe("evict");
  });

  it("slow consumer - draining below the threshold resets the grace period", () => {
    const { guard, advance } = setUp();
    guard.check(2000);
    advance(4000);
    expect(guard.check(10)).toBe("ok");
    advance(4000);
    expect(guard.check(2000)).toBe("paused");
    advance(4999);
    expect(guard.check(2000)).toBe("paused");
  });

  it("slow consumer - the eviction error is SOORMA_ERR_LIMIT_EXCEEDED naming the limit", () => {
    const error = slowConsumerError(1000);
    expect(error.code).toBe("SOORMA_ERR_LIMIT_EXCEEDED");
    expect(error.details).toEqual({ limit: "maxBufferedBytesPerConnection", max: 1000 });
  });
});
