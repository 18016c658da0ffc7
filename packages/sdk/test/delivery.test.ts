import { type ClientFrameInput, createEnvelope, type DeliveryFrame } from "@soorma/common";
import { afterEach, describe, expect, it, vi } from "vitest";
import { leaseRenewInterval, startLeaseKeeper } from "../src/agent/lease-keeper.js";
import { createDelivery } from "../src/client/delivery.js";
import type { Logger } from "../src/logger.js";

function recordingLogger(): Logger & { records: { level: string; msg: string }[] } {
  const records: { level: string; msg: string }[] = [];
  const log = (level: string) => (msg: string) => records.push({ level, msg });
  return { records, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

function frame(overrides: Partial<DeliveryFrame> = {}): DeliveryFrame {
  return {
    type: "delivery",
    delivery_id: "d-1",
    topic: "action-requests",
    attempt: 2,
    max_attempts: 5,
    lease_ms: 900,
    event: createEnvelope({ id: "e-1", source: "s", type: "a.b", topic: "action-requests" }),
    ...overrides,
  };
}

function channel() {
  const sent: ClientFrameInput[] = [];
  const lifetime = new AbortController();
  return { sent, lifetime, signal: lifetime.signal, send: (f: ClientFrameInput) => void sent.push(f) };
}

describe("delivery", () => {
  it("fields - the frame's metadata is exposed in camelCase", () => {
    const delivery = createDelivery(frame(), channel(), recordingLogger());
    expect(delivery).toMatchObject({
      deliveryId: "d-1",
      topic: "action-requests",
      attempt: 2,
      maxAttempts: 5,
      leaseMs: 900,
    });
    expect(delivery.event.id).toBe("e-1");
  });

  it("settle once - the first ack is sent, a second settlement is ignored with a warning", () => {
    const ch = channel();
    const log = recordingLogger();
    const delivery = createDelivery(frame(), ch, log);
    delivery.ack();
    delivery.nack();
    delivery.inProgress();
    expect(ch.sent).toEqual([{ type: "ack", delivery_id: "d-1" }]);
    expect(log.records.filter((r) => r.level === "warn")).toHaveLength(1);
  });

  it("nack - delay and error travel in the frame, clamped to the wire limits", () => {
    const ch = channel();
    createDelivery(frame(), ch, recordingLogger()).nack({
      delayMs: 12.6,
      error: { message: "x".repeat(5000), code: "E_BAD" },
    });
    const sent = ch.sent[0] as { delay_ms: number; error: { message: string; code: string } };
    expect(sent).toMatchObject({ type: "nack", delivery_id: "d-1", delay_ms: 13, error: { code: "E_BAD" } });
    expect(sent.error.message).toHaveLength(4096);
  });

  it("lost connection - settling after the connection dropped sends nothing and logs at debug only", () => {
    const ch = channel();
    const log = recordingLogger();
    const delivery = createDelivery(frame(), ch, log);
    ch.lifetime.abort();
    expect(delivery.signal.aborted).toBe(true);
    delivery.inProgress();
    delivery.ack();
    expect(ch.sent).toEqual([]);
    expect(log.records.map((r) => r.level)).toEqual(["debug"]);
  });
});

describe("lease keeper", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("interval - renewals come every leaseMs / 3, never faster than 10 ms", () => {
    expect(leaseRenewInterval(30_000)).toBe(10_000);
    expect(leaseRenewInterval(600)).toBe(200);
    expect(leaseRenewInterval(3)).toBe(10);
  });

  it("renewal - in_progress is sent every third of the lease until stopped", () => {
    vi.useFakeTimers();
    const ch = channel();
    const delivery = createDelivery(frame({ lease_ms: 900 }), ch, recordingLogger());
    const stop = startLeaseKeeper(delivery);
    vi.advanceTimersByTime(299);
    expect(ch.sent).toHaveLength(0);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(600);
    expect(ch.sent).toEqual([
      { type: "in_progress", delivery_id: "d-1" },
      { type: "in_progress", delivery_id: "d-1" },
      { type: "in_progress", delivery_id: "d-1" },
    ]);
    stop();
    vi.advanceTimersByTime(3000);
    expect(ch.sent).toHaveLength(3);
  });

  it("renewal - stops by itself when the delivery's connection is lost", () => {
    vi.useFakeTimers();
    const ch = channel();
    const delivery = createDelivery(frame({ lease_ms: 300 }), ch, recordingLogger());
    startLeaseKeeper(delivery);
    vi.advanceTimersByTime(100);
    ch.lifetime.abort();
    vi.advanceTimersByTime(1000);
    expect(ch.sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
