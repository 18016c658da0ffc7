import { randomUUID } from "node:crypto";
import type { EventEnvelope } from "@soorma/common";
import { BrokerUnavailableError, createEnvelope } from "@soorma/common";
import { waitFor, withDeadline } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { BrokerAdapter, BrokerMessage, InboxConsumer, InboxKey } from "../../src/broker/adapter.js";

/** Options every in-process adapter factory understands. */
export interface LocalAdapterFactoryOptions {
  readonly dedupeWindowMs?: number;
}

/** Make a connected adapter and the function that closes it and removes what it left behind. */
export type LocalAdapterFactory = (
  options?: LocalAdapterFactoryOptions,
) => Promise<[adapter: BrokerAdapter, cleanup: () => Promise<void>]>;

/** A random valid name, so tests never share inboxes. */
export function randomName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A random inbox key (tenant, group and topic all fresh). */
export function randomKey(overrides: Partial<InboxKey> = {}): InboxKey {
  return {
    tenant: overrides.tenant ?? randomName("tenant"),
    group: overrides.group ?? randomName("group"),
    topic: overrides.topic ?? randomName("topic"),
  };
}

/** A complete envelope on `key`'s tenant and topic. */
export function eventFor(key: Pick<InboxKey, "tenant" | "topic">, id?: string): EventEnvelope {
  return createEnvelope({
    ...(id === undefined ? {} : { id }),
    source: "adapter-test",
    type: "test.event",
    topic: key.topic,
    platform_tenant_id: key.tenant,
    data: { n: id ?? null },
  });
}

const LEASE_MS = 30_000;
const INBOX_OPTIONS = { leaseMs: LEASE_MS, maxInFlight: 100 } as const;

/** Pull with a deadline on the pull itself, so a hung pull fails the test instead of the suite timeout. */
async function pullOnce(consumer: InboxConsumer, max: number, waitMs: number): Promise<BrokerMessage[]> {
  return withDeadline(
    consumer.pull(max, { waitMs }),
    waitMs + 5_000,
    `pull(${max}) on ${consumer.key.topic}`,
  );
}

async function pendingOf(adapter: BrokerAdapter, key: InboxKey): Promise<number | undefined> {
  const stats = await adapter.listInboxes(key.tenant);
  return stats.find((s) => s.key.group === key.group && s.key.topic === key.topic)?.pending;
}

/**
 * The delivery contract of `BrokerAdapter`, checked against an adapter that runs in this process (memory,
 * SQLite). Sections follow the contract: publish, inboxes, pull, acknowledgement, lifecycle.
 */
export function describeLocalAdapter(name: string, factory: LocalAdapterFactory): void {
  describe(`${name} adapter`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    async function open(options?: LocalAdapterFactoryOptions): Promise<BrokerAdapter> {
      const [adapter, cleanup] = await factory(options);
      cleanups.push(cleanup);
      return adapter;
    }

    describe("1 publish", () => {
      it("publish, pull, ack - the event arrives once and leaves the inbox on ack", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const event = eventFor(key);
        expect(await adapter.publish(event)).toEqual({ eventId: event.id, duplicate: false });
        const [message, ...rest] = await pullOnce(consumer, 10, 1_000);
        expect(rest).toEqual([]);
        expect(message?.envelope).toEqual(event);
        expect(message?.attempt).toBe(1);
        expect(await pendingOf(adapter, key)).toBe(1);
        await message?.ack();
        expect(await pendingOf(adapter, key)).toBe(0);
        expect(await pullOnce(consumer, 10, 0)).toEqual([]);
      });

      it("fan-out - three inboxes of one topic each get the event once", async () => {
        const adapter = await open();
        const base = randomKey();
        const keys = [1, 2, 3].map(() => ({ ...base, group: randomName("group") }));
        const consumers = await Promise.all(keys.map((key) => adapter.openInbox(key, INBOX_OPTIONS)));
        const event = eventFor(base);
        await adapter.publish(event);
        for (const consumer of consumers) {
          const messages = await pullOnce(consumer, 10, 1_000);
          expect(messages.map((m) => m.envelope.id)).toEqual([event.id]);
          await messages[0]?.ack();
          expect(await pullOnce(consumer, 10, 0)).toEqual([]);
        }
      });

      it("topic and tenant isolation - an inbox gets nothing published on another topic or tenant", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        await adapter.publish(eventFor({ tenant: key.tenant, topic: randomName("topic") }));
        await adapter.publish(eventFor({ tenant: randomName("tenant"), topic: key.topic }));
        expect(await pullOnce(consumer, 10, 50)).toEqual([]);
        expect(await pendingOf(adapter, key)).toBe(0);
      });

      it("dedupe - a second publish of one id is reported duplicate and stored once", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const event = eventFor(key);
        expect((await adapter.publish(event)).duplicate).toBe(false);
        expect(await adapter.publish(event)).toEqual({ eventId: event.id, duplicate: true });
        expect(await pendingOf(adapter, key)).toBe(1);
        const messages = await pullOnce(consumer, 10, 1_000);
        expect(messages).toHaveLength(1);
        // The same id in another tenant is a different event.
        const otherTenant = { ...key, tenant: randomName("tenant") };
        expect((await adapter.publish({ ...event, platform_tenant_id: otherTenant.tenant })).duplicate).toBe(
          false,
        );
      });

      it("dedupe - an id is accepted again once the dedupe window passed", async () => {
        const adapter = await open({ dedupeWindowMs: 200 });
        const key = randomKey();
        await adapter.ensureInbox(key);
        const event = eventFor(key);
        expect((await adapter.publish(event)).duplicate).toBe(false);
        expect((await adapter.publish(event)).duplicate).toBe(true);
        await waitFor(async () => !(await adapter.publish(event)).duplicate, {
          timeoutMs: 5_000,
          message: "the id was never accepted again",
        });
        expect(await pendingOf(adapter, key)).toBe(2);
      });

      it("publish without platform_tenant_id is refused", async () => {
        const adapter = await open();
        const event = { ...eventFor(randomKey()), platform_tenant_id: undefined };
        await expect(adapter.publish(event)).rejects.toMatchObject({ code: "SOORMA_ERR_ENVELOPE_INVALID" });
      });
    });

    describe("2 inboxes", () => {
      it("store-and-forward - an inbox keeps events published while no consumer is open", async () => {
        const adapter = await open();
        const key = randomKey();
        await adapter.ensureInbox(key);
        await adapter.ensureInbox(key);
        const events = [eventFor(key), eventFor(key)];
        for (const event of events) await adapter.publish(event);
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const messages = await pullOnce(consumer, 10, 1_000);
        expect(messages.map((m) => m.envelope.id)).toEqual(events.map((e) => e.id));
      });

      it("an inbox created after a publish does not get the older event", async () => {
        const adapter = await open();
        const early = randomKey();
        await adapter.ensureInbox(early);
        const old = eventFor(early);
        await adapter.publish(old);
        const late = { ...early, group: randomName("group") };
        const consumer = await adapter.openInbox(late, INBOX_OPTIONS);
        expect(await pullOnce(consumer, 10, 50)).toEqual([]);
        const fresh = eventFor(early);
        await adapter.publish(fresh);
        expect((await pullOnce(consumer, 10, 1_000)).map((m) => m.envelope.id)).toEqual([fresh.id]);
        expect(await pendingOf(adapter, early)).toBe(2);
      });

      it("listInboxes - reports pending counts (leased included) and filters by tenant", async () => {
        const adapter = await open();
        const a = randomKey();
        const b = { ...a, group: randomName("group") };
        const other = randomKey();
        for (const key of [a, b, other]) await adapter.ensureInbox(key);
        for (let i = 0; i < 3; i += 1) await adapter.publish(eventFor(a));
        await adapter.publish(eventFor(other));
        const consumer = await adapter.openInbox(a, INBOX_OPTIONS);
        const [first] = await pullOnce(consumer, 1, 1_000);
        await first?.ack();
        await pullOnce(consumer, 1, 1_000);

        const stats = await adapter.listInboxes(a.tenant);
        const byGroup = Object.fromEntries(stats.map((s) => [s.key.group, s.pending]));
        expect(byGroup).toEqual({ [a.group]: 2, [b.group]: 3 });
        expect(stats.every((s) => s.key.tenant === a.tenant && s.key.topic === a.topic)).toBe(true);

        const all = await adapter.listInboxes();
        const keys = all.map((s) => `${s.key.tenant}/${s.key.group}`);
        expect(keys).toEqual(
          expect.arrayContaining([
            `${a.tenant}/${a.group}`,
            `${b.tenant}/${b.group}`,
            `${other.tenant}/${other.group}`,
          ]),
        );
      });
    });

    describe("3 pull", () => {
      it("pull returns at most max messages, oldest first", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const events = Array.from({ length: 5 }, () => eventFor(key));
        for (const event of events) await adapter.publish(event);
        const first = await pullOnce(consumer, 3, 1_000);
        const second = await pullOnce(consumer, 3, 1_000);
        expect(first.map((m) => m.envelope.id)).toEqual(events.slice(0, 3).map((e) => e.id));
        expect(second.map((m) => m.envelope.id)).toEqual(events.slice(3).map((e) => e.id));
      });

      it("two consumers of one inbox get disjoint messages that together cover every event", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumers = [
          await adapter.openInbox(key, INBOX_OPTIONS),
          await adapter.openInbox(key, INBOX_OPTIONS),
        ];
        const total = 40;
        const seen: string[][] = [[], []];
        const pumps = consumers.map(async (consumer, index) => {
          while ((seen[0]?.length ?? 0) + (seen[1]?.length ?? 0) < total) {
            const messages = await consumer.pull(3, { waitMs: 100 });
            for (const message of messages) {
              seen[index]?.push(message.envelope.id);
              await message.ack();
            }
          }
        });
        const ids: string[] = [];
        for (let i = 0; i < total; i += 1) {
          const event = eventFor(key);
          ids.push(event.id);
          await adapter.publish(event);
        }
        await withDeadline(Promise.all(pumps), 10_000, "two consumers draining the inbox");
        const [left = [], right = []] = seen;
        expect(left.filter((id) => right.includes(id))).toEqual([]);
        expect([...left, ...right].sort()).toEqual([...ids].sort());
      });

      it("pull waits and wakes promptly on publish", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const started = Date.now();
        const pulling = consumer.pull(10, { waitMs: 20_000 });
        // Let the pull find the inbox empty and park before publishing.
        await new Promise((resolve) => setImmediate(resolve));
        const event = eventFor(key);
        await adapter.publish(event);
        const messages = await withDeadline(pulling, 2_000, "parked pull woken by publish");
        expect(messages.map((m) => m.envelope.id)).toEqual([event.id]);
        expect(Date.now() - started).toBeLessThan(2_000);
      });

      it("pull resolves [] when waitMs passes with nothing visible", async () => {
        const adapter = await open();
        const consumer = await adapter.openInbox(randomKey(), INBOX_OPTIONS);
        const started = Date.now();
        expect(await pullOnce(consumer, 10, 150)).toEqual([]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      });

      it("pull honours abort - resolves [] promptly and leases nothing", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const controller = new AbortController();
        const pulling = consumer.pull(10, { waitMs: 20_000, signal: controller.signal });
        await new Promise((resolve) => setImmediate(resolve));
        controller.abort();
        expect(await withDeadline(pulling, 1_000, "aborted pull")).toEqual([]);
        // Already aborted: returns at once without taking the message.
        await adapter.publish(eventFor(key));
        expect(await consumer.pull(10, { waitMs: 20_000, signal: controller.signal })).toEqual([]);
        const [message] = await pullOnce(consumer, 10, 1_000);
        expect(message?.attempt).toBe(1);
      });

      it("consumer close - a parked pull resolves [], later pulls reject, leased messages still settle", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        await adapter.publish(eventFor(key));
        const [held] = await pullOnce(consumer, 10, 1_000);
        const parked = consumer.pull(10, { waitMs: 20_000 });
        await new Promise((resolve) => setImmediate(resolve));
        await consumer.close();
        await consumer.close();
        expect(await withDeadline(parked, 1_000, "pull parked across consumer close")).toEqual([]);
        await expect(consumer.pull(10, { waitMs: 0 })).rejects.toBeInstanceOf(BrokerUnavailableError);
        await held?.ack();
        expect(await pendingOf(adapter, key)).toBe(0);
      });
    });

    describe("4 acknowledgement", () => {
      it("nack with delay - redelivered after the delay with attempt 2", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const event = eventFor(key);
        await adapter.publish(event);
        const [first] = await pullOnce(consumer, 10, 1_000);
        const nackedAt = Date.now();
        await first?.nack(300);
        expect(await pullOnce(consumer, 10, 0)).toEqual([]);
        const [again] = await pullOnce(consumer, 10, 5_000);
        expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(290);
        expect(again?.envelope.id).toBe(event.id);
        expect(again?.attempt).toBe(2);
      });

      it("nack without delay - a parked pull gets the message at once", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        await adapter.publish(eventFor(key));
        const [first] = await pullOnce(consumer, 10, 1_000);
        const parked = consumer.pull(10, { waitMs: 20_000 });
        await new Promise((resolve) => setImmediate(resolve));
        await first?.nack(0);
        const [again] = await withDeadline(parked, 2_000, "parked pull woken by nack");
        expect(again?.attempt).toBe(2);
      });

      it("lease expiry - an unsettled message is redelivered with attempt 2", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, { leaseMs: 200, maxInFlight: 10 });
        const event = eventFor(key);
        await adapter.publish(event);
        const [first] = await pullOnce(consumer, 10, 1_000);
        expect(first?.attempt).toBe(1);
        const leasedAt = Date.now();
        const [again] = await pullOnce(consumer, 10, 5_000);
        expect(Date.now() - leasedAt).toBeGreaterThanOrEqual(190);
        expect(again?.envelope.id).toBe(event.id);
        expect(again?.attempt).toBe(2);
      });

      it("touch - a renewed lease is not redelivered past its original expiry", async () => {
        const adapter = await open();
        const key = randomKey();
        const leaseMs = 450;
        const consumer = await adapter.openInbox(key, { leaseMs, maxInFlight: 10 });
        await adapter.publish(eventFor(key));
        const [held] = await pullOnce(consumer, 10, 1_000);
        // Renewing every sixth of the lease leaves room for a busy machine to run the timer late.
        const renewer = setInterval(() => void held?.touch(), leaseMs / 6);
        try {
          // More than two original leases long: without touch the message would come back within this window.
          expect(await pullOnce(consumer, 10, leaseMs * 2 + 100)).toEqual([]);
        } finally {
          clearInterval(renewer);
        }
        const [again] = await pullOnce(consumer, 10, 5_000);
        expect(again?.attempt).toBe(2);
      });

      it("late settle - ack, nack and touch of a lease that expired and was re-leased do nothing", async () => {
        const adapter = await open();
        const key = randomKey();
        const slow = await adapter.openInbox(key, { leaseMs: 150, maxInFlight: 10 });
        const patient = await adapter.openInbox(key, INBOX_OPTIONS);
        await adapter.publish(eventFor(key));
        const [stale] = await pullOnce(slow, 10, 1_000);
        const [current] = await pullOnce(patient, 10, 5_000);
        expect(current?.attempt).toBe(2);

        await stale?.ack();
        await stale?.nack(0);
        await stale?.touch();
        expect(await pendingOf(adapter, key)).toBe(1);
        // The current lease was neither released nor shortened by the stale calls: nothing is visible.
        expect(await pullOnce(slow, 10, 0)).toEqual([]);
        await current?.ack();
        expect(await pendingOf(adapter, key)).toBe(0);
      });

      it("settle twice - the second call on one message is a no-op", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        await adapter.publish(eventFor(key));
        const [message] = await pullOnce(consumer, 10, 1_000);
        await message?.nack(0);
        const [again] = await pullOnce(consumer, 10, 1_000);
        await message?.ack();
        expect(await pendingOf(adapter, key)).toBe(1);
        await again?.ack();
        expect(await pendingOf(adapter, key)).toBe(0);
      });
    });

    describe("5 lifecycle", () => {
      it("status - ready once connected, closed after close", async () => {
        const [adapter, cleanup] = await factory();
        cleanups.push(cleanup);
        expect(adapter.status()).toEqual({ state: "ready" });
        await adapter.close();
        expect(adapter.status()).toEqual({ state: "closed" });
      });

      it("close is idempotent, wakes parked pulls and refuses later work", async () => {
        const adapter = await open();
        const key = randomKey();
        const consumer = await adapter.openInbox(key, INBOX_OPTIONS);
        const parked = consumer.pull(10, { waitMs: 20_000 });
        await new Promise((resolve) => setImmediate(resolve));
        const closing = adapter.close();
        expect(adapter.close()).toBe(closing);
        await closing;
        await adapter[Symbol.asyncDispose]();
        expect(await withDeadline(parked, 1_000, "pull parked across adapter close")).toEqual([]);
        await expect(adapter.publish(eventFor(key))).rejects.toBeInstanceOf(BrokerUnavailableError);
        await expect(consumer.pull(1, { waitMs: 0 })).rejects.toBeInstanceOf(BrokerUnavailableError);
        await expect(adapter.listInboxes()).rejects.toBeInstanceOf(BrokerUnavailableError);
      });
    });
  });
}
