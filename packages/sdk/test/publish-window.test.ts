import { describe, expect, it } from "vitest";
import {
  PublishWindow,
  REFUSAL_BACKOFF_BASE_MS,
  REFUSAL_BACKOFF_MAX_MS,
} from "../src/client/publish-window.js";

/** Send as many as the window allows, naming them `p<n>` from `first` on; returns the ids sent. */
function fill(window: PublishWindow, first: number): string[] {
  const sent: string[] = [];
  while (window.canSend()) {
    const reqId = `p${first + sent.length}`;
    window.sent(reqId);
    sent.push(reqId);
  }
  return sent;
}

describe("publish window", () => {
  it("window - at most maxInFlight publishes unanswered; each confirmation frees one slot", () => {
    const window = new PublishWindow(4);
    expect(fill(window, 0)).toEqual(["p0", "p1", "p2", "p3"]);
    expect(window.inFlight).toBe(4);
    expect(window.canSend()).toBe(false);
    expect(window.confirmed("p1")).toBe(true);
    expect(window.confirmed("p1")).toBe(false);
    expect(fill(window, 4)).toEqual(["p4"]);
    expect(window.failed("p0")).toBe(true);
    expect(window.inFlight).toBe(3);
    expect(window.canSend()).toBe(true);
  });

  it("too many pending - the limit shrinks to what is still unanswered and sending pauses until a confirmation", () => {
    const window = new PublishWindow(32);
    const sent = fill(window, 0);
    // A gateway that allows 8: it refuses p8..p31 while p0..p7 wait for the broker.
    let pause = 0;
    for (const reqId of sent.slice(8)) pause = window.refused(reqId, { reason: "too-many-pending" });
    expect(window.limit).toBe(8);
    expect(window.inFlight).toBe(8);
    expect(window.paused).toBe(true);
    expect(window.canSend()).toBe(false);
    expect(pause).toBe(REFUSAL_BACKOFF_BASE_MS);
    window.confirmed("p0");
    expect(window.paused).toBe(false);
    expect(fill(window, 100)).toEqual(["p100"]);
  });

  it("too many pending - the limit grows back by one per full window of confirmations, up to maxInFlight", () => {
    const window = new PublishWindow(10);
    for (const reqId of fill(window, 0).slice(8)) window.refused(reqId, { reason: "too-many-pending" });
    expect(window.limit).toBe(8);
    let next = 100;
    for (let round = 0; round < 8; round++) {
      window.confirmed(`p${round}`);
      next += fill(window, next).length;
    }
    expect(window.limit).toBe(9);
    for (let n = 0; n < 200; n++) {
      const reqId = `p${100 + n}`;
      if (window.has(reqId)) window.confirmed(reqId);
      next += fill(window, next).length;
    }
    expect(window.limit).toBe(10);
  });

  it("too many pending - a refusal with nothing else in flight still leaves a window of one", () => {
    const window = new PublishWindow(4);
    window.sent("p0");
    window.refused("p0", { reason: "too-many-pending" });
    expect(window.limit).toBe(1);
    expect(window.canSend()).toBe(false);
    window.resume();
    expect(fill(window, 1)).toEqual(["p1"]);
  });

  it("rate limited - pauses for retry_after_ms and a confirmation does not end the pause", () => {
    const window = new PublishWindow(8);
    fill(window, 0);
    expect(window.refused("p7", { reason: "rate-limited", retryAfterMs: 120 })).toBe(120);
    // Rate refusals say nothing about pending publishes: the limit stays.
    expect(window.limit).toBe(8);
    window.confirmed("p0");
    expect(window.canSend()).toBe(false);
    window.resume();
    expect(window.canSend()).toBe(true);
  });

  it("backoff - doubles per pause in a row, counts a burst of refusals once, is capped, and a confirmation resets it", () => {
    const window = new PublishWindow(64);
    fill(window, 0);
    const pauses: number[] = [];
    let refused = 63;
    for (let round = 0; round < 8; round++) {
      // Three refusals of one burst, then the pause ends.
      for (let k = 0; k < 3; k++) pauses.push(window.refused(`p${refused--}`, { reason: "rate-limited" }));
      window.resume();
    }
    const perRound = pauses.filter((_, n) => n % 3 === 0);
    expect(perRound.slice(0, 4)).toEqual([
      REFUSAL_BACKOFF_BASE_MS,
      REFUSAL_BACKOFF_BASE_MS * 2,
      REFUSAL_BACKOFF_BASE_MS * 4,
      REFUSAL_BACKOFF_BASE_MS * 8,
    ]);
    expect(pauses.slice(0, 3)).toEqual([
      REFUSAL_BACKOFF_BASE_MS,
      REFUSAL_BACKOFF_BASE_MS,
      REFUSAL_BACKOFF_BASE_MS,
    ]);
    expect(Math.max(...pauses)).toBe(REFUSAL_BACKOFF_MAX_MS);
    window.confirmed("p0");
    expect(window.refused("p1", { reason: "rate-limited" })).toBe(REFUSAL_BACKOFF_BASE_MS);
  });

  it("reset - a new connection has nothing in flight, no pause and the full window", () => {
    const window = new PublishWindow(16);
    for (const reqId of fill(window, 0).slice(2)) window.refused(reqId, { reason: "too-many-pending" });
    expect(window.limit).toBe(2);
    window.reset();
    expect(window.inFlight).toBe(0);
    expect(window.has("p0")).toBe(false);
    expect(window.paused).toBe(false);
    expect(fill(window, 0)).toHaveLength(16);
  });
});
