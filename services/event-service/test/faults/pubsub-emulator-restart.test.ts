import { randomBytes } from "node:crypto";
import { PubSub } from "@google-cloud/pubsub";
import { createConsoleLogger, EventBusClient, Worker } from "@soorma/sdk";
import {
  type PubSubEmulatorHandle,
  type ServiceHandle,
  startPubSubEmulator,
  startService,
  waitFor,
  withDeadline,
} from "@soorma/test-utils";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pubsubAvailability, pubsubSuiteTitle } from "../broker/pubsub-fixture.js";

/**
 * Fault: the Pub/Sub emulator is restarted under a running gateway. The emulator keeps nothing across a
 * restart (no topics, subscriptions or messages), unlike Pub/Sub itself, so this pins down what the gateway
 * does about it rather than claiming durability: `/ready` reports the outage, the inboxes are re-created on
 * the empty emulator without restarting the gateway or its members, and events published afterwards flow
 * again. Events the old emulator still held are gone with it (docs/adapters/pubsub.md).
 */
describe.skipIf(!pubsubAvailability.available)(pubsubSuiteTitle("pubsub fault: emulator restart"), () => {
  let emulator: PubSubEmulatorHandle;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    emulator = await startPubSubEmulator();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("emulator restart - /ready reports the outage, the fresh emulator is empty, the inbox is re-created and new events flow", async () => {
    const gateway = await startService({
      env: {
        ...emulator.env,
        SOORMA_BROKER: "pubsub",
        SOORMA_PUBSUB_PREFIX: `emu${randomBytes(4).toString("hex")}`,
        SOORMA_PUBSUB_PROBE_INTERVAL_MS: "300",
        SOORMA_PUBSUB_REQUEST_TIMEOUT_MS: "2000",
      },
      readyTimeoutMs: 30_000,
    });
    cleanups.push(() => gateway.stop());
    const topic = `emu-${randomBytes(4).toString("hex")}`;
    const type = "fault.emulator.happened";
    const handled = new Set<string>();
    const worker = new Worker({
      name: `emu-group-${randomBytes(4).toString("hex")}`,
      url: gateway.url,
      reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
      logger: createConsoleLogger("error"),
      shutdownTimeoutMs: 2_000,
    });
    worker.onEvent(type, { topic }, (event) => {
      handled.add(event.id);
    });
    await worker.start();
    cleanups.push(() => withDeadline(worker.stop({ force: true, timeout: 2_000 }), 5_000, "worker stop"));
    const publisher = new EventBusClient({
      url: gateway.url,
      reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
      logger: createConsoleLogger("error"),
    });
    await publisher.connect();
    cleanups.push(() => publisher.close({ timeout: 1_000 }));

    const before = await publishMany(publisher, type, topic, 5);
    await waitFor(() => before.every((id) => handled.has(id)), {
      timeoutMs: 10_000,
      message: "events before",
    });

    // A topic only the test knows: the gateway re-creates its own resources at once, so this one shows whether
    // the restarted emulator kept anything.
    const marker = `marker-${randomBytes(4).toString("hex")}`;
    await withClient(emulator, (client) => client.createTopic(marker));
    await emulator.stop();
    const outage = await waitFor(
      async () => {
        const body = await readiness(gateway);
        return body.status === 503 && body.state === "reconnecting" ? body : undefined;
      },
      { timeoutMs: 15_000, message: "/ready reporting the broker as reconnecting" },
    );
    expect(outage.state).toBe("reconnecting");

    await emulator.restart();
    expect(await topicExists(emulator, marker)).toBe(false);
    await waitFor(async () => (await readiness(gateway)).status === 200, {
      timeoutMs: 20_000,
      message: "/ready answering 200 again",
    });

    // Same worker, same gateway process: the pump finds its subscription gone and re-creates it. Events
    // published before it exists again are not kept for the group, so publish until one arrives, then count.
    const probeIds: string[] = [];
    await waitFor(
      async () => {
        probeIds.push(...(await publishMany(publisher, type, topic, 1)));
        return probeIds.some((id) => handled.has(id));
      },
      { timeoutMs: 30_000, intervalMs: 500, message: "an event handled after the restart" },
    );
    const after = await publishMany(publisher, type, topic, 20);
    await waitFor(() => after.every((id) => handled.has(id)), { timeoutMs: 15_000, message: "events after" });
    expect(after.filter((id) => !handled.has(id))).toEqual([]);
  });
});

async function publishMany(
  client: EventBusClient,
  type: string,
  topic: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { event_id: id } = await client.publish(
      { event_type: type, topic, data: { i } },
      { timeout: 10_000 },
    );
    ids.push(id);
  }
  return ids;
}

async function readiness(gateway: ServiceHandle): Promise<{ status: number; state: string | undefined }> {
  const response = await fetch(`${gateway.httpUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
  const body = (await response.json()) as { broker?: { state?: string } };
  return { status: response.status, state: body.broker?.state };
}

async function withClient<T>(
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

async function topicExists(emulator: PubSubEmulatorHandle, name: string): Promise<boolean> {
  return withClient(emulator, async (client) => (await client.topic(name).exists())[0]);
}
