import { randomUUID } from "node:crypto";
import { DEAD_LETTER_TOPIC, type EventEnvelope, EventTopic } from "@soorma/sdk";
import { deferred, withDeadline } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import { type ConformanceContext, SUITE_MAX_ATTEMPTS } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { Recorder } from "../recorder.js";

/**
 * Section 6: after `maxAttempts` failures the event is dead-lettered with its provenance, and the requester of
 * an action request hears `<type>.failed`.
 */
export function deadLetterSection(ctx: ConformanceContext): void {
  describe("6. max attempts and dead letter", () => {
    it("dead letter - an event failing every attempt lands on dead-letters with provenance and the requester gets <type>.failed", async () => {
      const type = uniqueEventType("requested");
      const group = uniqueName("dl-worker");
      const correlationId = randomUUID();
      const traceId = randomUUID();
      const recorder = new Recorder();
      const worker = ctx.worker({ name: group });
      worker.onEvent(type, (event, handling) => {
        recorder.record(worker.id, event, handling.delivery);
        throw new Error(`boom on attempt ${handling.delivery.attempt}`);
      });

      const deadLetter = deferred<EventEnvelope>();
      const auditor = ctx.agent({ name: uniqueName("dl-auditor") });
      const eventId = randomUUID();
      auditor.onEvent("*", { topic: DEAD_LETTER_TOPIC }, (event) => {
        const original = event.data?.event as { id?: string } | undefined;
        if (original?.id === eventId) deadLetter.resolve(event);
      });
      const notice = deferred<EventEnvelope>();
      const requester = ctx.agent({ name: uniqueName("dl-requester") });
      requester.onEvent(`${type}.failed`, { topic: EventTopic.ACTION_RESULTS }, (event) => {
        if (event.correlation_id === correlationId) notice.resolve(event);
      });
      await Promise.all([worker.start(), auditor.start(), requester.start()]);

      const published = await requester.publish({
        id: eventId,
        event_type: type,
        topic: EventTopic.ACTION_REQUESTS,
        data: { job: 7 },
        correlation_id: correlationId,
        trace_id: traceId,
      });
      expect(published.event_id).toBe(eventId);

      const letter = await withDeadline(deadLetter.promise, ctx.ms(15_000), "dead letter");
      expect(letter.topic).toBe(DEAD_LETTER_TOPIC);
      expect(letter.type).toBe("soorma.dead_letter");
      expect(letter.data).toMatchObject({
        event: { id: eventId, type, topic: EventTopic.ACTION_REQUESTS, data: { job: 7 } },
        group,
        topic: EventTopic.ACTION_REQUESTS,
        attempts: SUITE_MAX_ATTEMPTS,
        trace_id: traceId,
      });
      expect(JSON.stringify(letter.data?.last_error)).toContain(`boom on attempt ${SUITE_MAX_ATTEMPTS}`);

      const failed = await withDeadline(notice.promise, ctx.ms(10_000), "failure notice to the requester");
      expect(failed.type).toBe(`${type}.failed`);
      expect(failed.topic).toBe(EventTopic.ACTION_RESULTS);
      expect(failed.correlation_id).toBe(correlationId);
      expect(failed.trace_id).toBe(traceId);
      expect(failed.parent_event_id).toBe(eventId);
      expect(failed.data).toMatchObject({ failed_event_id: eventId, attempts: SUITE_MAX_ATTEMPTS, group });

      // Dead-lettering settles the original: no attempt beyond the maximum, nothing left in the inbox.
      await waitForInboxSettled(ctx.gateway.httpUrl, group, EventTopic.ACTION_REQUESTS, ctx.ms(10_000));
      expect(recorder.of(eventId).map((r) => r.attempt)).toEqual(
        Array.from({ length: SUITE_MAX_ATTEMPTS }, (_, i) => i + 1),
      );
    });

    it("dead letter - the failure notice goes to the request's custom response_topic", async () => {
      const type = uniqueEventType("requested");
      const replyTopic = uniqueName("dl-replies");
      const correlationId = randomUUID();
      const worker = ctx.worker({ name: uniqueName("dl-reply-worker") });
      worker.onEvent(type, () => {
        throw new Error("always fails");
      });
      const notice = deferred<EventEnvelope>();
      const requester = ctx.agent({ name: uniqueName("dl-reply-requester") });
      requester.onEvent(`${type}.failed`, { topic: replyTopic }, (event) => {
        if (event.correlation_id === correlationId) notice.resolve(event);
      });
      await Promise.all([worker.start(), requester.start()]);

      const { event_id: id } = await requester.publish({
        event_type: type,
        topic: EventTopic.ACTION_REQUESTS,
        response_topic: replyTopic,
        correlation_id: correlationId,
      });
      const failed = await withDeadline(
        notice.promise,
        ctx.ms(15_000),
        "failure notice on the response topic",
      );
      expect(failed.topic).toBe(replyTopic);
      expect(failed.parent_event_id).toBe(id);
      expect(failed.data).toMatchObject({ failed_event_id: id, attempts: SUITE_MAX_ATTEMPTS });
    });
  });
}
