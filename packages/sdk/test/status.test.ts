import { describe, expect, it } from "vitest";
import { EventBusClient } from "../src/client/event-bus-client.js";
import { type StatusChange, StatusTracker } from "../src/client/status.js";
import { createConsoleLogger } from "../src/logger.js";

const fail = (error: unknown): never => {
  throw error;
};

describe("status", () => {
  it("iterable - yields every change in order, including ones made before the consumer asks, and ends at closed", async () => {
    const tracker = new StatusTracker(fail);
    const iterator = tracker.changes()[Symbol.asyncIterator]();
    tracker.set("connecting");
    tracker.set("connected");
    tracker.set("reconnecting");
    tracker.set("connected");
    tracker.set("closed");
    const seen: string[] = [];
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      seen.push(`${next.value.previous}->${next.value.status}`);
    }
    expect(seen).toEqual([
      "idle->connecting",
      "connecting->connected",
      "connected->reconnecting",
      "reconnecting->connected",
      "connected->closed",
    ]);
  });

  it("iterable - a consumer waiting for the next change is woken by it", async () => {
    const tracker = new StatusTracker(fail);
    const iterator = tracker.changes()[Symbol.asyncIterator]();
    const next = iterator.next();
    tracker.set("connecting");
    await expect(next).resolves.toMatchObject({
      done: false,
      value: { status: "connecting", previous: "idle" },
    });
  });

  it("iterable - aborting the signal ends a pending iteration", async () => {
    const tracker = new StatusTracker(fail);
    const controller = new AbortController();
    const iterator = tracker.changes({ signal: controller.signal })[Symbol.asyncIterator]();
    const next = iterator.next();
    controller.abort();
    await expect(next).resolves.toEqual({ done: true, value: undefined });
    tracker.set("connecting");
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it("iterable - break in for-await stops listening", async () => {
    const tracker = new StatusTracker(fail);
    const seen: StatusChange[] = [];
    const loop = (async () => {
      for await (const change of tracker.changes()) {
        seen.push(change);
        break;
      }
    })();
    tracker.set("connecting");
    await loop;
    tracker.set("connected");
    expect(seen.map((c) => c.status)).toEqual(["connecting"]);
  });

  it("listeners - same status twice is one change; a throwing listener does not stop the others", () => {
    const errors: unknown[] = [];
    const tracker = new StatusTracker((error) => errors.push(error));
    const seen: string[] = [];
    tracker.onChange(() => {
      throw new Error("bad listener");
    });
    const off = tracker.onChange((change) => seen.push(change.status));
    tracker.set("connecting");
    tracker.set("connecting");
    off();
    tracker.set("connected");
    expect(seen).toEqual(["connecting"]);
    expect(errors).toHaveLength(2);
  });

  it("client - statuses() of a client ends after close() with idle -> closed", async () => {
    const client = new EventBusClient({ url: "ws://127.0.0.1:9", logger: createConsoleLogger("silent") });
    const seen: string[] = [];
    const loop = (async () => {
      for await (const change of client.statuses()) seen.push(change.status);
    })();
    await client.close();
    await loop;
    expect(seen).toEqual(["closed"]);
    expect(client.status).toBe("closed");
  });
});
