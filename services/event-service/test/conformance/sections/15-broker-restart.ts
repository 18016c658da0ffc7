import { describe, expect, it } from "vitest";
import { waitForInboxSettled } from "../admin.js";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { publishMany } from "../publish.js";
import { Recorder } from "../recorder.js";

/**
 * Section 15 (capability `survivesBrokerRestart`): events stored for an absent group survive a restart of the
 * broker itself, and the gateway serves again once the broker is back. Needs `target.restartBroker`.
 */
export function brokerRestartSection(ctx: ConformanceContext): void {
  describe.skipIf(!ctx.target.capabilities.survivesBrokerRestart)("15. broker restart", () => {
    it("broker restart - 20 events stored for an absent group survive a broker restart and are delivered", async () => {
      const restartBroker = ctx.target.restartBroker;
      expect(restartBroker, "a target with survivesBrokerRestart must provide restartBroker()").toBeTypeOf(
        "function",
      );
      const gateway = await ctx.startGateway(await ctx.newDeployment());
      const topic = uniqueName("broker-restart");
      const type = uniqueEventType();
      const group = uniqueName("broker-restart-group");
      const first = ctx.worker({ name: group, gateway });
      first.onEvent(type, { topic }, () => undefined);
      await first.start();
      await first.stop();

      const publisher = ctx.client({ gateway });
      await publisher.connect();
      const ids = await publishMany(publisher, 20, (i) => ({ event_type: type, topic, data: { i } }));
      await restartBroker!.call(ctx.target);

      const recorder = new Recorder();
      const returning = ctx.worker({ name: group, gateway });
      returning.onEvent(type, { topic }, (event, handling) =>
        recorder.record(returning.id, event, handling.delivery),
      );
      await returning.start({ timeout: ctx.ms(20_000) });
      await recorder.waitForIds(
        ids,
        ctx.ms(20_000),
        `events stored before the broker restart\n${gateway.logs(20)}`,
      );
      await waitForInboxSettled(gateway.httpUrl, group, topic, ctx.ms(10_000));
      expect(recorder.duplicates()).toEqual(new Map());
    });
  });
}
