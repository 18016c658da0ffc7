import { afterAll, afterEach, beforeAll, describe } from "vitest";
import { ConformanceContext } from "./context.js";
import { targetSection } from "./sections/00-target.js";
import { roundTripSection } from "./sections/01-round-trip.js";
import { broadcastSection } from "./sections/02-broadcast.js";
import { loadBalancingSection } from "./sections/03-load-balancing.js";
import { storeAndForwardSection } from "./sections/04-store-and-forward.js";
import { nackRedeliverySection } from "./sections/05-nack-redelivery.js";
import { deadLetterSection } from "./sections/06-dead-letter.js";
import { memberCrashSection } from "./sections/07-member-crash.js";
import { leaseSection } from "./sections/08-lease.js";
import { prefetchSection } from "./sections/09-prefetch.js";
import { topicIsolationSection } from "./sections/10-topic-isolation.js";
import { restartDurabilitySection } from "./sections/11-restart-durability.js";
import { unhandledTypesSection } from "./sections/12-unhandled-types.js";
import { idempotencySection } from "./sections/13-idempotency.js";
import { multiReplicaSection } from "./sections/14-multi-replica.js";
import { brokerRestartSection } from "./sections/15-broker-restart.js";
import { gracefulDrainSection } from "./sections/16-graceful-drain.js";
import { gracefulMemberStopSection } from "./sections/17-graceful-member-stop.js";
import type { ConformanceTarget } from "./target.js";

export type { Cleanup, ConformanceTarget, GatewayLaunch } from "./target.js";

/**
 * The delivery contract, end to end: SDK (`Agent`, `Worker`, `EventBusClient`) ↔ gateway process ↔ broker
 * adapter, one numbered `describe` per contract area. Call it once per adapter from `<adapter>.test.ts`;
 * sections the adapter's capabilities rule out are skipped (see README.md next to this file).
 *
 * Most sections share one gateway process (one deployment) started before the first test; sections that crash
 * or restart a gateway, or need a short lease, start their own deployment.
 */
export function brokerAdapterSuite(name: string, target: ConformanceTarget): void {
  if (target.unavailable !== undefined) {
    console.warn(`\n!!! broker adapter conformance "${name}" SKIPPED: ${target.unavailable}\n`);
  }
  describe.skipIf(target.unavailable !== undefined)(`broker adapter conformance: ${name}`, () => {
    const ctx = new ConformanceContext(target);
    beforeAll(() => ctx.startSuite());
    afterEach(() => ctx.endTest());
    afterAll(() => ctx.stopSuite());

    targetSection(ctx);
    roundTripSection(ctx);
    broadcastSection(ctx);
    loadBalancingSection(ctx);
    storeAndForwardSection(ctx);
    nackRedeliverySection(ctx);
    deadLetterSection(ctx);
    memberCrashSection(ctx);
    leaseSection(ctx);
    prefetchSection(ctx);
    topicIsolationSection(ctx);
    restartDurabilitySection(ctx);
    unhandledTypesSection(ctx);
    idempotencySection(ctx);
    multiReplicaSection(ctx);
    brokerRestartSection(ctx);
    gracefulDrainSection(ctx);
    gracefulMemberStopSection(ctx);
  });
}
