import { randomUUID } from "node:crypto";
import { deferred } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/** Broker-side lease of this section's gateways: what a crashed gateway's in-flight messages wait for. */
const RESTART_LEASE_MS = 1_000;

/**
 * Section 11 (capability `durable`): confirmed events and inboxes survive a crash (SIGKILL) of the gateway
 * process. Each test runs its own deployment, since the crash would disturb every other test.
 */
export function restartDurabilitySection(ctx: ConformanceContext): void {
  describe.skipIf(!ctx.target.capabilities.durable)("11. restart durability", () => {
    it("restart durability - 50 confirmed events stored for an absent group survive a gateway SIGKILL and reach it after restart", async () => {
      const gateway = await ctx.startGateway(await ctx.newDeployment(), {
        SOORMA_LEASE_MS: String(RESTART_LEASE_MS),
      });
      const topic = uniqueName("durable");
      const type = uniqueEventType();
      const group = uniqueName("durable-group");
      const first = ctx.worker({ name: group, gateway });
      first.onEvent(type, { topic }, () => undefined);
      await first.start();
      await first.stop();

      const publisher = ctx.client({ gateway });
      await publisher.connect();
      const ids = await publishMany(publisher, 50, (i) => ({ event_type: type, topic, data: { i } }));
      await publisher.close();

      const exit = await gateway.kill("SIGKILL");
      expect(exit.signal).toBe("SIGKILL");
      await gateway.restart();

      const recorder = new Recorder();
      const returning = ctx.worker({ name: group, gateway });
      returning.onEvent(type, { topic }, (event, handling) =>
        recorder.record(returning.id, event, handling.delivery),
      );
      await returning.start();
      await recorder.waitForIds(
        ids,
        ctx.ms(15_000),
        `events confirmed before the crash\n${gateway.logs(20)}`,
      );
      await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.duplicates()).toEqual(new Map());
      expect(recorder.records).toHaveLength(50);
    });

    it("restart durability - deliveries in flight when the gateway is killed reach the reconnecting member after restart", async () => {
      const gateway = await ctx.startGateway(await ctx.newDeployment(), {
        SOORMA_LEASE_MS: String(RESTART_LEASE_MS),
      });
      const topic = uniqueName("inflight");
      const type = uniqueEventType();
      const group = uniqueName("inflight-group");
      const recorder = new Recorder();
      // Handlers of the first incarnation wait at this gate, so deliveries are in flight when the crash comes.
      const gate = deferred();
      const firstDelivery = deferred();
      const worker = ctx.worker({ name: group, gateway, prefetch: 4 });
      worker.onEvent(type, { topic }, async (event, handling) => {
        firstDelivery.resolve();
        if (handling.delivery.attempt === 1) await gate.promise;
        recorder.record(worker.id, event, handling.delivery);
      });
      await worker.start();

      const publisher = ctx.client({ gateway });
      await publisher.connect();
      const ids = await publishMany(publisher, 20, (i) => ({ event_type: type, topic, data: { i } }));
      await firstDelivery.promise;
      await gateway.kill("SIGKILL");
      // Acks of the gated handlers go to a dead connection: those events must come back as redeliveries.
      gate.resolve();
      await gateway.restart();

      // The same Worker reconnects on its own (same port) and re-subscribes.
      await recorder.waitForIds(ids, ctx.ms(20_000), `events of the crashed gateway\n${gateway.logs(20)}`);
      await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.uniqueIds()).toEqual(new Set(ids));
      // At-least-once: only events that were in flight at the crash (at most prefetch of them) may repeat.
      const duplicates = recorder.duplicates();
      expect(duplicates.size).toBeLessThanOrEqual(4);
      for (const [id] of duplicates) {
        expect(
          recorder.of(id).some((r) => r.attempt > 1),
          `event ${id} was handled twice without a redelivery`,
        ).toBe(true);
      }
    });

    it("restart durability - publishes made while the gateway is down are confirmed once it is back and handled once", async () => {
      const gateway = await ctx.startGateway(await ctx.newDeployment(), {
        SOORMA_LEASE_MS: String(RESTART_LEASE_MS),
      });
      const topic = uniqueName("offline-pub");
      const type = uniqueEventType();
      const group = uniqueName("offline-pub-group");
      const recorder = new Recorder();
      const worker = ctx.worker({ name: group, gateway });
      worker.onEvent(type, { topic }, (event, handling) =>
        recorder.record(worker.id, event, handling.delivery),
      );
      await worker.start();
      const publisher = ctx.client({ gateway });
      await publisher.connect();

      await gateway.kill("SIGKILL");
      // Not awaited yet: the SDK buffers these while it cannot reach the gateway.
      const pending = Array.from({ length: 10 }, (_, i) =>
        publisher.publish({ event_type: type, topic, data: { i } }),
      );
      await gateway.restart();
      const results = await Promise.all(pending);

      const ids = results.map((r) => r.event_id);
      await recorder.waitForIds(ids, ctx.ms(15_000), "events published while the gateway was down");
      await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(new Set(ids).size).toBe(10);
      expect(recorder.duplicates()).toEqual(new Map());
    });

    it.skipIf(!ctx.target.capabilities.durableDedupe)(
      "restart durability - an id stored before a gateway SIGKILL is still reported duplicate after restart",
      async () => {
        const gateway = await ctx.startGateway(await ctx.newDeployment());
        const topic = uniqueName("dedupe-restart");
        const type = uniqueEventType();
        const group = uniqueName("dedupe-restart-group");
        const first = ctx.worker({ name: group, gateway });
        first.onEvent(type, { topic }, () => undefined);
        await first.start();
        await first.stop();

        const id = randomUUID();
        const publisher = ctx.client({ gateway });
        await publisher.connect();
        expect(await publisher.publish({ id, event_type: type, topic })).toEqual({
          event_id: id,
          duplicate: false,
        });
        await gateway.kill("SIGKILL");
        await gateway.restart();
        // The client reconnects by itself; this is the retry a client makes when a confirmation was lost.
        expect(await publisher.publish({ id, event_type: type, topic })).toEqual({
          event_id: id,
          duplicate: true,
        });

        const recorder = new Recorder();
        const returning = ctx.worker({ name: group, gateway });
        returning.onEvent(type, { topic }, (event, handling) =>
          recorder.record(returning.id, event, handling.delivery),
        );
        await returning.start();
        await recorder.waitForIds([id], ctx.ms(10_000), "the event stored before the crash");
        await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));
        expect(recorder.of(id)).toHaveLength(1);
      },
    );
  });
}
