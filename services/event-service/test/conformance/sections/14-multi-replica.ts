import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/**
 * Section 14 (capability `multiReplica`): two gateway processes on one broker act as one service. A group with
 * a member on each replica shares the events; a group on the other replica still gets every event.
 */
export function multiReplicaSection(ctx: ConformanceContext): void {
  describe.skipIf(!ctx.target.capabilities.multiReplica)("14. multiple gateway replicas", () => {
    it("multi-replica - a group split over two replicas shares 100 events, another group on replica 2 gets all", async () => {
      const launch = await ctx.newDeployment();
      const [replica1, replica2] = await Promise.all([ctx.startGateway(launch), ctx.startGateway(launch)]);
      const topic = uniqueName("replicas");
      const type = uniqueEventType();
      const shared = uniqueName("replicas-shared");
      const broadcastGroup = uniqueName("replicas-all");
      const sharedRecorder = new Recorder();
      const broadcastRecorder = new Recorder();
      const members = [replica1, replica2].map((gateway) => {
        const worker = ctx.worker({ name: shared, gateway });
        worker.onEvent(type, { topic }, (event, handling) =>
          sharedRecorder.record(worker.id, event, handling.delivery),
        );
        return worker;
      });
      const listener = ctx.agent({ name: broadcastGroup, gateway: replica2 });
      listener.onEvent(type, { topic }, (event, handling) =>
        broadcastRecorder.record(listener.id, event, handling.delivery),
      );
      await Promise.all([...members.map((member) => member.start()), listener.start()]);

      const publisher = ctx.client({ gateway: replica1 });
      await publisher.connect();
      const ids = await publishMany(publisher, 100, (i) => ({ event_type: type, topic, data: { i } }));

      await sharedRecorder.waitForIds(ids, ctx.ms(20_000), "shared group");
      await broadcastRecorder.waitForIds(ids, ctx.ms(20_000), "group on replica 2");
      await waitForInboxSettled(replica1.httpUrl, shared, topic, ctx.ms(10_000));
      await waitForInboxSettled(replica2.httpUrl, shared, topic, ctx.ms(10_000));
      expect(sharedRecorder.duplicates()).toEqual(new Map());
      expect(broadcastRecorder.duplicates()).toEqual(new Map());
      const byMember = sharedRecorder.idsByMember();
      for (const member of members) {
        expect(byMember.get(member.id)?.size ?? 0, `events handled via ${member.id}`).toBeGreaterThan(0);
      }
    });
  });
}
