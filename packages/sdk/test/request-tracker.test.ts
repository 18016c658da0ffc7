import { describe, expect, it } from "vitest";
import { RequestTracker } from "../src/client/request-tracker.js";

describe("request tracker", () => {
  it("answer - resolve settles the waiting request with the server's value", async () => {
    const tracker = new RequestTracker();
    const pending = tracker.track<number>("r1", { timeoutMs: 1000, what: "thing" });
    expect(tracker.resolve("r1", 7)).toBe(true);
    await expect(pending).resolves.toBe(7);
    expect(tracker.size).toBe(0);
    expect(tracker.resolve("r1", 8)).toBe(false);
  });

  it("timeout - the TimeoutError is made when the request starts, so its stack names the caller", async () => {
    const tracker = new RequestTracker();
    let cancelled = false;
    function requestFromNamedCaller(): Promise<unknown> {
      return tracker.track("r1", { timeoutMs: 20, what: "publish of x", onCancel: () => (cancelled = true) });
    }
    const error = await requestFromNamedCaller().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TimeoutError", code: "SOORMA_ERR_TIMEOUT" });
    expect((error as Error).stack).toContain("requestFromNamedCaller");
    expect(cancelled).toBe(true);
    expect(tracker.has("r1")).toBe(false);
  });

  it("abort - an aborted signal rejects with its reason and cancels the request", async () => {
    const tracker = new RequestTracker();
    const controller = new AbortController();
    let cancelled = 0;
    const pending = tracker.track("r1", {
      timeoutMs: 10_000,
      signal: controller.signal,
      what: "x",
      onCancel: () => (cancelled += 1),
    });
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(cancelled).toBe(1);
    // Already aborted: rejected at once.
    await expect(
      tracker.track("r2", { timeoutMs: 10_000, signal: controller.signal, what: "x" }),
    ).rejects.toBe(reason);
  });

  it("server error - reject settles with that error and does not call onCancel", async () => {
    const tracker = new RequestTracker();
    let cancelled = false;
    const pending = tracker.track("r1", { timeoutMs: 1000, what: "x", onCancel: () => (cancelled = true) });
    const error = new Error("refused");
    tracker.rejectAll(error);
    await expect(pending).rejects.toBe(error);
    expect(cancelled).toBe(false);
  });
});
