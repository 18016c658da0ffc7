import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/** Section 3: members of one group share a topic's events; each event goes to one member. */
export function loadBalancingSection(ctx: ConformanceContext): void {
  describe("3. load balancing", () => {
    it("load balancing - three members share 300 events, every member gets some, none twice", async () => {
      const topic = uniqueName("lb");
      const type = uniqueEventType();
      const group = uniqueName("lb-group");
      const recorder = new Recorder();
      const members = [0, 1, 2].map(() => {
        const worker = ctx.worker({ name: group });
        worker.onEvent(type, { topic }, async (event, handling) => {
          recorder.record(worker.id, event, handling.delivery);
          // Yield once so a member is busy for a moment, as real handlers are.
          await new Promise<void>((resolve) => setImmediate(resolve));
        });
        return worker;
      });
      await Promise.all(members.map((member) => member.start()));

      const publisher = ctx.client();
      await publisher.connect();
      const ids = await publishMany(publisher, 300, (i) => ({ event_type: type, topic, data: { i } }));

      await recorder.waitForIds(ids, ctx.ms(20_000), "load-balanced events");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));

      expect(recorder.duplicates()).toEqual(new Map());
      expect(recorder.records).toHaveLength(300);
      const byMember = recorder.idsByMember();
      for (const member of members) {
        expect(byMember.get(member.id)?.size ?? 0, `events handled by ${member.id}`).toBeGreaterThan(0);
      }
      const union = new Set([...byMember.values()].flatMap((ids) => [...ids]));
      expect(union).toEqual(new Set(ids));
    });
  });
}
