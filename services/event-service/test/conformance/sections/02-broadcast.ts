import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/** Section 2: different consumer groups each receive every event of a topic. */
export function broadcastSection(ctx: ConformanceContext): void {
  describe("2. broadcast", () => {
    it("broadcast - three groups each get all 100 events exactly once", async () => {
      const topic = uniqueName("bc");
      const type = uniqueEventType();
      const groups = [uniqueName("bc-a"), uniqueName("bc-b"), uniqueName("bc-c")];
      const recorders = new Map(groups.map((group) => [group, new Recorder()]));
      const agents = groups.map((group) => {
        const agent = ctx.agent({ name: group });
        const recorder = recorders.get(group)!;
        agent.onEvent(type, { topic }, (event, handling) =>
          recorder.record(agent.id, event, handling.delivery),
        );
        return agent;
      });
      await Promise.all(agents.map((agent) => agent.start()));

      const publisher = ctx.client();
      await publisher.connect();
      const ids = await publishMany(publisher, 100, (i) => ({ event_type: type, topic, data: { i } }));
      expect(new Set(ids).size).toBe(100);

      for (const group of groups) {
        const recorder = recorders.get(group)!;
        await recorder.waitForIds(ids, ctx.ms(20_000), `group ${group}`);
        await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      }
      for (const group of groups) {
        const recorder = recorders.get(group)!;
        expect(recorder.duplicates(), `duplicates in ${group}`).toEqual(new Map());
        expect(recorder.records).toHaveLength(100);
        expect(recorder.records.every((r) => r.topic === topic && r.attempt === 1)).toBe(true);
      }
    });
  });
}
