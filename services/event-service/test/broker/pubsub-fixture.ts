import { randomBytes } from "node:crypto";
import { PubSub } from "@google-cloud/pubsub";
import { createEnvelope, type EventEnvelope } from "@soorma/common";
import {
  type PubSubEmulatorHandle,
  pubsubEmulatorProbe,
  requireBroker,
  startPubSubEmulator,
  withDeadline,
} from "@soorma/test-utils";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { BrokerMessage, InboxConsumer, InboxKey } from "../../src/broker/adapter.js";
import {
  createGooglePubSubAdapter,
  type GooglePubSubAdapter,
  type GooglePubSubAdapterOptions,
} from "../../src/broker/google-pubsub.js";

/**
 * Shared set-up of the Pub/Sub test files: whether the emulator can run here (a missing emulator skips the
 * file loudly, or fails it when `SOORMA_REQUIRE_BROKERS` names `pubsub`), a suite title that carries the skip
 * reason, and helpers that start one emulator per file and adapters against it.
 */
export const pubsubAvailability = requireBroker("pubsub", pubsubEmulatorProbe);

/** `title`, plus the reason when the suite is skipped, so the reason shows in the test report. */
export function pubsubSuiteTitle(title: string): string {
  return pubsubAvailability.available ? title : `${title} (SKIPPED: ${pubsubAvailability.reason})`;
}

/** A random name valid as a tenant, topic and group. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/** A fresh inbox key (random tenant, group and topic unless given). */
export function inboxKey(overrides: Partial<InboxKey> = {}): InboxKey {
  return {
    tenant: overrides.tenant ?? unique("tenant"),
    group: overrides.group ?? unique("group"),
    topic: overrides.topic ?? unique("topic"),
  };
}

/** A complete envelope on `key`'s tenant and topic. */
export function eventFor(
  key: Pick<InboxKey, "tenant" | "topic">,
  fields: Partial<EventEnvelope> = {},
): EventEnvelope {
  return createEnvelope({
    source: "pubsub-test",
    type: "test.happened",
    topic: key.topic,
    platform_tenant_id: key.tenant,
    data: {},
    ...fields,
  });
}

/** Pull with a deadline on the pull itself, so a hung pull fails the test rather than the suite timeout. */
export function pullOnce(consumer: InboxConsumer, max: number, waitMs: number): Promise<BrokerMessage[]> {
  return withDeadline(
    consumer.pull(max, { waitMs }),
    waitMs + 10_000,
    `pull(${max}) on ${consumer.key.topic}`,
  );
}

/** Pull until `count` messages arrived, failing at the deadline with how many came. */
export async function pullAtLeast(
  consumer: InboxConsumer,
  count: number,
  timeoutMs = 10_000,
): Promise<BrokerMessage[]> {
  const got: BrokerMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`only ${got.length} of ${count} messages arrived within ${timeoutMs} ms`);
    got.push(...(await pullOnce(consumer, count - got.length, Math.min(1_000, left))));
  }
  return got;
}

/** Run `use` with a Pub/Sub client of `emulator`, closed afterwards. */
export async function withPubSubClient<T>(
  emulator: PubSubEmulatorHandle,
  use: (client: PubSub) => Promise<T>,
): Promise<T> {
  const client = new PubSub({ projectId: emulator.projectId, apiEndpoint: emulator.host });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** What {@link useEmulator} gives a test file. */
export interface EmulatorFixture {
  /** The emulator of this file (started in `beforeAll`). */
  readonly emulator: PubSubEmulatorHandle;
  /**
   * A connected adapter against the emulator, closed after the test. Adapters made with the same `prefix`
   * share topics and subscriptions (replicas of one deployment); by default each gets its own prefix.
   */
  adapter(options?: GooglePubSubAdapterOptions): Promise<GooglePubSubAdapter>;
}

/**
 * Start a real emulator for this file (never a shared one) on a free loopback port, and close every adapter a
 * test made after it.
 */
export function useEmulator(): EmulatorFixture {
  let emulator: PubSubEmulatorHandle | undefined;
  const adapters: GooglePubSubAdapter[] = [];
  beforeAll(async () => {
    emulator = await startPubSubEmulator();
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  const running = (): PubSubEmulatorHandle => {
    if (emulator === undefined) throw new Error("the Pub/Sub emulator did not start (see beforeAll)");
    return emulator;
  };
  return {
    get emulator() {
      return running();
    },
    async adapter(options: GooglePubSubAdapterOptions = {}) {
      const adapter = createGooglePubSubAdapter({
        apiEndpoint: running().host,
        projectId: running().projectId,
        prefix: unique("t").replace("-", ""),
        requestTimeoutMs: 3_000,
        connectTimeoutMs: 5_000,
        ...options,
      });
      adapters.push(adapter);
      await adapter.connect();
      return adapter;
    },
  };
}
