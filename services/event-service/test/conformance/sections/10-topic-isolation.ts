import { EventTopic } from "@soorma/sdk";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/** Section 10: a subscriber gets the topics it subscribed to and nothing else; custom topics work as standard ones. */
export function topicIsolationSection(ctx: ConformanceContext): void {
  describe("10. topic isolation", () => {
    it("topic isolation - subscribers of custom topics A and B each get only their own topic's 20 events", async () => {
      const topicA = uniqueName("iso-a");
      const topicB = uniqueName("iso-b");
      // One event type on both topics, so only the topic can keep them apart.
      const type = uniqueEventType();
      const groupA = uniqueName("iso-group-a");
      const groupB = uniqueName("iso-group-b");
      const recorderA = new Recorder();
      const recorderB = new Recorder();
      const agentA = ctx.agent({ name: groupA });
      agentA.onEvent(type, { topic: topicA }, (event, handling) =>
        recorderA.record(agentA.id, event, handling.delivery),
      );
      const agentB = ctx.agent({ name: groupB });
      agentB.onEvent(type, { topic: topicB }, (event, handling) =>
        recorderB.record(agentB.id, event, handling.delivery),
      );
      await Promise.all([agentA.start(), agentB.start()]);

      const publisher = ctx.client();
      await publisher.connect();
      const [idsA, idsB] = await Promise.all([
        publishMany(publisher, 20, (i) => ({ event_type: type, topic: topicA, data: { i } })),
        publishMany(publisher, 20, (i) => ({ event_type: type, topic: topicB, data: { i } })),
      ]);

      await recorderA.waitForIds(idsA, ctx.ms(10_000), "topic A");
      await recorderB.waitForIds(idsB, ctx.ms(10_000), "topic B");
      await waitForInboxSettled(ctx.gateway.httpUrl, groupA, topicA, ctx.ms(10_000));
      await waitForInboxSettled(ctx.gateway.httpUrl, groupB, topicB, ctx.ms(10_000));

      expect(recorderA.uniqueIds()).toEqual(new Set(idsA));
      expect(recorderB.uniqueIds()).toEqual(new Set(idsB));
      expect(recorderA.records.every((r) => r.topic === topicA && r.event.topic === topicA)).toBe(true);
      expect(recorderB.records.every((r) => r.topic === topicB && r.event.topic === topicB)).toBe(true);
    });

    it("topic isolation - an agent on a standard topic does not get the same event type published on another standard topic", async () => {
      const type = uniqueEventType();
      const group = uniqueName("iso-std");
      const recorder = new Recorder();
      const agent = ctx.agent({ name: group });
      agent.onEvent(type, { topic: EventTopic.BUSINESS_FACTS }, (event, handling) =>
        recorder.record(agent.id, event, handling.delivery),
      );
      await agent.start();

      const publisher = ctx.client();
      await publisher.connect();
      const elsewhere = await publisher.publish({ event_type: type, topic: EventTopic.NOTIFICATION_EVENTS });
      const here = await publisher.publish({ event_type: type, topic: EventTopic.BUSINESS_FACTS });

      await recorder.waitForIds([here.event_id], ctx.ms(10_000), "business-facts event");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, EventTopic.BUSINESS_FACTS, ctx.ms(10_000));
      expect([...recorder.uniqueIds()]).toEqual([here.event_id]);
      expect(recorder.uniqueIds().has(elsewhere.event_id)).toBe(false);
    });
  });
}
