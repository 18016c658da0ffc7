import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import type { Member } from "../../src/core/member.js";
import { type CoreFixture, coreFixture, randomName } from "./core-harness.js";

describe("dispatcher - credits and assignment", () => {
  let fixture: CoreFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it("prefetch - a member on two topics never holds more than its prefetch, and every pull is covered by reserved credits", async () => {
    fixture = await coreFixture();
    const { dispatcher } = fixture;
    const group = randomName("g");
    const [topicA, topicB] = [randomName("ta"), randomName("tb")];
    let maxHeld = 0;
    const pullViolations: string[] = [];
    let member: Member | undefined;
    fixture.calls.onPull = (pull) => {
      // A pull may ask for at most the credits reserved right now, and never for none.
      if (pull.max < 1 || member === undefined || member.reserved < pull.max) {
        pullViolations.push(`pull(${pull.max}) with ${member?.reserved} reserved`);
      }
    };
    member = fixture.join({
      group,
      prefetch: 3,
      onDelivery: (delivery) => {
        maxHeld = Math.max(maxHeld, member!.deliveries.size);
        setImmediate(() => dispatcher.ack(member!, delivery.delivery_id));
      },
    });
    await dispatcher.subscribe(member, topicA, ["*"]);
    await dispatcher.subscribe(member, topicB, ["*"]);
    for (let i = 0; i < 20; i++) {
      await fixture.publish(topicA, "a.happened", { id: `a-${i}` });
      await fixture.publish(topicB, "b.happened", { id: `b-${i}` });
    }
    await waitFor(() => fixture!.sent.get(member!.connectionId)!.length >= 40, { message: "40 deliveries" });
    const ids = fixture.sent.get(member.connectionId)!.map((d) => d.event.id);
    expect(new Set(ids).size).toBe(40);
    expect(maxHeld).toBeLessThanOrEqual(3);
    expect(maxHeld).toBeGreaterThan(0);
    expect(pullViolations).toEqual([]);
  });

  it("load balancing - three members share 300 events", async () => {
    fixture = await coreFixture();
    const { dispatcher } = fixture;
    const group = randomName("g");
    const topic = randomName("t");
    const members: Member[] = [];
    for (let i = 0; i < 3; i++) {
      const member: Member = fixture.join({
        group,
        prefetch: 4,
        onDelivery: (delivery) => setImmediate(() => dispatcher.ack(member, delivery.delivery_id)),
      });
      members.push(member);
      await dispatcher.subscribe(member, topic, ["*"]);
    }
    for (let i = 0; i < 300; i++) await fixture.publish(topic, "job.created", { id: `job-${i}` });
    await waitFor(async () => (await fixture!.pending(group, topic)) === 0, {
      message: "all 300 handled",
      timeoutMs: 20_000,
    });
    const counts = members.map((m) => fixture!.sent.get(m.connectionId)!.length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(60);
  });

  it("event types - a type nobody in the group handles is acked without delivery", async () => {
    fixture = await coreFixture();
    const group = randomName("g");
    const topic = randomName("t");
    const member = fixture.join({ group, prefetch: 5 });
    await fixture.dispatcher.subscribe(member, topic, ["order.placed"]);
    await fixture.publish(topic, "order.cancelled", { id: "unhandled" });
    await fixture.publish(topic, "order.placed", { id: "handled" });
    await waitFor(() => fixture!.sent.get(member.connectionId)!.length === 1, { message: "one delivery" });
    await waitFor(async () => (await fixture!.pending(group, topic)) === 1, {
      message: "the unhandled event left the inbox; the handled one is held",
    });
    expect(fixture.sent.get(member.connectionId)!.map((d) => d.event.id)).toEqual(["handled"]);
  });

  it("event types - an event only one member handles goes to that member", async () => {
    fixture = await coreFixture();
    const group = randomName("g");
    const topic = randomName("t");
    const generalist = fixture.join({ group, prefetch: 5 });
    const specialist = fixture.join({ group, prefetch: 5 });
    await fixture.dispatcher.subscribe(generalist, topic, ["common.type"]);
    await fixture.dispatcher.subscribe(specialist, topic, ["common.type", "special.type"]);
    for (let i = 0; i < 4; i++) await fixture.publish(topic, "special.type", { id: `s-${i}` });
    await waitFor(() => fixture!.sent.get(specialist.connectionId)!.length === 4, {
      message: "four special events at the specialist",
    });
    expect(fixture.sent.get(generalist.connectionId)).toEqual([]);
  });

  it("pump - a member with no free credit makes the pump wait instead of pulling; a freed credit resumes it", async () => {
    fixture = await coreFixture({ pullWaitMs: 50 });
    const group = randomName("g");
    const topic = randomName("t");
    const member = fixture.join({ group, prefetch: 1 });
    await fixture.dispatcher.subscribe(member, topic, ["*"]);
    for (let i = 0; i < 5; i++) await fixture.publish(topic, "x.y", { id: `w-${i}` });
    await waitFor(() => fixture!.sent.get(member.connectionId)!.length === 1, { message: "first delivery" });
    const pullsWhenFull = fixture.calls.pulls.length;
    // Observe a window of six idle-pull periods: a polling pump would pull several times in it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fixture.calls.pulls.length - pullsWhenFull).toBeLessThanOrEqual(1);
    expect(await fixture.pending(group, topic)).toBe(5);
    fixture.dispatcher.ack(member, fixture.sent.get(member.connectionId)![0]!.delivery_id);
    await waitFor(() => fixture!.sent.get(member.connectionId)!.length === 2, { message: "second delivery" });
  });

  it("pump - stops and closes its consumer when the last member leaves; later events wait in the broker", async () => {
    fixture = await coreFixture();
    const group = randomName("g");
    const topic = randomName("t");
    const member = fixture.join({ group, prefetch: 2 });
    await fixture.dispatcher.subscribe(member, topic, ["*"]);
    fixture.dispatcher.removeMember(member);
    await waitFor(() => fixture!.calls.closedConsumers.some((k) => k.topic === topic), {
      message: "consumer closed",
    });
    expect(fixture.dispatcher.snapshot()).toEqual([]);
    const pullsAfterStop = fixture.calls.pulls.length;
    for (let i = 0; i < 3; i++) await fixture.publish(topic, "x.y");
    expect(await fixture.pending(group, topic)).toBe(3);
    expect(fixture.calls.pulls.length).toBe(pullsAfterStop);
    expect(fixture.sent.get(member.connectionId)).toEqual([]);
  });

  it("pump - failed pulls are logged and retried with growing delays; delivery resumes", async () => {
    const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    fixture = await coreFixture({
      logger: {
        ...silentLogger,
        warn: (fields, msg) => warnings.push({ fields: fields as Record<string, unknown>, msg }),
      },
    });
    fixture.calls.failNextPulls = 3;
    const group = randomName("g");
    const topic = randomName("t");
    const member = fixture.join({ group, prefetch: 1 });
    await fixture.dispatcher.subscribe(member, topic, ["*"]);
    await fixture.publish(topic, "x.y", { id: "after-outage" });
    await waitFor(() => fixture!.sent.get(member.connectionId)![0], {
      message: "delivery after three failures",
    });
    const failures = warnings.filter((w) => w.msg === "pull failed");
    expect(failures.map((w) => w.fields.retryInMs)).toEqual([100, 200, 400]);
  });

  it("unsubscribe - an unknown topic is refused with SOORMA_ERR_NOT_SUBSCRIBED", async () => {
    fixture = await coreFixture();
    const member = fixture.join({ group: randomName("g"), prefetch: 1 });
    expect(() => fixture!.dispatcher.unsubscribe(member, "never-subscribed")).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_NOT_SUBSCRIBED" }),
    );
  });

  it("drain - close hands held deliveries back to the broker; nothing is lost", async () => {
    fixture = await coreFixture();
    const group = randomName("g");
    const topic = randomName("t");
    const member = fixture.join({ group, prefetch: 3 });
    await fixture.dispatcher.subscribe(member, topic, ["*"]);
    for (let i = 0; i < 5; i++) await fixture.publish(topic, "x.y");
    await waitFor(() => fixture!.sent.get(member.connectionId)!.length === 3, { message: "three held" });
    await fixture.dispatcher.stopPulling();
    expect(await fixture.dispatcher.whenIdle(50)).toBe(false);
    await fixture.dispatcher.close();
    expect(fixture.dispatcher.inFlight).toBe(0);
    expect(await fixture.pending(group, topic)).toBe(5);
    expect(() =>
      fixture!.dispatcher.ack(member, fixture!.sent.get(member.connectionId)![0]!.delivery_id),
    ).toThrow(expect.objectContaining({ code: "SOORMA_ERR_DELIVERY_UNKNOWN" }));
  });
});
