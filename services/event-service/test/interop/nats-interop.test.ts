import { randomUUID } from "node:crypto";
import { AckPolicy, DeliverPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventEnvelope } from "@soorma/common";
import { createConsoleLogger, Worker } from "@soorma/sdk";
import {
  deferred,
  type NatsServerHandle,
  requireBroker,
  startNatsServer,
  withDeadline,
} from "@soorma/test-utils";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";

const nats = requireBroker("nats");

/**
 * Other services talk to the gateway's stream directly with any NATS client, using the subject scheme of
 * docs/adapters/nats.md: `soorma.<tenant>.<topic>.<event type>`, JSON envelope body, `Nats-Msg-Id` =
 * `<tenant>:<event id>`. These tests use the default stream and prefix on a server of their own.
 */
describe.skipIf(!nats.available)("interop - plain NATS clients and the gateway share the stream", () => {
  let server: NatsServerHandle;
  let app: FastifyInstance;
  let url: string;
  let plain: NatsConnection;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    server = await startNatsServer();
    // The gateway reads the same settings an operator would set.
    const config = loadConfig({ SOORMA_BROKER: "nats", SOORMA_NATS_URL: server.url }, []);
    app = await buildApp({ config });
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    url = address.replace(/^http/, "ws");
    plain = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await plain?.close();
    await app?.close();
    await server?.stop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it("interop - an event a plain client publishes on soorma.<tenant>.<topic>.<type> reaches a Worker via the gateway", async () => {
    const topic = `interop-in-${randomUUID().slice(0, 8)}`;
    const received = deferred<EventEnvelope>();
    const worker = new Worker({
      name: `interop${randomUUID().slice(0, 8)}`,
      url,
      logger: createConsoleLogger("error"),
    });
    worker.onEvent("invoice.paid", { topic }, (event) => received.resolve(event));
    await worker.start();
    cleanups.push(() => worker.stop({ force: true, timeout: 1_000 }));

    const id = randomUUID();
    const js = (await jetstreamManager(plain)).jetstream();
    const ack = await js.publish(
      `soorma.default.${topic}.invoice.paid`,
      JSON.stringify({ id, source: "billing-service", data: { amount: 42 }, correlation_id: "order-7" }),
      { msgID: `default:${id}` },
    );
    expect(ack.stream).toBe("SOORMA_EVENTS");

    const event = await withDeadline(received.promise, 5_000, "the plain client's event at the Worker");
    expect(event).toMatchObject({
      id,
      source: "billing-service",
      type: "invoice.paid",
      topic,
      platform_tenant_id: "default",
      correlation_id: "order-7",
      data: { amount: 42 },
    });

    // Same dedupe key on both paths: the gateway recognises the plain client's event as already stored.
    const response = await fetch(`${app.listeningOrigin}/v1/events/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ event: { id, source: "billing-service", type: "invoice.paid", topic } }),
    });
    expect(await response.json()).toEqual({ success: true, event_id: id, duplicate: true });
  });

  it("interop - an event published through the gateway can be read by a plain client tapping the stream", async () => {
    const topic = `interop-out-${randomUUID().slice(0, 8)}`;
    const tap = `tap_${randomUUID().slice(0, 8)}`;
    const jsm = await jetstreamManager(plain);
    // A tap is the other service's own durable consumer; it must exist before the event (like any inbox).
    await jsm.consumers.add("SOORMA_EVENTS", {
      durable_name: tap,
      filter_subject: `soorma.default.${topic}.>`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
    });
    cleanups.push(() => jsm.consumers.delete("SOORMA_EVENTS", tap));

    const id = randomUUID();
    const response = await fetch(`${app.listeningOrigin}/v1/events/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        event: {
          id,
          source: "orders-service",
          type: "order.line.added",
          topic,
          data: { sku: "A-1", qty: 2 },
        },
      }),
    });
    expect(await response.json()).toEqual({ success: true, event_id: id, duplicate: false });

    const consumer = await jsm.jetstream().consumers.get("SOORMA_EVENTS", tap);
    const message = await consumer.next({ expires: 5_000 });
    expect(message).not.toBeNull();
    expect(message!.subject).toBe(`soorma.default.${topic}.order.line.added`);
    expect(message!.headers?.get("Nats-Msg-Id")).toBe(`default:${id}`);
    expect(message!.json()).toMatchObject({
      id,
      source: "orders-service",
      type: "order.line.added",
      topic,
      platform_tenant_id: "default",
      data: { sku: "A-1", qty: 2 },
    });
    message!.ack();

    // The tap is not a Soorma inbox: the admin API does not list it as a group.
    const groups = (await (await fetch(`${app.listeningOrigin}/v1/admin/groups`)).json()) as {
      groups: { group: string }[];
    };
    expect(groups.groups.map((g) => g.group)).not.toContain(tap);
  });
});
