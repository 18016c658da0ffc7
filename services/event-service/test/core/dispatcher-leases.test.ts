import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { type CoreFixture, coreFixture, randomName } from "./core-harness.js";

describe("dispatcher - leases, disconnects and retries", () => {
  let fixture: CoreFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it("lease - an unsettled delivery expires after lease_ms and goes to the other member with attempt 2", async () => {
    fixture = await coreFixture({ leaseMs: 200 });
    const group = randomName("g");
    const topic = randomName("t");
    const a = fixture.join({ id: "a", group, prefetch: 1 });
    const b = fixture.join({ id: "b", group, prefetch: 1 });
    await fixture.dispatcher.subscribe(a, topic, ["*"]);
    await fixture.dispatcher.subscribe(b, topic, ["*"]);
    await fixture.publish(topic, "x.y", { id: "lease-me" });
    const first = await waitFor(() => [...fixture!.sent.entries()].find(([, frames]) => frames.length === 1));
    const other = first[0] === "a" ? "b" : "a";
    const redelivered = await waitFor(() => fixture!.sent.get(other)![0], { message: "redelivery" });
    expect(redelivered).toMatchObject({ attempt: 2, event: { id: "lease-me" } });
    expect(fixture.sent.get(first[0])).toHaveLength(1);
  });

  it("in_progress - renewing restarts the lease and extends the broker lease with touch()", async () => {
    fixture = await coreFixture({ leaseMs: 200 });
    const group = randomName("g");
    const topic = randomName("t");
    const worker = fixture.join({ group, prefetch: 1 });
    const sibling = fixture.join({ group, prefetch: 1 });
    await fixture.dispatcher.subscribe(worker, topic, ["*"]);
    await fixture.dispatcher.subscribe(sibling, topic, ["*"]);
    await fixture.publish(topic, "x.y", { id: "long-task" });
    const [holder, frames] = await waitFor(() =>
      [worker, sibling]
        .map((m) => [m, fixture!.sent.get(m.connectionId)!] as const)
        .find(([, f]) => f.length > 0),
    );
    const deliveryId = frames[0]!.delivery_id;
    const until = Date.now() + 700;
    while (Date.now() < until) {
      fixture.dispatcher.renew(holder, deliveryId);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    fixture.dispatcher.ack(holder, deliveryId);
    await waitFor(async () => (await fixture!.pending(group, topic)) === 0, { message: "acked" });
    expect(fixture.calls.touches.filter((id) => id === "long-task").length).toBeGreaterThanOrEqual(5);
    const all = [...fixture.sent.values()].flat();
    expect(all).toHaveLength(1);
  });

  it("disconnect - a leaving member's deliveries go to another member at once", async () => {
    fixture = await coreFixture({ leaseMs: 30_000 });
    const group = randomName("g");
    const topic = randomName("t");
    const leaver = fixture.join({ group, prefetch: 4 });
    await fixture.dispatcher.subscribe(leaver, topic, ["*"]);
    for (let i = 0; i < 4; i++) await fixture.publish(topic, "x.y", { id: `held-${i}` });
    await waitFor(() => fixture!.sent.get(leaver.connectionId)!.length === 4, { message: "four held" });
    const stayer = fixture.join({ group, prefetch: 4 });
    await fixture.dispatcher.subscribe(stayer, topic, ["*"]);
    fixture.dispatcher.removeMember(leaver);
    const moved = await waitFor(
      () => {
        const frames = fixture!.sent.get(stayer.connectionId)!;
        return frames.length === 4 ? frames : undefined;
      },
      { timeoutMs: 3000, message: "all four moved (long before the 30 s lease)" },
    );
    expect(moved.map((d) => d.event.id).sort()).toEqual(["held-0", "held-1", "held-2", "held-3"]);
    expect(moved.every((d) => d.attempt === 2)).toBe(true);
  });

  it("nack - without delay_ms the redelivery waits the policy's backoff; with delay_ms: 0 it is immediate", async () => {
    // random() pinned near 1: the jittered backoff of attempt 1 is its full ceiling, retryBaseMs.
    fixture = await coreFixture({ retryBaseMs: 400, retryMaxMs: 400, random: () => 0.999_999 });
    const group = randomName("g");
    const topic = randomName("t");
    const member = fixture.join({ group, prefetch: 1 });
    await fixture.dispatcher.subscribe(member, topic, ["*"]);
    await fixture.publish(topic, "x.y");
    const frames = fixture.sent.get(member.connectionId)!;
    await waitFor(() => frames.length === 1);
    const nackedAt = Date.now();
    fixture.dispatcher.nack(member, frames[0]!.delivery_id, { error: { message: "flaky" } });
    await waitFor(() => frames.length === 2, { message: "redelivery after backoff" });
    expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(350);
    expect(frames[1]!.attempt).toBe(2);
    const immediateAt = Date.now();
    fixture.dispatcher.nack(member, frames[1]!.delivery_id, { delayMs: 0 });
    await waitFor(() => frames.length === 3, { message: "immediate redelivery" });
    expect(Date.now() - immediateAt).toBeLessThan(350);
  });

  it("settle - ack, nack and in_progress of an unknown delivery throw SOORMA_ERR_DELIVERY_UNKNOWN", async () => {
    fixture = await coreFixture();
    const member = fixture.join({ group: randomName("g"), prefetch: 1 });
    const unknown = expect.objectContaining({ code: "SOORMA_ERR_DELIVERY_UNKNOWN" });
    expect(() => fixture!.dispatcher.ack(member, "nope")).toThrow(unknown);
    expect(() => fixture!.dispatcher.nack(member, "nope")).toThrow(unknown);
    expect(() => fixture!.dispatcher.renew(member, "nope")).toThrow(unknown);
  });
});
