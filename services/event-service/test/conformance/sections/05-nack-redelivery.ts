import type { Delivery } from "@soorma/sdk";
import { waitFor } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import { type ConformanceContext, SUITE_MAX_ATTEMPTS } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { Recorder } from "../recorder.js";

/** Section 5: a failed handler (nack) gets the event again with the attempt count raised by one. */
export function nackRedeliverySection(ctx: ConformanceContext): void {
  describe("5. nack and redelivery", () => {
    it("nack - a handler that throws once gets the event again with attempt 2, then it is settled", async () => {
      const topic = uniqueName("nack");
      const type = uniqueEventType();
      const group = uniqueName("nack-group");
      const recorder = new Recorder();
      const maxAttemptsSeen: number[] = [];
      const worker = ctx.worker({ name: group });
      worker.onEvent(type, { topic }, (event, handling) => {
        recorder.record(worker.id, event, handling.delivery);
        maxAttemptsSeen.push(handling.delivery.maxAttempts);
        if (handling.delivery.attempt === 1) throw new Error("transient failure");
      });
      await worker.start();

      const { event_id: id } = await worker.publish({ event_type: type, topic, data: { n: 1 } });
      await recorder.waitForIds([id], ctx.ms(10_000));
      // Wait for the redelivery itself: a broker that cannot count pending messages (Pub/Sub) looks settled
      // between the nack and the redelivery.
      await waitFor(() => recorder.of(id).length >= 2, {
        timeoutMs: ctx.ms(10_000),
        message: "redelivery after nack",
      });
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));

      expect(recorder.of(id).map((r) => r.attempt)).toEqual([1, 2]);
      expect(maxAttemptsSeen).toEqual([SUITE_MAX_ATTEMPTS, SUITE_MAX_ATTEMPTS]);
    });

    it("nack - a raw nack with delay_ms is redelivered with attempt + 1, not before the delay", async () => {
      const topic = uniqueName("nack-delay");
      const group = uniqueName("nack-delay-group");
      const delayMs = 400;
      const arrivals: { attempt: number; at: number }[] = [];
      const client = ctx.client({ agentName: group });
      await client.connect();
      await client.subscribe(topic, "*", (delivery: Delivery) => {
        arrivals.push({ attempt: delivery.attempt, at: Date.now() });
        if (delivery.attempt === 1) delivery.nack({ delayMs, error: { message: "not yet" } });
        else delivery.ack();
      });

      await client.publish({ event_type: uniqueEventType(), topic });
      await waitFor(() => arrivals.length >= 2, {
        timeoutMs: ctx.ms(10_000),
        message: "redelivery after delayed nack",
      });
      await waitForInboxSettled(ctx.gateway.httpUrl, group, topic, ctx.ms(10_000));

      expect(arrivals.map((a) => a.attempt)).toEqual([1, 2]);
      const [first, second] = arrivals;
      // Lower bound only: a late redelivery is allowed, an early one breaks the promise of delay_ms.
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(delayMs - 20);
    });
  });
}
