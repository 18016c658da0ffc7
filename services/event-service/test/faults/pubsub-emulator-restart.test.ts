import { EventBusClient } from "@soorma/sdk";
import { type PubSubEmulatorHandle, type ServiceHandle, waitFor } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import {
  pubsubAvailability,
  pubsubSuiteTitle,
  useEmulator,
  withPubSubClient,
} from "../broker/pubsub-fixture.js";
import { cleanupAfterEach } from "./cleanups.js";
import {
  pubsubWorker,
  QUIET_FAST_RECONNECT,
  randomHex,
  startPubSubGateway,
  startWorker,
} from "./pubsub-support.js";

/**
 * Fault: the Pub/Sub emulator is restarted under a running gateway. The emulator keeps nothing across a
 * restart (no topics, subscriptions or messages), unlike Pub/Sub itself, so this pins down what the gateway
 * does about it rather than claiming durability: `/ready` reports the outage, the inboxes are re-created on
 * the empty emulator without restarting the gateway or its members, and events published afterwards flow
 * again. Events the old emulator still held are gone with it (docs/adapters/pubsub.md).
 */
describe.skipIf(!pubsubAvailability.available)(pubsubSuiteTitle("pubsub fault: emulator restart"), () => {
  const suite = useEmulator();
  const cleanups = cleanupAfterEach();

  it("emulator restart - /ready reports the outage, the fresh emulator is empty, the inbox is re-created and new events flow", async () => {
    const emulator = suite.emulator;
    const gateway = await startPubSubGateway(emulator, "emu", {
      SOORMA_PUBSUB_PROBE_INTERVAL_MS: "300",
      SOORMA_PUBSUB_REQUEST_TIMEOUT_MS: "2000",
    });
    cleanups.push(() => gateway.stop());
    const topic = `emu-${randomHex()}`;
    const type = "fault.emulator.happened";
    const handled = new Set<string>();
    const worker = pubsubWorker(gateway, `emu-group-${randomHex()}`);
    worker.onEvent(type, { topic }, (event) => {
      handled.add(event.id);
    });
    await startWorker(worker, cleanups);
    const publisher = new EventBusClient({ ...QUIET_FAST_RECONNECT, url: gateway.url });
    await publisher.connect();
    cleanups.push(() => publisher.close({ timeout: 1_000 }));

    const before = await publishMany(publisher, type, topic, 5);
    await waitFor(() => before.every((id) => handled.has(id)), {
      timeoutMs: 10_000,
      message: "events before",
    });

    // A topic only the test knows: the gateway re-creates its own resources at once, so this one shows whether
    // the restarted emulator kept anything.
    const marker = `marker-${randomHex()}`;
    await withPubSubClient(emulator, (client) => client.createTopic(marker));
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

async function topicExists(emulator: PubSubEmulatorHandle, name: string): Promise<boolean> {
  return withPubSubClient(emulator, async (client) => (await client.topic(name).exists())[0]);
}
