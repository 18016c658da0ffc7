import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/** Section 4: once a group subscribed, events are kept while no member is connected. */
export function storeAndForwardSection(ctx: ConformanceContext): void {
  describe("4. store-and-forward", () => {
    it("store-and-forward - 50 events published while every member is away reach the member that returns", async () => {
      const topic = uniqueName("sf");
      const type = uniqueEventType();
      const group = uniqueName("sf-group");

      // Two members subscribe (creating the group's inbox), then both leave.
      const first = ctx.worker({ name: group });
      const second = ctx.worker({ name: group });
      for (const member of [first, second]) member.onEvent(type, { topic }, () => undefined);
      await Promise.all([first.start(), second.start()]);
      await Promise.all([first.stop(), second.stop()]);

      const publisher = ctx.client();
      await publisher.connect();
      const ids = await publishMany(publisher, 50, (i) => ({ event_type: type, topic, data: { i } }));

      const recorder = new Recorder();
      const returning = ctx.worker({ name: group });
      returning.onEvent(type, { topic }, (event, handling) =>
        recorder.record(returning.id, event, handling.delivery),
      );
      await returning.start();

      await recorder.waitForIds(ids, ctx.ms(15_000), "stored events");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.duplicates()).toEqual(new Map());
      expect(recorder.records).toHaveLength(50);
    });

    it("store-and-forward - events published before the group's first subscribe are not delivered to it", async () => {
      const topic = uniqueName("sf-before");
      const type = uniqueEventType();
      const group = uniqueName("sf-late");
      const publisher = ctx.client();
      await publisher.connect();
      const before = await publishMany(publisher, 5, (i) => ({ event_type: type, topic, data: { i } }));

      const recorder = new Recorder();
      const worker = ctx.worker({ name: group });
      worker.onEvent(type, { topic }, (event, handling) =>
        recorder.record(worker.id, event, handling.delivery),
      );
      await worker.start();
      const after = await publishMany(publisher, 5, (i) => ({ event_type: type, topic, data: { i } }));

      await recorder.waitForIds(after, ctx.ms(10_000), "events published after subscribe");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect([...recorder.uniqueIds()].sort()).toEqual([...after].sort());
      expect(before.some((id) => recorder.uniqueIds().has(id))).toBe(false);
    });
  });
}
