import type { Delivery } from "@soorma/sdk";
import { waitFor } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/** Tracks how many handlers run at once per member, and the most ever seen. */
class ConcurrencyGauge {
  readonly #running = new Map<string, number>();
  readonly peak = new Map<string, number>();

  enter(member: string): void {
    const running = (this.#running.get(member) ?? 0) + 1;
    this.#running.set(member, running);
    this.peak.set(member, Math.max(this.peak.get(member) ?? 0, running));
  }

  leave(member: string): void {
    this.#running.set(member, (this.#running.get(member) ?? 1) - 1);
  }
}

/** Section 9: flow control. A member never holds more deliveries than its prefetch. */
export function prefetchSection(ctx: ConformanceContext): void {
  describe("9. prefetch", () => {
    it("prefetch - two Workers with prefetch 2 never run more than 2 handlers each over 50 events", async () => {
      const topic = uniqueName("prefetch");
      const type = uniqueEventType();
      const group = uniqueName("prefetch-group");
      const gauge = new ConcurrencyGauge();
      const recorder = new Recorder();
      const members = [0, 1].map(() => {
        const worker = ctx.worker({ name: group, prefetch: 2 });
        worker.onEvent(type, { topic }, async (event, handling) => {
          gauge.enter(worker.id);
          recorder.record(worker.id, event, handling.delivery);
          await new Promise((resolve) => setTimeout(resolve, 15));
          gauge.leave(worker.id);
        });
        return worker;
      });
      await Promise.all(members.map((member) => member.start()));

      const ids = await publishMany(members[0]!, 50, (i) => ({ event_type: type, topic, data: { i } }));
      await recorder.waitForIds(ids, ctx.ms(20_000), "prefetch-limited events");
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));

      for (const member of members) {
        expect(gauge.peak.get(member.id) ?? 0, `peak concurrency of ${member.id}`).toBeLessThanOrEqual(2);
      }
      // The limit was actually reached, so the bound above measured something.
      expect(Math.max(...gauge.peak.values())).toBe(2);
      expect(recorder.duplicates()).toEqual(new Map());
    });

    it("prefetch - a raw client with prefetch 3 that acks slowly never holds more than 3 deliveries", async () => {
      const topic = uniqueName("prefetch-raw");
      const group = uniqueName("prefetch-raw-group");
      const type = uniqueEventType();
      let held = 0;
      let peak = 0;
      const seen = new Set<string>();
      const client = ctx.client({ agentName: group, prefetch: 3 });
      await client.connect();
      await client.subscribe(topic, "*", (delivery: Delivery) => {
        held++;
        peak = Math.max(peak, held);
        seen.add(delivery.event.id);
        setTimeout(() => {
          held--;
          delivery.ack();
        }, 20);
      });

      const ids = await publishMany(client, 30, (i) => ({ event_type: type, topic, data: { i } }));
      await waitFor(() => seen.size >= ids.length, {
        timeoutMs: ctx.ms(15_000),
        message: "every event delivered",
      });
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(15_000));
      expect(seen).toEqual(new Set(ids));
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBe(3);
    });
  });
}
