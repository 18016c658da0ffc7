import { DEAD_LETTER_TOPIC, type DeliveryFrame, EventTopic } from "@soorma/common";
import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildDeadLetter,
  buildFailureNotice,
  DEAD_LETTER_EVENT_TYPE,
  derivedEventId,
  type FailedEvent,
} from "../../src/core/dead-letter.js";
import { type CoreFixture, coreFixture, randomName } from "./core-harness.js";

describe("dead letters", () => {
  let fixture: CoreFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it("dead letter - after max_attempts failures the event goes to dead-letters with its provenance, and the requester gets <type>.failed", async () => {
    fixture = await coreFixture({ maxAttempts: 3, retryBaseMs: 0, retryMaxMs: 0 });
    const { dispatcher } = fixture;
    const workers = randomName("workers");
    const watcher = fixture.join({ group: randomName("watch"), prefetch: 10 });
    await dispatcher.subscribe(watcher, DEAD_LETTER_TOPIC, ["*"]);
    await dispatcher.subscribe(watcher, EventTopic.ACTION_RESULTS, ["*"]);
    const worker = fixture.join({
      group: workers,
      prefetch: 1,
      onDelivery: (d) =>
        setImmediate(() =>
          dispatcher.nack(worker, d.delivery_id, { error: { message: `boom ${d.attempt}`, code: "E_BOOM" } }),
        ),
    });
    await dispatcher.subscribe(worker, EventTopic.ACTION_REQUESTS, ["task.run"]);
    const original = await fixture.publish(EventTopic.ACTION_REQUESTS, "task.run", {
      id: "req-1",
      correlation_id: "corr-1",
      trace_id: "trace-1",
      tenant_id: "t-1",
      user_id: "u-1",
    });

    const watched = fixture.sent.get(watcher.connectionId)!;
    await waitFor(() => watched.length === 2, { message: "dead letter and failure notice" });
    expect(fixture.sent.get(worker.connectionId)!.map((d) => d.attempt)).toEqual([1, 2, 3]);
    const byTopic = (topic: string): DeliveryFrame => watched.find((d) => d.topic === topic)!;

    const deadLetter = byTopic(DEAD_LETTER_TOPIC).event;
    expect(deadLetter).toMatchObject({
      type: DEAD_LETTER_EVENT_TYPE,
      topic: DEAD_LETTER_TOPIC,
      correlation_id: "corr-1",
      trace_id: "trace-1",
      parent_event_id: "req-1",
      data: {
        group: workers,
        topic: EventTopic.ACTION_REQUESTS,
        attempts: 3,
        last_error: { message: "boom 3", code: "E_BOOM" },
        trace_id: "trace-1",
        event: { id: "req-1", type: "task.run" },
      },
    });
    expect(typeof (deadLetter.data as { dead_lettered_at: unknown }).dead_lettered_at).toBe("string");

    const notice = byTopic(EventTopic.ACTION_RESULTS).event;
    expect(notice).toMatchObject({
      type: "task.run.failed",
      correlation_id: "corr-1",
      tenant_id: "t-1",
      user_id: "u-1",
      trace_id: "trace-1",
      parent_event_id: original.id,
      data: { failed_event_id: "req-1", attempts: 3, group: workers, error: { message: "boom 3" } },
    });
    await waitFor(async () => (await fixture!.pending(workers, EventTopic.ACTION_REQUESTS)) === 0, {
      message: "original acked",
    });
  });

  it("dead letter - an event pulled past max_attempts (its member vanished) is dead-lettered without delivery", async () => {
    fixture = await coreFixture({ maxAttempts: 1 });
    const { dispatcher } = fixture;
    const group = randomName("g");
    const topic = randomName("t");
    const watcher = fixture.join({ group: randomName("watch"), prefetch: 10 });
    await dispatcher.subscribe(watcher, DEAD_LETTER_TOPIC, ["*"]);
    const doomed = fixture.join({ group, prefetch: 1 });
    await dispatcher.subscribe(doomed, topic, ["*"]);
    await fixture.publish(topic, "x.y", { id: "orphan" });
    await waitFor(() => fixture!.sent.get(doomed.connectionId)!.length === 1, { message: "first delivery" });
    const successor = fixture.join({ group, prefetch: 1 });
    await dispatcher.subscribe(successor, topic, ["*"]);
    dispatcher.removeMember(doomed);

    const watched = fixture.sent.get(watcher.connectionId)!;
    await waitFor(() => watched.length === 1, { message: "dead letter" });
    expect(watched[0]!.event.data).toMatchObject({
      attempts: 1,
      last_error: { code: "member_left" },
      event: { id: "orphan" },
    });
    expect(fixture.sent.get(successor.connectionId)).toEqual([]);
    await waitFor(async () => (await fixture!.pending(group, topic)) === 0, { message: "original acked" });
  });

  it("dead letter - ids derive from group, topic and original id, so a retried dead-lettering deduplicates", () => {
    const failed = sampleFailure("action-requests");
    const first = buildDeadLetter(failed);
    const again = buildDeadLetter({ ...failed, now: new Date(Date.now() + 60_000) });
    expect(again.id).toBe(first.id);
    expect(first.id).toBe(derivedEventId("dead-letter", failed));
    expect(buildDeadLetter({ ...failed, group: "other-group" }).id).not.toBe(first.id);
    expect(buildDeadLetter({ ...failed, topic: "other-topic" }).id).not.toBe(first.id);
    expect(buildFailureNotice(failed)!.id).not.toBe(first.id);
  });

  it("failure notice - only for action-requests; it goes to response_topic when the requester named one", () => {
    expect(buildFailureNotice(sampleFailure("business-facts"))).toBeUndefined();
    const failed = sampleFailure("action-requests");
    const custom = buildFailureNotice({
      ...failed,
      event: { ...failed.event, response_topic: "my-results" },
    });
    expect(custom).toMatchObject({ topic: "my-results", type: "job.start.failed" });
    expect(buildFailureNotice(failed)).toMatchObject({ topic: EventTopic.ACTION_RESULTS });
  });
});

function sampleFailure(topic: string): FailedEvent {
  return {
    event: {
      id: "evt-9",
      source: "requester",
      specversion: "1.0",
      type: "job.start",
      time: new Date().toISOString(),
      correlation_id: "corr-9",
      topic,
      data: { x: 1 },
    },
    tenant: "default",
    group: "workers",
    topic,
    attempts: 5,
    lastError: { message: "nope" },
  };
}
