import { randomBytes } from "node:crypto";
import {
  type PubSubEmulatorHandle,
  pubsubEmulatorProbe,
  requireBroker,
  startPubSubEmulator,
} from "@soorma/test-utils";
import { createGooglePubSubAdapter } from "../../src/broker/google-pubsub.js";
import { describeTenantIsolation } from "./isolation.js";

let emulator: PubSubEmulatorHandle | undefined;

/** The real Pub/Sub emulator started for this file; each gateway gets its own resource prefix. */
describeTenantIsolation("pubsub", {
  availability: requireBroker("pubsub", pubsubEmulatorProbe),
  async setup() {
    emulator = await startPubSubEmulator();
    return async () => {
      await emulator?.stop();
    };
  },
  adapter: async () =>
    createGooglePubSubAdapter({
      apiEndpoint: emulator!.host,
      projectId: emulator!.projectId,
      prefix: `ten${randomBytes(5).toString("hex")}`,
    }),
  // The emulator is a JVM sharing two cores with everything else.
  timeScale: 2,
});
