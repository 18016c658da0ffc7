import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { Recorder } from "../recorder.js";

/** Section 13: the envelope id is an idempotency key; a repeated publish is confirmed as a duplicate, stored once. */
export function idempotencySection(ctx: ConformanceContext): void {
  describe("13. publish idempotency", () => {
    it("idempotency - the same id published twice over WebSocket and once over HTTP is handled once; repeats say duplicate", async () => {
      const topic = uniqueName("idem");
      const type = uniqueEventType();
      const group = uniqueName("idem-group");
      const recorder = new Recorder();
      const worker = ctx.worker({ name: group });
      worker.onEvent(type, { topic }, (event, handling) =>
        recorder.record(worker.id, event, handling.delivery),
      );
      await worker.start();

      const publisher = ctx.client();
      await publisher.connect();
      const id = randomUUID();
      const first = await publisher.publish({ id, event_type: type, topic, data: { copy: 1 } });
      const second = await publisher.publish({ id, event_type: type, topic, data: { copy: 2 } });
      expect(first).toEqual({ event_id: id, duplicate: false });
      expect(second).toEqual({ event_id: id, duplicate: true });

      const overHttp = await fetch(`${ctx.gateway.httpUrl}/v1/events/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ event: { id, source: "conformance", type, topic, data: { copy: 3 } } }),
      });
      expect(overHttp.status).toBe(200);
      expect(await overHttp.json()).toEqual({ success: true, event_id: id, duplicate: true });

      // A different id right after is the marker: once it is handled and the inbox settled, nothing else can come.
      const marker = await publisher.publish({ event_type: type, topic });
      await recorder.waitForIds([id, marker.event_id], ctx.ms(10_000), "deduplicated event and marker");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.of(id)).toHaveLength(1);
      expect(recorder.of(id)[0]?.event.data).toEqual({ copy: 1 });
    });
  });
}
