import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { BrokerUnavailableError, createEnvelope, type EventEnvelope } from "@soorma/common";
import { type NatsServerHandle, requireBroker, startNatsServer, waitFor } from "@soorma/test-utils";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BrokerAdapter, BrokerMessage, InboxConsumer, InboxKey } from "../../src/broker/adapter.js";
import { brokerAckWaitMs } from "../../src/broker/nats/durable-consumers.js";
import { durableName } from "../../src/broker/nats/naming.js";
import {
  createNatsJetStreamAdapter,
  type NatsJetStreamAdapterOptions,
} from "../../src/broker/nats-jetstream.js";

const nats = requireBroker("nats");

const LEASE = { leaseMs: 30_000, maxInFlight: 16 };

function unique(prefix: string): string {
  return `${prefix}${randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

function event(topic: string, fields: Partial<EventEnvelope> = {}): EventEnvelope {
  return createEnvelope({
    source: "nats-test",
    type: "order.placed",
    topic,
    platform_tenant_id: "acme",
    data: {},
    ...fields,
  });
}

/** Pull until `count` messages arrived (or the deadline), acking nothing. */
async function pullAtLeast(
  consumer: InboxConsumer,
  count: number,
  timeoutMs = 5_000,
): Promise<BrokerMessage[]> {
  const got: BrokerMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await consumer.pull(count - got.length, { waitMs: 200 })));
  }
  return got;
}

describe.skipIf(!nats.available)("nats jetstream adapter", () => {
  let server: NatsServerHandle;
  const adapters: BrokerAdapter[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
  });

  /** A connected adapter on its own stream and subject prefix (pass `same` to share another one's). */
  async function makeAdapter(options: NatsJetStreamAdapterOptions = {}): Promise<BrokerAdapter> {
    const id = unique("");
    const adapter = createNatsJetStreamAdapter({
      servers: server.url,
      stream: `S_${id}`,
      subjectPrefix: `t${id}`,
      reconnectWaitMs: 100,
      requestTimeoutMs: 2_000,
      ...options,
    });
    adapters.push(adapter);
    await adapter.connect();
    return adapter;
  }

  function inbox(topic: string, group = unique("g"), tenant = "acme"): InboxKey {
    return { tenant, group, topic };
  }

  it("publish - resolves on the PubAck; the same id again within the window is a duplicate stored once", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    await adapter.ensureInbox(key);
    const first = event(key.topic);
    expect(await adapter.publish(first)).toEqual({ eventId: first.id, duplicate: false });
    expect(await adapter.publish({ ...first, data: { again: true } })).toEqual({
      eventId: first.id,
      duplicate: true,
    });
    const consumer = await adapter.openInbox(key, LEASE);
    const got = await consumer.pull(10, { waitMs: 300 });
    expect(got.map((m) => m.envelope.id)).toEqual([first.id]);
    expect(got[0]?.envelope.data).toEqual({});
  });

  it("publish - the same event id in two tenants is two events", async () => {
    const adapter = await makeAdapter();
    const topic = unique("topic-");
    const a = inbox(topic, "g", "tenant-a");
    const b = inbox(topic, "g", "tenant-b");
    await adapter.ensureInbox(a);
    await adapter.ensureInbox(b);
    const id = randomUUID();
    expect((await adapter.publish(event(topic, { id, platform_tenant_id: "tenant-a" }))).duplicate).toBe(
      false,
    );
    expect((await adapter.publish(event(topic, { id, platform_tenant_id: "tenant-b" }))).duplicate).toBe(
      false,
    );
    const fromA = await (await adapter.openInbox(a, LEASE)).pull(10, { waitMs: 300 });
    const fromB = await (await adapter.openInbox(b, LEASE)).pull(10, { waitMs: 300 });
    expect(fromA.map((m) => m.envelope.platform_tenant_id)).toEqual(["tenant-a"]);
    expect(fromB.map((m) => m.envelope.platform_tenant_id)).toEqual(["tenant-b"]);
  });

  it("publish - an event without platform_tenant_id is refused", async () => {
    const adapter = await makeAdapter();
    await expect(adapter.publish(event("orders", { platform_tenant_id: null }))).rejects.toMatchObject({
      code: "SOORMA_ERR_ENVELOPE_INVALID",
    });
  });

  it("inbox - gets only events published after it exists, kept while nobody pulls", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    const before = event(key.topic);
    await adapter.publish(before);
    await adapter.ensureInbox(key);
    const after = [event(key.topic), event(key.topic)];
    for (const e of after) await adapter.publish(e);
    const consumer = await adapter.openInbox(key, LEASE);
    const got = await pullAtLeast(consumer, 2);
    expect(got.map((m) => m.envelope.id)).toEqual(after.map((e) => e.id));
    expect(await consumer.pull(10, { waitMs: 200 })).toEqual([]);
  });

  it("pull - returns the backlog oldest first, at most max, each with attempt 1", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    await adapter.ensureInbox(key);
    const events = Array.from({ length: 7 }, (_, n) => event(key.topic, { data: { n } }));
    for (const e of events) await adapter.publish(e);
    const consumer = await adapter.openInbox(key, LEASE);
    const first = await consumer.pull(5, { waitMs: 0 });
    const second = await consumer.pull(5, { waitMs: 0 });
    expect(first.map((m) => m.envelope.id)).toEqual(events.slice(0, 5).map((e) => e.id));
    expect(second.map((m) => m.envelope.id)).toEqual(events.slice(5).map((e) => e.id));
    expect([...first, ...second].every((m) => m.attempt === 1)).toBe(true);
  });

  it("pull - a waiting pull returns as soon as an event arrives, and [] after waitMs when none does", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    const consumer = await adapter.openInbox(key, LEASE);
    let startedAt = Date.now();
    expect(await consumer.pull(5, { waitMs: 300 })).toEqual([]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);

    startedAt = Date.now();
    const waiting = consumer.pull(5, { waitMs: 10_000 });
    const published = event(key.topic);
    await adapter.publish(published);
    const got = await waiting;
    expect(got.map((m) => m.envelope.id)).toEqual([published.id]);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it("pull - an abort resolves [] at once and the event is still delivered by the next pull", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    const consumer = await adapter.openInbox(key, LEASE);
    const controller = new AbortController();
    const startedAt = Date.now();
    const waiting = consumer.pull(5, { waitMs: 10_000, signal: controller.signal });
    controller.abort();
    expect(await waiting).toEqual([]);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    const published = event(key.topic);
    await adapter.publish(published);
    const got = await pullAtLeast(consumer, 1);
    expect(got.map((m) => [m.envelope.id, m.attempt])).toEqual([[published.id, 1]]);
  });

  it("ack - an acked event is gone for good; an un-acked one comes back after the ack wait with attempt 2", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    await adapter.ensureInbox(key);
    const acked = event(key.topic);
    const dropped = event(key.topic);
    await adapter.publish(acked);
    await adapter.publish(dropped);
    const consumer = await adapter.openInbox(key, { leaseMs: 200, maxInFlight: 16 });
    const first = await pullAtLeast(consumer, 2);
    await first.find((m) => m.envelope.id === acked.id)?.ack();
    const again = await pullAtLeast(consumer, 1, 5_000);
    expect(again.map((m) => [m.envelope.id, m.attempt])).toEqual([[dropped.id, 2]]);
    await again[0]?.ack();
    expect(await consumer.pull(10, { waitMs: brokerAckWaitMs(200) + 300 })).toEqual([]);
  });

  it("nack - redelivered after the requested delay with attempt 2, not before", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    await adapter.ensureInbox(key);
    const published = event(key.topic);
    await adapter.publish(published);
    const consumer = await adapter.openInbox(key, LEASE);
    const [message] = await pullAtLeast(consumer, 1);
    const nackedAt = Date.now();
    await message?.nack(700);
    const again = await pullAtLeast(consumer, 1, 5_000);
    expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(600);
    expect(again.map((m) => [m.envelope.id, m.attempt])).toEqual([[published.id, 2]]);
  });

  it("touch - in-progress keeps a message leased past the broker's ack wait; once it stops, the message comes back", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    await adapter.ensureInbox(key);
    await adapter.publish(event(key.topic));
    const leaseMs = 200;
    const consumer = await adapter.openInbox(key, { leaseMs, maxInFlight: 16 });
    const [message] = await pullAtLeast(consumer, 1);
    const keepAlive = setInterval(() => void message?.touch(), 150);
    try {
      // Two ack waits long: without the touches it would have come back by now.
      expect(await consumer.pull(1, { waitMs: 2 * brokerAckWaitMs(leaseMs) })).toEqual([]);
    } finally {
      clearInterval(keepAlive);
    }
    const again = await pullAtLeast(consumer, 1, 2 * brokerAckWaitMs(leaseMs));
    expect(again.map((m) => m.attempt)).toEqual([2]);
  });

  it("broadcast - two groups each get every event; other topics and tenants stay apart", async () => {
    const adapter = await makeAdapter();
    const topic = unique("topic-");
    const groupA = inbox(topic);
    const groupB = inbox(topic);
    const otherTopic = inbox(unique("topic-"), groupA.group);
    const otherTenant = inbox(topic, groupA.group, "globex");
    for (const key of [groupA, groupB, otherTopic, otherTenant]) await adapter.ensureInbox(key);
    const events = Array.from({ length: 20 }, () => event(topic, { type: "order.line.added" }));
    for (const e of events) await adapter.publish(e);
    for (const key of [groupA, groupB]) {
      const got = await pullAtLeast(await adapter.openInbox(key, LEASE), 20);
      expect(got.map((m) => m.envelope.id)).toEqual(events.map((e) => e.id));
      expect(got[0]?.envelope.type).toBe("order.line.added");
    }
    for (const key of [otherTopic, otherTenant]) {
      expect(await (await adapter.openInbox(key, LEASE)).pull(10, { waitMs: 200 })).toEqual([]);
    }
  });

  it("load sharing - two replicas pulling one inbox share 200 events, each leased to one of them", async () => {
    const first = await makeAdapter();
    const stream = unique("S_");
    const subjectPrefix = unique("t");
    await first.close();
    const replicaA = await makeAdapter({ stream, subjectPrefix });
    const replicaB = await makeAdapter({ stream, subjectPrefix });
    const key = inbox(unique("topic-"));
    await replicaA.ensureInbox(key);
    const consumers = [await replicaA.openInbox(key, LEASE), await replicaB.openInbox(key, LEASE)];
    const events = Array.from({ length: 200 }, (_, n) => event(key.topic, { data: { n } }));
    const handledBy = new Map<string, number>();
    const duplicates: string[] = [];
    const stop = new AbortController();
    const loops = consumers.map(async (consumer, index) => {
      while (!stop.signal.aborted) {
        const messages = await consumer.pull(8, { waitMs: 300, signal: stop.signal });
        for (const message of messages) {
          if (handledBy.has(message.envelope.id)) duplicates.push(message.envelope.id);
          handledBy.set(message.envelope.id, index);
          await message.ack();
        }
      }
    });
    await Promise.all(events.map((e) => replicaB.publish(e)));
    await waitFor(() => handledBy.size === events.length, { timeoutMs: 15_000, message: "all 200 handled" });
    stop.abort();
    await Promise.all(loops);
    expect(duplicates).toEqual([]);
    const counts = [0, 1].map((index) => [...handledBy.values()].filter((v) => v === index).length);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it("listInboxes - lists this adapter's inboxes with pending counts, by tenant", async () => {
    const adapter = await makeAdapter();
    const topic = unique("topic-");
    const acme = inbox(topic, "billing");
    const globex = inbox(topic, "billing", "globex");
    await adapter.ensureInbox(acme);
    await adapter.ensureInbox(globex);
    for (let n = 0; n < 3; n++) await adapter.publish(event(topic));
    const all = await adapter.listInboxes();
    expect(all).toEqual(
      expect.arrayContaining([
        { key: acme, pending: 3 },
        { key: globex, pending: 0 },
      ]),
    );
    expect(await adapter.listInboxes("globex")).toEqual([{ key: globex, pending: 0 }]);
    const [leased] = await pullAtLeast(await adapter.openInbox(acme, LEASE), 1);
    expect(leased).toBeDefined();
    // Leased but not acked still counts as pending.
    expect(await adapter.listInboxes("acme")).toEqual([{ key: acme, pending: 3 }]);
  });

  it("openInbox - the consumer's ack wait follows the lease and max_ack_pending grows with maxInFlight", async () => {
    const stream = unique("S_");
    const adapter = await makeAdapter({ stream, minMaxAckPending: 10 });
    const key = inbox(unique("topic-"));
    await adapter.openInbox(key, { leaseMs: 4_000, maxInFlight: 3 });
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      let info = await jsm.consumers.info(stream, durableName(key));
      expect(info.config).toMatchObject({
        ack_wait: brokerAckWaitMs(4_000) * 1e6,
        max_ack_pending: 10,
        deliver_policy: "new",
      });
      expect(brokerAckWaitMs(4_000)).toBeGreaterThan(4_000);
      await adapter.openInbox(key, { leaseMs: 5_000, maxInFlight: 50 });
      info = await jsm.consumers.info(stream, durableName(key));
      expect(info.config).toMatchObject({ ack_wait: brokerAckWaitMs(5_000) * 1e6, max_ack_pending: 50 });
      await adapter.openInbox(key, { leaseMs: 5_000, maxInFlight: 20 });
      info = await jsm.consumers.info(stream, durableName(key));
      expect(info.config.max_ack_pending).toBe(50);
    } finally {
      await nc.close();
    }
  });

  it("close - an event caught by an aborted pull is given back on close, not held for the lease", async () => {
    const adapter = await makeAdapter();
    const key = inbox(unique("topic-"));
    const leased = { leaseMs: 60_000, maxInFlight: 16 };
    const first = await adapter.openInbox(key, leased);
    const controller = new AbortController();
    const waiting = first.pull(1, { waitMs: 10_000, signal: controller.signal });
    const published = event(key.topic);
    await adapter.publish(published);
    // Aborted while the event is on its way: the consumer keeps it instead of dropping it.
    controller.abort();
    // Should the pull have won the race, release the event as the core would.
    for (const message of await waiting) await message.nack(0);
    await first.close();
    await expect(first.pull(1, { waitMs: 0 })).rejects.toBeInstanceOf(BrokerUnavailableError);
    const second = await adapter.openInbox(key, leased);
    const again = await pullAtLeast(second, 1, 3_000);
    expect(again.map((m) => m.envelope.id)).toEqual([published.id]);
  });

  it("decode - a plain client's event on the documented subject is delivered; a non-envelope is terminated", async () => {
    const stream = unique("S_");
    const subjectPrefix = unique("t");
    const adapter = await makeAdapter({ stream, subjectPrefix });
    const key = inbox(unique("topic-"));
    await adapter.ensureInbox(key);
    const nc = await connect({ servers: server.url });
    try {
      const js = (await jetstreamManager(nc)).jetstream();
      const subject = `${subjectPrefix}.${key.tenant}.${key.topic}.invoice.paid`;
      await js.publish(subject, "this is not JSON");
      await js.publish(subject, JSON.stringify({ source: "billing", data: { amount: 5 } }), {
        msgID: "inv-1",
      });
    } finally {
      await nc.close();
    }
    const consumer = await adapter.openInbox(key, LEASE);
    const got = await pullAtLeast(consumer, 1);
    expect(got.map((m) => m.envelope)).toEqual([
      expect.objectContaining({
        id: "inv-1",
        source: "billing",
        type: "invoice.paid",
        topic: key.topic,
        platform_tenant_id: key.tenant,
        data: { amount: 5 },
      }),
    ]);
    await got[0]?.ack();
    // The undecodable one was terminated: nothing is left, not even after its lease would have run out.
    await waitFor(async () => (await adapter.listInboxes(key.tenant))[0]?.pending === 0, {
      timeoutMs: 3_000,
    });
  });

  it("connect - an unreachable server rejects with BrokerUnavailableError within the connect timeout", async () => {
    const adapter = createNatsJetStreamAdapter({ servers: "nats://127.0.0.1:1", connectTimeoutMs: 1_000 });
    adapters.push(adapter);
    await expect(adapter.connect()).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(adapter.status().state).not.toBe("ready");
  });

  it("status - ready after connect, closed after close; close is idempotent", async () => {
    const adapter = await makeAdapter();
    expect(adapter.status()).toEqual({ state: "ready" });
    expect(adapter.capabilities).toEqual({
      durable: true,
      multiReplica: true,
      survivesBrokerRestart: true,
      durableDedupe: true,
    });
    const closing = adapter.close();
    expect(adapter.close()).toBe(closing);
    await closing;
    expect(adapter.status()).toEqual({ state: "closed" });
    await expect(adapter.publish(event("orders"))).rejects.toBeInstanceOf(BrokerUnavailableError);
  });
});
