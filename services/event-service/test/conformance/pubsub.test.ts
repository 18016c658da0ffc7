import { randomBytes } from "node:crypto";
import {
  type PubSubEmulatorHandle,
  pubsubEmulatorProbe,
  requireBroker,
  startPubSubEmulator,
} from "@soorma/test-utils";
import { brokerAdapterSuite, type ConformanceTarget } from "./suite.js";

/**
 * The Google Pub/Sub adapter against the real Pub/Sub emulator started for this file on a free loopback port
 * (never a shared one). Each deployment gets its own resource prefix, so deployments never share topics or
 * subscriptions; two gateways of one deployment share them (replicas, restarts).
 *
 * The emulator keeps everything in memory, so the adapter reports `survivesBrokerRestart: false` on it and
 * section 15 is skipped; tests/faults/pubsub-emulator-restart.test.ts pins down what happens instead.
 */
function pubsubTarget(): ConformanceTarget {
  const availability = requireBroker("pubsub", pubsubEmulatorProbe);
  let emulator: PubSubEmulatorHandle | undefined;
  const running = (): PubSubEmulatorHandle => {
    if (emulator === undefined) throw new Error("the Pub/Sub emulator is not started (setup() failed?)");
    return emulator;
  };
  return {
    kind: "pubsub",
    capabilities: { durable: true, multiReplica: true, survivesBrokerRestart: false, durableDedupe: false },
    ...(availability.available ? {} : { unavailable: availability.reason }),
    // The emulator is a JVM sharing two cores with the gateways and members.
    timeScale: 1.5,
    async setup() {
      emulator = await startPubSubEmulator();
      return async () => {
        await running().stop();
      };
    },
    async gatewayEnv() {
      const launch = {
        env: {
          ...running().env,
          SOORMA_BROKER: "pubsub",
          SOORMA_PUBSUB_PREFIX: `conf${randomBytes(5).toString("hex")}`,
        },
      };
      // Nothing to remove: the emulator's state goes with it, and prefixes keep deployments apart meanwhile.
      return [launch, async () => {}];
    },
  };
}

brokerAdapterSuite("pubsub", pubsubTarget());
