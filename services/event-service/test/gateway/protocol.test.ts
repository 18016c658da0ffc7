import { PROTOCOL_VERSION } from "@soorma/common";
import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { FrameClient } from "./frame-client.js";
import { firstDeliveryAmong, randomName, startGateway, type TestGateway, testEvent } from "./harness.js";

describe("WebSocket protocol", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  async function open(hello: { agent_name?: string; prefetch?: number } = {}) {
    const opened = await FrameClient.open(gateway!.wsUrl, hello);
    clients.push(opened.client);
    return opened;
  }

  async function pending(group: string, topic: string): Promise<number | undefined> {
    const inboxes = await gateway!.adapter.listInboxes();
    return inboxes.find((i) => i.key.group === group && i.key.topic === topic)?.pending;
  }

  it("hello - welcome announces the group, prefetch, lease and limits", async () => {
    gateway = await startGateway({ leaseMs: 4000, maxAttempts: 7, maxMessageBytes: 8192 });
    const group = randomName("g");
    const { welcome } = await open({ agent_name: group, prefetch: 3 });
    expect(welcome).toMatchObject({
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      group,
      prefetch: 3,
      lease_ms: 4000,
      max_attempts: 7,
      max_message_bytes: 8192,
    });
    expect(welcome.connection_id).not.toBe("");
    expect(welcome.server_version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("hello - without agent_name the group is the agent id", async () => {
    gateway = await startGateway();
    const client = await FrameClient.connect(gateway.wsUrl);
    clients.push(client);
    const welcome = await client.hello({ agent_id: "solo-agent-1" });
    expect(welcome.group).toBe("solo-agent-1");
  });

  it("round trip - a subscriber receives a published event; its ack empties the inbox", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const group = randomName("g");
    const { client: consumer } = await open({ agent_name: group });
    expect(await consumer.subscribe(topic)).toMatchObject({ topic, group });
    const { client: producer } = await open();
    const published = await producer.publish(testEvent(topic, "order.placed", { id: "evt-1" }));
    expect(published).toMatchObject({ event_id: "evt-1", duplicate: false });

    const delivery = await consumer.next("delivery");
    expect(delivery).toMatchObject({ topic, attempt: 1, max_attempts: 5, lease_ms: 30_000 });
    expect(delivery.event).toMatchObject({ id: "evt-1", type: "order.placed", data: { n: 1 } });
    consumer.send({ type: "ack", delivery_id: delivery.delivery_id });
    await waitFor(async () => (await pending(group, topic)) === 0, { message: "inbox emptied by the ack" });
  });

  it("publish - the same id twice is confirmed as a duplicate and delivered once", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const { client } = await open({ agent_name: randomName("g") });
    await client.subscribe(topic);
    const first = await client.publish(testEvent(topic, "x.y", { id: "same-id" }));
    const second = await client.publish(testEvent(topic, "x.y", { id: "same-id" }));
    expect([first.duplicate, second.duplicate]).toEqual([false, true]);
    const delivery = await client.next("delivery");
    client.send({ type: "ack", delivery_id: delivery.delivery_id });
    const marker = await client.publish(testEvent(topic, "x.marker"));
    const next = await client.next("delivery");
    expect(next.event.id).toBe(marker.event_id);
  });

  it("platform tenant - a client-sent platform_tenant_id is replaced by the connection's tenant", async () => {
    gateway = await startGateway({ defaultTenant: "acme" });
    const topic = randomName("t");
    const { client } = await open({ agent_name: randomName("g") });
    await client.subscribe(topic);
    await client.publish(testEvent(topic, "x.y", { platform_tenant_id: "someone-else" }));
    const delivery = await client.next("delivery");
    expect(delivery.event.platform_tenant_id).toBe("acme");
  });

  it("broadcast - two groups each receive every event", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const { client: audit } = await open({ agent_name: randomName("audit") });
    const { client: analytics } = await open({ agent_name: randomName("analytics") });
    await audit.subscribe(topic);
    await analytics.subscribe(topic);
    for (let i = 0; i < 5; i++) await audit.publish(testEvent(topic, "order.placed", { id: `o-${i}` }));
    for (const client of [audit, analytics]) {
      const ids = (await client.deliveries(5)).map((d) => d.event.id).sort();
      expect(ids).toEqual(["o-0", "o-1", "o-2", "o-3", "o-4"]);
    }
  });

  it("store-and-forward - events published while a group has no member arrive when one subscribes again", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const group = randomName("g");
    const first = await open({ agent_name: group });
    await first.client.subscribe(topic);
    await first.client.close();
    const { client: producer } = await open();
    await producer.publish(testEvent(topic, "x.y", { id: "while-away" }));
    const { client: comeback } = await open({ agent_name: group });
    await comeback.subscribe(topic);
    expect((await comeback.next("delivery")).event.id).toBe("while-away");
  });

  it("unsubscribe - the connection stops receiving the topic while the group's inbox keeps its events", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const group = randomName("g");
    const { client } = await open({ agent_name: group });
    await client.subscribe(topic);
    client.send({ type: "unsubscribe", req_id: "u-1", topic });
    await client.reply("u-1", "unsubscribed");
    await client.publish(testEvent(topic, "x.y", { id: "kept" }));
    await waitFor(async () => (await pending(group, topic)) === 1, { message: "event kept for the group" });
    await client.subscribe(topic);
    expect((await client.next("delivery")).event.id).toBe("kept");
    expect(client.received.filter((f) => f.type === "delivery")).toHaveLength(1);
  });

  it("nack - a nacked delivery comes back with attempt 2 after its delay", async () => {
    gateway = await startGateway({ retryBaseMs: 0, retryMaxMs: 0 });
    const topic = randomName("t");
    const { client } = await open({ agent_name: randomName("g") });
    await client.subscribe(topic);
    await client.publish(testEvent(topic));
    const first = await client.next("delivery");
    client.send({
      type: "nack",
      delivery_id: first.delivery_id,
      delay_ms: 50,
      error: { message: "try again" },
    });
    const second = await client.next("delivery");
    expect(second.event.id).toBe(first.event.id);
    expect(second.attempt).toBe(2);
    expect(second.delivery_id).not.toBe(first.delivery_id);
  });

  it("in_progress - renewing keeps a delivery past its lease", async () => {
    gateway = await startGateway({ leaseMs: 300 });
    const topic = randomName("t");
    const group = randomName("g");
    const { client: worker } = await open({ agent_name: group, prefetch: 1 });
    const { client: sibling } = await open({ agent_name: group, prefetch: 1 });
    await worker.subscribe(topic);
    await sibling.subscribe(topic);
    await worker.publish(testEvent(topic));
    const holder = await firstDeliveryAmong([worker, sibling]);
    // Renew for three lease periods; any redelivery would show up as a second delivery frame.
    const renewUntil = Date.now() + 900;
    while (Date.now() < renewUntil) {
      holder.client.send({ type: "in_progress", delivery_id: holder.delivery.delivery_id });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    holder.client.send({ type: "ack", delivery_id: holder.delivery.delivery_id });
    await waitFor(async () => (await pending(group, topic)) === 0, { message: "acked after renewals" });
    const deliveries = [...worker.received, ...sibling.received].filter((f) => f.type === "delivery");
    expect(deliveries).toHaveLength(1);
    expect(holder.client.received.some((f) => f.type === "error")).toBe(false);
  });

  it("lease - a delivery neither settled nor renewed within lease_ms goes to another member", async () => {
    gateway = await startGateway({ leaseMs: 300 });
    const topic = randomName("t");
    const group = randomName("g");
    const { client: a } = await open({ agent_name: group, prefetch: 1 });
    const { client: b } = await open({ agent_name: group, prefetch: 1 });
    await a.subscribe(topic);
    await b.subscribe(topic);
    await a.publish(testEvent(topic, "x.y", { id: "slow" }));
    const taken = await firstDeliveryAmong([a, b]);
    const first = { owner: taken.client, other: taken.client === a ? b : a, delivery: taken.delivery };
    const redelivered = await first.other.next("delivery", 5000);
    expect(redelivered.event.id).toBe("slow");
    expect(redelivered.attempt).toBe(2);
    // The expired delivery id is gone: its late ack is refused, the new one is accepted.
    first.owner.send({ type: "ack", delivery_id: first.delivery.delivery_id });
    const refused = await first.owner.next("error");
    expect(refused).toMatchObject({
      code: "SOORMA_ERR_DELIVERY_UNKNOWN",
      delivery_id: first.delivery.delivery_id,
    });
    first.other.send({ type: "ack", delivery_id: redelivered.delivery_id });
    await waitFor(async () => (await pending(group, topic)) === 0, { message: "acked by the second member" });
  });

  it("disconnect - deliveries of a member whose socket closes go to another member at once", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const group = randomName("g");
    const { client: leaver } = await open({ agent_name: group, prefetch: 5 });
    await leaver.subscribe(topic);
    for (let i = 0; i < 3; i++) await leaver.publish(testEvent(topic, "x.y", { id: `d-${i}` }));
    await leaver.deliveries(3);
    const { client: stayer } = await open({ agent_name: group, prefetch: 5 });
    await stayer.subscribe(topic);
    await leaver.close();
    // Lease is 30 s: arriving well before that proves the disconnect, not the lease, sent them back.
    const redelivered = await stayer.deliveries(3, 3000);
    expect(redelivered.map((d) => d.event.id).sort()).toEqual(["d-0", "d-1", "d-2"]);
    expect(redelivered.every((d) => d.attempt === 2)).toBe(true);
  });

  it("prefetch - a member never holds more deliveries than its prefetch; the backlog stays in the broker", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const group = randomName("g");
    const { client } = await open({ agent_name: group, prefetch: 2 });
    await client.subscribe(topic);
    for (let i = 0; i < 10; i++) await client.publish(testEvent(topic, "x.y", { id: `p-${i}` }));
    const held = await client.deliveries(2);
    await waitFor(async () => (await pending(group, topic)) === 10, { message: "all ten pending" });
    expect(gateway.app.dispatcher.snapshot()[0]?.members[0]?.inFlight).toBe(2);
    client.send({ type: "ack", delivery_id: held[0]!.delivery_id });
    await client.next("delivery");
    expect(client.received.filter((f) => f.type === "delivery")).toHaveLength(3);
  });

  it("event types - events of a type the group does not handle are acked without delivery", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const group = randomName("g");
    const { client } = await open({ agent_name: group });
    await client.subscribe(topic, ["wanted.type"]);
    await client.publish(testEvent(topic, "unwanted.type", { id: "skip-me" }));
    await client.publish(testEvent(topic, "wanted.type", { id: "take-me" }));
    const delivery = await client.next("delivery");
    expect(delivery.event.id).toBe("take-me");
    client.send({ type: "ack", delivery_id: delivery.delivery_id });
    await waitFor(async () => (await pending(group, topic)) === 0, { message: "both events left the inbox" });
    expect(client.received.filter((f) => f.type === "delivery")).toHaveLength(1);
  });
});
