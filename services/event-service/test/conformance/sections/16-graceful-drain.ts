import { deferred, waitFor } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/**
 * Section 16 (capability `durable`): graceful drain on SIGTERM. An ack that arrives during the drain is kept,
 * and what was not delivered stays in the broker for the next process. Durable only, because the check is made
 * after a restart.
 */
export function gracefulDrainSection(ctx: ConformanceContext): void {
  describe.skipIf(!ctx.target.capabilities.durable)("16. graceful drain", () => {
    it("graceful drain - a handler finishing during the SIGTERM drain is acked once; undelivered events come after restart", async () => {
      const gateway = await ctx.startGateway(await ctx.newDeployment(), {
        SOORMA_LEASE_MS: "1000",
        SOORMA_DRAIN_TIMEOUT_MS: "8000",
      });
      const topic = uniqueName("drain");
      const type = uniqueEventType();
      const group = uniqueName("drain-group");
      const recorder = new Recorder();
      const gate = deferred();
      const firstStarted = deferred<string>();
      const worker = ctx.worker({ name: group, gateway, prefetch: 1 });
      worker.onEvent(type, { topic }, async (event, handling) => {
        firstStarted.resolve(event.id);
        await gate.promise;
        recorder.record(worker.id, event, handling.delivery);
      });
      await worker.start();

      const publisher = ctx.client({ gateway });
      await publisher.connect();
      const ids = await publishMany(publisher, 6, (i) => ({ event_type: type, topic, data: { i } }));
      await publisher.close();
      const inFlightId = await firstStarted.promise;

      const stopped = gateway.stop();
      // /ready answers 503 once the drain has begun; only then may the handler finish.
      await waitFor(
        async () => (await fetch(`${gateway.httpUrl}/ready`).catch(() => undefined))?.status === 503,
        { timeoutMs: ctx.ms(5_000), message: "gateway to report draining on /ready" },
      );
      gate.resolve();
      const exit = await stopped;
      expect(exit.code, gateway.logs(30)).toBe(0);

      await gateway.restart();
      // The Worker reconnects by itself and gets the events the drained process never delivered.
      await recorder.waitForIds(ids, ctx.ms(15_000), `events after the drain\n${gateway.logs(20)}`);
      await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.of(inFlightId).map((r) => r.attempt)).toEqual([1]);
      expect(recorder.duplicates()).toEqual(new Map());
    });
  });
}
