import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { BrokerAdapter } from "../../src/broker/adapter.js";
import { createMemoryAdapter } from "../../src/broker/memory.js";
import { FrameClient, nextReqId } from "./frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "./harness.js";

describe("graceful drain", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  async function pending(group: string, topic: string): Promise<number | undefined> {
    const inboxes = await gateway!.adapter.listInboxes();
    return inboxes.find((i) => i.key.group === group && i.key.topic === topic)?.pending;
  }

  it("drain - members are told, new work and upgrades get SOORMA_ERR_DRAINING, un-acked deliveries stay in the broker", async () => {
    gateway = await startGateway();
    const group = randomName("g");
    const topic = randomName("t");
    const { client } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 2 });
    clients.push(client);
    await client.subscribe(topic);
    for (let i = 0; i < 3; i++) await client.publish(testEvent(topic));
    await client.deliveries(2);

    const drained = gateway.app.soorma.drain({ timeoutMs: 400 });
    expect(await client.next("draining")).toEqual({ type: "draining", deadline_ms: 400 });
    const publishId = nextReqId();
    client.send({ type: "publish", req_id: publishId, event: testEvent(topic) });
    expect(await client.next("error")).toMatchObject({ code: "SOORMA_ERR_DRAINING", req_id: publishId });
    const subscribeId = nextReqId();
    client.send({ type: "subscribe", req_id: subscribeId, topic: randomName("late") });
    expect(await client.next("error")).toMatchObject({ code: "SOORMA_ERR_DRAINING", req_id: subscribeId });
    await expect(FrameClient.connect(gateway.wsUrl)).rejects.toThrow("HTTP 503");

    await drained;
    expect((await client.closed).code).toBe(1001);
    expect(gateway.app.dispatcher.inFlight).toBe(0);
    // The two held deliveries were handed back (attempt 2), the third was never pulled (attempt 1).
    expect((await pullNow(gateway.adapter, group, topic)).sort()).toEqual([1, 2, 2]);
  });

  it("drain - waits for in-flight deliveries to be acked, then closes the connections", async () => {
    gateway = await startGateway();
    const group = randomName("g");
    const topic = randomName("t");
    const { client } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 4 });
    clients.push(client);
    await client.subscribe(topic);
    for (let i = 0; i < 2; i++) await client.publish(testEvent(topic));
    const held = await client.deliveries(2);

    const startedAt = Date.now();
    const drained = gateway.app.soorma.drain({ timeoutMs: 20_000 });
    await client.next("draining");
    for (const delivery of held) client.send({ type: "ack", delivery_id: delivery.delivery_id });
    await drained;
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect((await client.closed).code).toBe(1001);
    await waitFor(async () => (await pending(group, topic)) === 0, {
      message: "both acks reached the broker",
    });
  });

  it("close - app.close() without a drain hands held deliveries back and closes the sockets", async () => {
    const memory = createMemoryAdapter();
    let attemptsAtAdapterClose: number[] = [];
    const group = randomName("g");
    const topic = randomName("t");
    // Same adapter, observed: read the inbox just before the app closes it.
    const observed: BrokerAdapter = Object.assign(Object.create(memory) as BrokerAdapter, {
      close: async () => {
        attemptsAtAdapterClose = await pullNow(memory, group, topic);
        await memory.close();
      },
    });
    gateway = await startGateway({}, observed);
    const { client } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 4 });
    clients.push(client);
    await client.subscribe(topic);
    await client.publish(testEvent(topic));
    await client.deliveries(1);
    await gateway.close();
    gateway = undefined;
    expect((await client.closed).code).toBe(1001);
    // Handed back (nacked), not merely left leased: a fresh consumer gets it at once, as attempt 2.
    expect(attemptsAtAdapterClose).toEqual([2]);
  });
});

/** Attempts of every message a fresh consumer can lease from the inbox right now (leased ones are not). */
async function pullNow(adapter: BrokerAdapter, group: string, topic: string): Promise<number[]> {
  const consumer = await adapter.openInbox(
    { tenant: "default", group, topic },
    { leaseMs: 10_000, maxInFlight: 10 },
  );
  try {
    const messages = await consumer.pull(10, { waitMs: 200 });
    return messages.map((m) => m.attempt);
  } finally {
    await consumer.close();
  }
}
