import { randomUUID } from "node:crypto";
import { DEAD_LETTER_TOPIC, type EventEnvelope } from "@soorma/sdk";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { Recorder } from "../recorder.js";

/**
 * Section 12: events of a subscribed topic whose type no member of the group handles are acknowledged without
 * delivery: never handed to a handler, never retried, never dead-lettered.
 */
export function unhandledTypesSection(ctx: ConformanceContext): void {
  describe("12. unhandled event types", () => {
    it("unhandled types - an event type the group has no handler for is acked without delivery and not dead-lettered", async () => {
      const topic = uniqueName("unhandled");
      const handledType = uniqueEventType("wanted");
      const unhandledType = uniqueEventType("ignored");
      const group = uniqueName("unhandled-group");
      const recorder = new Recorder();
      const worker = ctx.worker({ name: group });
      worker.onEvent(handledType, { topic }, (event, handling) =>
        recorder.record(worker.id, event, handling.delivery),
      );
      const auditorGroup = uniqueName("unhandled-auditor");
      const deadLetters: EventEnvelope[] = [];
      const auditor = ctx.agent({ name: auditorGroup });
      auditor.onEvent("*", { topic: DEAD_LETTER_TOPIC }, (event) => {
        deadLetters.push(event);
      });
      await Promise.all([worker.start(), auditor.start()]);

      const ignoredIds: string[] = Array.from({ length: 5 }, () => randomUUID());
      for (const id of ignoredIds) await worker.publish({ id, event_type: unhandledType, topic });
      const wanted = await worker.publish({ event_type: handledType, topic });

      await recorder.waitForIds([wanted.event_id], ctx.ms(10_000), "the handled event");
      // Settled means the ignored events left the inbox; they were not delivered, so they were acked unseen.
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      await waitForInboxSettled(ctx.gateway.httpUrl, auditorGroup, DEAD_LETTER_TOPIC, ctx.ms(10_000));

      expect([...recorder.uniqueIds()]).toEqual([wanted.event_id]);
      const deadLettered = deadLetters.filter((letter) =>
        ignoredIds.includes((letter.data?.event as { id?: string } | undefined)?.id ?? ""),
      );
      expect(deadLettered).toEqual([]);
    });
  });
}
