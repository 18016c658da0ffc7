import { PubSub, type Topic, v1 } from "@google-cloud/pubsub";
import { withDeadline } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import type { BrokerMessage } from "../../src/broker/adapter.js";
import {
  eventFor,
  inboxKey,
  pubsubAvailability,
  pubsubSuiteTitle,
  pullAtLeast,
  pullOnce,
  unique,
  useEmulator,
} from "./pubsub-fixture.js";

const INBOX = { leaseMs: 30_000, maxInFlight: 100 } as const;

describe.skipIf(!pubsubAvailability.available)(pubsubSuiteTitle("google pubsub adapter (emulator)"), () => {
  const fixture = useEmulator();

  describe("1 publish", () => {
    it("publish, pull, ack - the event arrives once with attempt 1 and is gone after the ack", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, INBOX);
      const event = eventFor(key);
      expect(await adapter.publish(event)).toEqual({ eventId: event.id, duplicate: false });
      const [message, ...rest] = await pullAtLeast(consumer, 1);
      expect(rest).toEqual([]);
      expect(message?.envelope).toEqual(event);
      expect(message?.attempt).toBe(1);
      await message?.ack();
      expect(await pullOnce(consumer, 10, 1_000)).toEqual([]);
    });

    it("fan-out - two groups each get the event once, another tenant's inbox gets nothing", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const other = { ...key, group: unique("group") };
      const otherTenant = { ...key, tenant: unique("tenant") };
      const consumers = await Promise.all([key, other, otherTenant].map((k) => adapter.openInbox(k, INBOX)));
      const event = eventFor(key);
      await adapter.publish(event);
      for (const consumer of consumers.slice(0, 2)) {
        const messages = await pullAtLeast(consumer, 1);
        expect(messages.map((m) => m.envelope.id)).toEqual([event.id]);
        await messages[0]?.ack();
      }
      expect(await pullOnce(consumers[2]!, 10, 1_000)).toEqual([]);
    });

    it("dedupe - a second publish of one id is a duplicate and delivered once", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, INBOX);
      const event = eventFor(key);
      const [first, second] = await Promise.all([adapter.publish(event), adapter.publish(event)]);
      expect([first.duplicate, second.duplicate].sort()).toEqual([false, true]);
      expect((await adapter.publish(event)).duplicate).toBe(true);
      const messages = await pullAtLeast(consumer, 1);
      await Promise.all(messages.map((m) => m.ack()));
      expect(await pullOnce(consumer, 10, 1_000)).toEqual([]);
    });

    it("store-and-forward - a subscription keeps only events published after it exists", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const before = eventFor(key);
      expect((await adapter.publish(before)).duplicate).toBe(false);
      await adapter.ensureInbox(key);
      const after = eventFor(key);
      await adapter.publish(after);
      const consumer = await adapter.openInbox(key, INBOX);
      const messages = await pullAtLeast(consumer, 1);
      expect(messages.map((m) => m.envelope.id)).toEqual([after.id]);
      await messages[0]?.ack();
      expect(await pullOnce(consumer, 10, 1_000)).toEqual([]);
    });

    it("provisioning ahead - an inbox ensured before any gateway consumes keeps events for the first one", async () => {
      const provisioner = await fixture.adapter();
      const key = inboxKey();
      await provisioner.ensureInbox(key);
      const events = [eventFor(key), eventFor(key), eventFor(key)];
      for (const event of events) await provisioner.publish(event);
      await provisioner.close();

      const gateway = await fixture.adapter({ prefix: prefixOf(provisioner.resourcesOf(key).topic) });
      const consumer = await gateway.openInbox(key, INBOX);
      const messages = await pullAtLeast(consumer, 3);
      expect(messages.map((m) => m.envelope.id).sort()).toEqual(events.map((e) => e.id).sort());
      await Promise.all(messages.map((m) => m.ack()));
    });
  });

  describe("2 leases and redelivery", () => {
    it("nack without delay - redelivered at once with attempt 2, then 3", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, INBOX);
      await adapter.publish(eventFor(key));
      const attempts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [message] = await pullAtLeast(consumer, 1, 5_000);
        attempts.push(message!.attempt);
        await message!.nack(0);
      }
      expect(attempts).toEqual([1, 2, 3]);
    });

    it("nack with delay - redelivered no sooner than the delay, with attempt 2", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, INBOX);
      await adapter.publish(eventFor(key));
      const [first] = await pullAtLeast(consumer, 1);
      const nackedAt = Date.now();
      await first!.nack(2_000);
      expect(await pullOnce(consumer, 10, 1_000)).toEqual([]);
      const [again] = await pullAtLeast(consumer, 1, 10_000);
      expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(1_900);
      expect(again?.attempt).toBe(2);
      expect(again?.envelope.id).toBe(first?.envelope.id);
      await again?.ack();
    });

    it("lease expiry - a message nobody settles is redelivered after the lease with attempt 2", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const holder = await adapter.openInbox(key, { leaseMs: 1_000, maxInFlight: 10 });
      const other = await adapter.openInbox(key, { leaseMs: 30_000, maxInFlight: 10 });
      await adapter.publish(eventFor(key));
      const [held] = await pullAtLeast(holder, 1);
      const pulledAt = Date.now();
      const [redelivered] = await pullAtLeast(other, 1, 10_000);
      expect(Date.now() - pulledAt).toBeGreaterThanOrEqual(800);
      expect(redelivered?.envelope.id).toBe(held?.envelope.id);
      expect(redelivered?.attempt).toBe(2);
      await redelivered?.ack();
    });

    it("deadline extension - touch keeps a 1 s lease for 4 s; without touches it moves on", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const holder = await adapter.openInbox(key, { leaseMs: 1_000, maxInFlight: 10 });
      const other = await adapter.openInbox(key, { leaseMs: 30_000, maxInFlight: 10 });
      await adapter.publish(eventFor(key));
      const [held] = await pullAtLeast(holder, 1);
      const renewals = setInterval(() => void held?.touch().catch(() => {}), 300);
      try {
        // The other consumer waits 4 s (four leases) and must see nothing while the holder renews.
        expect(await pullOnce(other, 10, 4_000)).toEqual([]);
      } finally {
        clearInterval(renewals);
      }
      const [moved] = await pullAtLeast(other, 1, 10_000);
      expect(moved?.envelope.id).toBe(held?.envelope.id);
      expect(moved?.attempt).toBe(2);
      await moved?.ack();
    });

    it("aborted pull - resolves [] at once and the event still arrives with attempt 1", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, INBOX);
      const abort = new AbortController();
      const waiting = consumer.pull(10, { waitMs: 20_000, signal: abort.signal });
      abort.abort();
      expect(await withDeadline(waiting, 1_000, "aborted pull")).toEqual([]);
      const event = eventFor(key);
      await adapter.publish(event);
      const [message] = await pullAtLeast(consumer, 1);
      expect(message?.envelope.id).toBe(event.id);
      expect(message?.attempt).toBe(1);
      await message?.ack();
    });
  });

  describe("3 flow control and replicas", () => {
    it("flow control - a consumer never holds more than maxInFlight un-settled messages", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, { leaseMs: 30_000, maxInFlight: 3 });
      for (let i = 0; i < 10; i++) await adapter.publish(eventFor(key));
      const held = await pullAtLeast(consumer, 3);
      expect(held).toHaveLength(3);
      expect(await pullOnce(consumer, 10, 500)).toEqual([]);
      await held[0]?.ack();
      const next = await pullOnce(consumer, 10, 5_000);
      expect(next).toHaveLength(1);
      await Promise.all([...held.slice(1), ...next].map((m) => m.ack()));
    });

    it("two replicas - two adapters share one subscription's 200 events, each event once, both get a share", async () => {
      const first = await fixture.adapter();
      const key = inboxKey();
      const second = await fixture.adapter({ prefix: prefixOf(first.resourcesOf(key).topic) });
      const consumers = await Promise.all([first, second].map((adapter) => adapter.openInbox(key, INBOX)));
      const events = Array.from({ length: 200 }, () => eventFor(key));
      const ids = new Set(events.map((event) => event.id));
      const receipts = await Promise.all(events.map((event) => first.publish(event)));
      expect(receipts.every((receipt) => !receipt.duplicate)).toBe(true);
      const seen = new Map<string, number>();
      const perConsumer = [0, 0];
      const drain = async (index: number): Promise<void> => {
        const consumer = consumers[index]!;
        while (seen.size < ids.size) {
          // Small pulls, like a gateway whose members have few credits, so both replicas stay in the game.
          const messages: BrokerMessage[] = await consumer.pull(5, { waitMs: 300 });
          for (const message of messages) {
            seen.set(message.envelope.id, (seen.get(message.envelope.id) ?? 0) + 1);
            perConsumer[index]! += 1;
            await message.ack();
          }
        }
      };
      await withDeadline(Promise.all([drain(0), drain(1)]), 30_000, "200 events drained by two replicas");
      expect([...seen.keys()].sort()).toEqual([...ids].sort());
      expect([...seen.values()].every((count) => count === 1)).toBe(true);
      expect(perConsumer[0]).toBeGreaterThan(0);
      expect(perConsumer[1]).toBeGreaterThan(0);
    });
  });

  describe("4 administration and foreign messages", () => {
    it("listInboxes - lists the tenant's inboxes with an unknown pending count", async () => {
      const adapter = await fixture.adapter();
      const tenant = unique("tenant");
      const keys = [inboxKey({ tenant }), inboxKey({ tenant })];
      for (const key of keys) await adapter.ensureInbox(key);
      await adapter.ensureInbox(inboxKey());
      const listed = await adapter.listInboxes(tenant);
      expect(listed.map((s) => s.key).sort(byGroup)).toEqual([...keys].sort(byGroup));
      expect(listed.every((s) => s.pending === undefined)).toBe(true);
    });

    it("very long names - an inbox whose id exceeds 255 characters works and is still listed", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey({
        tenant: `t${"x".repeat(63)}`,
        topic: `p${"y".repeat(63)}`,
        group: `g${"z".repeat(127)}`,
      });
      const subscription = adapter.resourcesOf(key).subscription;
      expect(subscription.split("/").at(-1)!.length).toBeLessThanOrEqual(255);
      const consumer = await adapter.openInbox(key, INBOX);
      const event = eventFor(key);
      await adapter.publish(event);
      const [message] = await pullAtLeast(consumer, 1);
      expect(message?.envelope.id).toBe(event.id);
      await message?.ack();
      expect((await adapter.listInboxes(key.tenant)).map((s) => s.key)).toEqual([key]);
    });

    it("foreign producer - a message without Soorma fields becomes an envelope with a stable id", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, INBOX);
      const client = await rawClient(fixture.emulator.host, adapter.projectId);
      try {
        const messageId = await client.publish(adapter.resourcesOf(key).topic, {
          json: { source: "legacy", data: { n: 1 } },
          attributes: { "soorma-type": "legacy.thing" },
        });
        const [message] = await pullAtLeast(consumer, 1);
        expect(message?.envelope).toMatchObject({
          id: messageId,
          type: "legacy.thing",
          topic: key.topic,
          platform_tenant_id: key.tenant,
          data: { n: 1 },
        });
        await message?.nack(0);
        const [again] = await pullAtLeast(consumer, 1);
        expect(again?.envelope).toEqual(message?.envelope);
        await again?.ack();
      } finally {
        await client.close();
      }
    });

    it("adoption - a subscription made by hand without a dead-letter policy gets one, so attempts count", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const names = adapter.resourcesOf(key);
      const client = await rawClient(fixture.emulator.host, adapter.projectId);
      try {
        await client.createPlain(names.topic, names.subscription);
        const consumer = await adapter.openInbox(key, INBOX);
        expect(await client.deadLetterTopicOf(names.subscription)).toBe(names.undeliverableTopic);
        await adapter.publish(eventFor(key));
        const [first] = await pullAtLeast(consumer, 1);
        await first?.nack(0);
        const [second] = await pullAtLeast(consumer, 1);
        expect([first?.attempt, second?.attempt]).toEqual([1, 2]);
        await second?.ack();
      } finally {
        await client.close();
      }
    });

    it("undecodable message - moved to the tenant's undeliverable topic, never delivered", async () => {
      const adapter = await fixture.adapter();
      const key = inboxKey();
      const consumer = await adapter.openInbox(key, INBOX);
      const client = await rawClient(fixture.emulator.host, adapter.projectId);
      try {
        const keeper = adapter.resourcesOf(key).undeliverableTopic.replace("/topics/", "/subscriptions/");
        await client.publish(adapter.resourcesOf(key).topic, { data: Buffer.from("not json") });
        const good = eventFor(key);
        await adapter.publish(good);
        const [message] = await pullAtLeast(consumer, 1);
        expect(message?.envelope.id).toBe(good.id);
        await message?.ack();
        expect(await pullOnce(consumer, 10, 1_000)).toEqual([]);
        const moved = await client.pull(keeper, 10);
        expect(moved.map((m) => Buffer.from(m.message?.data ?? "").toString())).toEqual(["not json"]);
        expect(moved[0]?.message?.attributes?.["soorma-undeliverable-reason"]).toMatch(/not JSON/);
      } finally {
        await client.close();
      }
    });
  });

  describe("5 lifecycle", () => {
    it("status - ready after connect, closed after close; close is idempotent and calls then reject", async () => {
      const adapter = await fixture.adapter();
      expect(adapter.status()).toEqual({ state: "ready" });
      expect(adapter.capabilities).toEqual({
        durable: true,
        multiReplica: true,
        survivesBrokerRestart: false,
        durableDedupe: false,
      });
      const closing = adapter.close();
      expect(adapter.close()).toBe(closing);
      await closing;
      expect(adapter.status()).toEqual({ state: "closed" });
      await expect(adapter.publish(eventFor(inboxKey()))).rejects.toMatchObject({
        code: "SOORMA_ERR_BROKER_UNAVAILABLE",
      });
    });

    it("closed consumer - pull rejects with BrokerUnavailableError after close", async () => {
      const adapter = await fixture.adapter();
      const consumer = await adapter.openInbox(inboxKey(), INBOX);
      await consumer.close();
      await expect(consumer.pull(1, { waitMs: 0 })).rejects.toMatchObject({
        code: "SOORMA_ERR_BROKER_UNAVAILABLE",
      });
    });
  });
});

/** The prefix of a full topic name `projects/p/topics/<prefix>.<tenant>.<topic>`. */
function prefixOf(topicPath: string): string {
  return topicPath.split("/").at(-1)!.split(".")[0]!;
}

function byGroup(a: { group: string }, b: { group: string }): number {
  return a.group.localeCompare(b.group);
}

/** A plain client library handle on the emulator, to act as a foreign producer or inspect a subscription. */
async function rawClient(host: string, projectId: string) {
  const pubsub = new PubSub({ projectId, apiEndpoint: host });
  const { port, ...rest } = await pubsub.getClientConfig();
  const config = { ...rest, port: port === undefined ? undefined : Number(port) };
  const subscriber = new v1.SubscriberClient(config);
  const publisher = new v1.PublisherClient(config);
  return {
    /** A topic and a subscription made the way an operator would, without the adapter's settings. */
    createPlain: async (topic: string, subscription: string) => {
      await publisher.createTopic({ name: topic });
      await subscriber.createSubscription({ name: subscription, topic });
    },
    deadLetterTopicOf: async (subscription: string) => {
      const [found] = await subscriber.getSubscription({ subscription });
      return found.deadLetterPolicy?.deadLetterTopic ?? undefined;
    },
    publish: (topic: string, message: Parameters<Topic["publishMessage"]>[0]) =>
      pubsub.topic(topic).publishMessage(message),
    pull: async (subscription: string, maxMessages: number) => {
      const [response] = await subscriber.pull({ subscription, maxMessages }, { timeout: 5_000 });
      return response.receivedMessages ?? [];
    },
    close: async () => {
      await subscriber.close();
      await publisher.close();
      await pubsub.close();
    },
  };
}
