import { randomBytes } from "node:crypto";
import { createConsoleLogger, Worker } from "@soorma/sdk";
import {
  type PubSubEmulatorHandle,
  type ServiceHandle,
  startService,
  withDeadline,
} from "@soorma/test-utils";
import type { Cleanup } from "./cleanups.js";

/**
 * Shared pieces of the Pub/Sub fault tests (the emulator itself comes from `useEmulator` of the broker tests):
 * a gateway on it with its own resource prefix, and workers that reconnect fast and log only errors.
 */

/** SDK options of the members and publishers here: reconnect fast, log only errors. */
export const QUIET_FAST_RECONNECT = {
  reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
  logger: createConsoleLogger("error"),
} as const;

/** Eight random hex characters, for prefixes, topics and group names. */
export function randomHex(): string {
  return randomBytes(4).toString("hex");
}

/**
 * Start a gateway on `emulator` whose Pub/Sub resources carry `prefix` plus random characters, so suites never
 * share topics or subscriptions; `env` adds to or overrides the gateway's environment. The caller stops it.
 */
export function startPubSubGateway(
  emulator: PubSubEmulatorHandle,
  prefix: string,
  env: Readonly<Record<string, string>> = {},
): Promise<ServiceHandle> {
  return startService({
    env: {
      ...emulator.env,
      SOORMA_BROKER: "pubsub",
      SOORMA_PUBSUB_PREFIX: `${prefix}${randomHex()}`,
      ...env,
    },
    readyTimeoutMs: 30_000,
  });
}

/** A worker of group `name` on `gateway`, not started yet so the test registers its handlers first. */
export function pubsubWorker(gateway: ServiceHandle, name: string, prefetch?: number): Worker {
  return new Worker({
    ...QUIET_FAST_RECONNECT,
    name,
    url: gateway.url,
    ...(prefetch === undefined ? {} : { prefetch }),
    shutdownTimeoutMs: 2_000,
  });
}

/** Start `worker` and push a stop with a deadline onto `cleanups`: a fault may leave it waiting on a handler. */
export async function startWorker(worker: Worker, cleanups: Cleanup[]): Promise<void> {
  await worker.start();
  cleanups.push(() => withDeadline(worker.stop({ force: true, timeout: 2_000 }), 5_000, "worker stop"));
}
