import { randomUUID } from "node:crypto";
import { BrokerUnavailableError, createEnvelope, type EventEnvelope } from "@soorma/common";
import { type NatsServerHandle, requireBroker, startNatsServer, waitFor } from "@soorma/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BrokerAdapter, InboxKey } from "../../src/broker/adapter.js";
import { createNatsJetStreamAdapter } from "../../src/broker/nats-jetstream.js";

const nats = requireBroker("nats");

function event(topic: string, n: number): EventEnvelope {
  return createEnvelope({
    source: "restart-test",
    type: "job.created",
    topic,
    platform_tenant_id: "acme",
    data: { n },
  });
}

describe.skipIf(!nats.available)("nats jetstream adapter - broker restarts", () => {
  let server: NatsServerHandle;
  let adapter: BrokerAdapter;
  let key: InboxKey;

  beforeEach(async () => {
    server = await startNatsServer();
    adapter = createNatsJetStreamAdapter({
      servers: server.url,
      reconnectWaitMs: 100,
      requestTimeoutMs: 2_000,
    });
    await adapter.connect();
    key = { tenant: "acme", group: `g${randomUUID().slice(0, 8)}`, topic: "jobs" };
    await adapter.ensureInbox(key);
  });
  afterEach(async () => {
    await adapter?.close();
    await server?.stop();
  });

  it("reconnect - SIGKILL and restart on the same store: reconnecting meanwhile, then every event delivered", async () => {
    const events = Array.from({ length: 20 }, (_, n) => event(key.topic, n));
    for (const e of events) await adapter.publish(e);
    const consumer = await adapter.openInbox(key, { leaseMs: 1_000, maxInFlight: 16 });
    // Five are leased (not acked) when the broker dies; their lease runs out and they come back.
    expect(await consumer.pull(5, { waitMs: 0 })).toHaveLength(5);

    await server.kill("SIGKILL");
    await waitFor(() => adapter.status().state === "reconnecting", { timeoutMs: 5_000 });
    const startedAt = Date.now();
    await expect(adapter.publish(event(key.topic, 99))).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(consumer.pull(5, { waitMs: 1_000 })).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(Date.now() - startedAt).toBeLessThan(1_000);

    await server.restart();
    await waitFor(() => adapter.status().state === "ready", { timeoutMs: 10_000, message: "ready again" });
    const late = event(key.topic, 20);
    await adapter.publish(late);

    const seen = new Set<string>();
    await waitFor(
      async () => {
        for (const message of await consumer.pull(16, { waitMs: 200 })) {
          seen.add(message.envelope.id);
          await message.ack();
        }
        return seen.size === events.length + 1;
      },
      { timeoutMs: 15_000, message: "all 21 events after the restart" },
    );
    expect([...seen].sort()).toEqual([...events, late].map((e) => e.id).sort());
  });

  it("reconnect - a broker restarted with an empty store gets its stream and inboxes back", async () => {
    await server.kill("SIGKILL");
    await waitFor(() => adapter.status().state === "reconnecting", { timeoutMs: 5_000 });
    await server.restart({ keepStore: false });
    await waitFor(() => adapter.status().state === "ready", { timeoutMs: 10_000, message: "ready again" });
    const published = event(key.topic, 1);
    expect((await adapter.publish(published)).duplicate).toBe(false);
    const consumer = await adapter.openInbox(key, { leaseMs: 5_000, maxInFlight: 16 });
    const got = await consumer.pull(5, { waitMs: 2_000 });
    expect(got.map((m) => m.envelope.id)).toEqual([published.id]);
    expect(await adapter.listInboxes("acme")).toEqual([{ key, pending: 1 }]);
  });
});
