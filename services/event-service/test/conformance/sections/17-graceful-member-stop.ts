import { deferred } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/**
 * Section 17: a member that stops gracefully finishes its in-flight handlers and their acks count; what it had
 * not started goes to the rest of the group, nothing twice.
 */
export function gracefulMemberStopSection(ctx: ConformanceContext): void {
  describe("17. graceful member stop", () => {
    it("member stop - stop() lets the running handler finish and ack; the rest of the backlog goes to another member once", async () => {
      const topic = uniqueName("member-stop");
      const type = uniqueEventType();
      const group = uniqueName("member-stop-group");
      const recorder = new Recorder();
      const gate = deferred();
      const started = deferred<string>();
      const leaving = ctx.worker({ name: group, prefetch: 1 });
      leaving.onEvent(type, { topic }, async (event, handling) => {
        started.resolve(event.id);
        await gate.promise;
        recorder.record(leaving.id, event, handling.delivery);
      });
      await leaving.start();

      const ids = await publishMany(leaving, 10, (i) => ({ event_type: type, topic, data: { i } }));
      const inFlightId = await started.promise;
      const stopped = leaving.stop();
      gate.resolve();
      await stopped;
      expect(recorder.of(inFlightId).map((r) => r.member)).toEqual([leaving.id]);

      const staying = ctx.worker({ name: group });
      staying.onEvent(type, { topic }, (event, handling) =>
        recorder.record(staying.id, event, handling.delivery),
      );
      await staying.start();
      await recorder.waitForIds(ids, ctx.ms(10_000), "backlog after a graceful stop");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.duplicates()).toEqual(new Map());
      expect(recorder.records.filter((r) => r.member === leaving.id).map((r) => r.eventId)).toEqual([
        inFlightId,
      ]);
    });
  });
}
