import type { Delivery } from "@soorma/sdk";
import { waitFor } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { Recorder } from "../recorder.js";

/** Lease of the gateways this section starts: short, so "longer than the lease" takes a second or two. */
const SHORT_LEASE_MS = 800;

/**
 * Section 8: the lease. A handler that runs longer than the lease keeps its delivery (the SDK renews it);
 * a delivery nobody renews goes out again once the lease expires.
 */
export function leaseSection(ctx: ConformanceContext): void {
  describe("8. lease", () => {
    it("lease - a handler running three leases long is not redelivered while it is alive", async () => {
      const gateway = await ctx.startGateway(await ctx.newDeployment(), {
        SOORMA_LEASE_MS: String(SHORT_LEASE_MS),
      });
      const topic = uniqueName("lease");
      const type = uniqueEventType();
      const group = uniqueName("lease-group");
      const started = new Recorder();
      const finished = new Recorder();
      const aborted: string[] = [];
      const members = [0, 1].map(() => {
        const worker = ctx.worker({ name: group, gateway });
        worker.onEvent(type, { topic }, async (event, handling) => {
          started.record(worker.id, event, handling.delivery);
          // The work itself: three leases long.
          await new Promise((resolve) => setTimeout(resolve, 3 * SHORT_LEASE_MS));
          if (handling.signal.aborted) aborted.push(event.id);
          finished.record(worker.id, event, handling.delivery);
        });
        return worker;
      });
      await Promise.all(members.map((member) => member.start()));

      const { event_id: id } = await members[0]!.publish({ event_type: type, topic });
      await finished.waitForIds([id], ctx.ms(15_000), "long handler");
      await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));

      expect(started.of(id).map((r) => r.attempt)).toEqual([1]);
      expect(aborted).toEqual([]);
    });

    it("lease - a delivery held past the lease without renewal is delivered again with attempt 2", async () => {
      const gateway = await ctx.startGateway(await ctx.newDeployment(), {
        SOORMA_LEASE_MS: String(SHORT_LEASE_MS),
      });
      const topic = uniqueName("lease-expiry");
      const group = uniqueName("lease-expiry-group");
      const arrivals: { attempt: number; at: number }[] = [];
      const client = ctx.client({ agentName: group, gateway });
      await client.connect();
      await client.subscribe(topic, "*", (delivery: Delivery) => {
        arrivals.push({ attempt: delivery.attempt, at: Date.now() });
        // The first delivery is neither settled nor renewed: as if the handler hung without the SDK's renewals.
        if (delivery.attempt > 1) delivery.ack();
      });

      await client.publish({ event_type: uniqueEventType(), topic });
      await waitFor(() => arrivals.length >= 2, {
        timeoutMs: ctx.ms(10_000),
        message: "redelivery after lease expiry",
      });
      await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));

      expect(arrivals.map((a) => a.attempt)).toEqual([1, 2]);
      const [first, second] = arrivals;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(SHORT_LEASE_MS - 50);
    });
  });
}
