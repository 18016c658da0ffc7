import { randomUUID } from "node:crypto";
import type { DeliveryFrame } from "@soorma/common";
import { type BrokerAvailability, waitFor } from "@soorma/test-utils";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BrokerAdapter } from "../../src/broker/adapter.js";
import type { GatewayConfigInput } from "../../src/config.js";
import type { AdminGroup } from "../../src/routes/admin.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, testEvent } from "../gateway/harness.js";
import { bearer, type KeyedGateway, startKeyedGateway } from "../security/support.js";

/** One adapter the isolation scenario runs on. */
export interface TenancyTarget {
  /** Whether the broker can run here (`requireBroker`); the suite is skipped loudly otherwise. */
  readonly availability: BrokerAvailability;
  /** Start what the adapter needs (a broker process) once for the file; resolves with its cleanup. */
  setup?(): Promise<() => Promise<void>>;
  /** A fresh, unconnected adapter for one gateway (the gateway connects and closes it). */
  adapter(): Promise<BrokerAdapter>;
  /** Gateway settings the adapter needs (e.g. a lease Pub/Sub accepts). @default {} */
  readonly config?: GatewayConfigInput;
  /** Multiplies the deadlines, for slow brokers. @default 1 */
  readonly timeScale?: number;
}

const KEYS = [
  { id: "acme-agent", tenant: "acme" },
  { id: "globex-agent", tenant: "globex" },
  { id: "root", tenant: "ops", role: "platform-admin" as const },
];

/** A consumer that acks everything it gets and keeps what it got. */
function collect(client: FrameClient): DeliveryFrame[] {
  const got: DeliveryFrame[] = [];
  client.socket.on("message", (data) => {
    const frame = JSON.parse(String(data)) as DeliveryFrame;
    if (frame.type !== "delivery") return;
    got.push(frame);
    client.send({ type: "ack", delivery_id: frame.delivery_id });
  });
  return got;
}

/**
 * Tenant isolation on one adapter, end to end over real sockets: two platform tenants with the same consumer
 * group name and the same topic, publishing over WebSocket and HTTP with forged `platform_tenant_id`s and even
 * the same event id, never see each other's events, and the broker keeps their inboxes apart.
 */
export function describeTenantIsolation(name: string, target: TenancyTarget): void {
  const title = target.availability.available
    ? `tenant isolation (${name})`
    : `tenant isolation (${name}) (SKIPPED: ${target.availability.reason})`;
  describe.skipIf(!target.availability.available)(title, () => {
    const scale = target.timeScale ?? 1;
    let stopBroker: (() => Promise<void>) | undefined;
    let gateway: KeyedGateway | undefined;
    let adapter: BrokerAdapter | undefined;
    const clients: FrameClient[] = [];
    beforeAll(async () => {
      stopBroker = await target.setup?.();
    });
    afterAll(async () => {
      await stopBroker?.();
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
      await gateway?.close();
      gateway = undefined;
    });

    async function consumer(keyId: string, group: string, topic: string) {
      const { client } = await FrameClient.open(
        gateway!.wsUrl,
        { agent_name: group },
        {
          headers: bearer(gateway!.keys[keyId]!),
        },
      );
      clients.push(client);
      const got = collect(client);
      await client.subscribe(topic);
      return { client, got };
    }

    it(`tenant isolation (${name}) - two tenants with the same group and topic, WebSocket and HTTP publish, forged platform_tenant_id and one shared event id: each gets only its own events`, async () => {
      adapter = await target.adapter();
      gateway = await startKeyedGateway(KEYS, target.config ?? {}, adapter);
      const group = randomName("billing");
      const topic = randomName("orders");
      const acme = await consumer("acme-agent", group, topic);
      const globex = await consumer("globex-agent", group, topic);
      const acmeKey = bearer(gateway.keys["acme-agent"]!);
      const globexKey = bearer(gateway.keys["globex-agent"]!);

      // The same idempotency key in both tenants: neither may suppress or overwrite the other's event.
      const sharedId = randomUUID();
      const acmeWs = await acme.client.publish(
        testEvent(topic, "order.placed", {
          id: sharedId,
          platform_tenant_id: "globex",
          data: { from: "acme-ws" },
        }),
      );
      const globexHttp = await gateway.publishHttp(
        testEvent(topic, "order.placed", {
          id: sharedId,
          platform_tenant_id: "acme",
          data: { from: "globex-http" },
        }),
        globexKey,
      );
      const acmeHttp = await gateway.publishHttp(
        testEvent(topic, "order.placed", { platform_tenant_id: "globex", data: { from: "acme-http" } }),
        acmeKey,
      );
      const globexWs = await globex.client.publish(
        testEvent(topic, "order.placed", { platform_tenant_id: "acme", data: { from: "globex-ws" } }),
      );
      expect(acmeWs.duplicate).toBe(false);
      expect(globexHttp).toMatchObject({ status: 200, body: { duplicate: false } });
      expect(acmeHttp.status).toBe(200);
      expect(globexWs.duplicate).toBe(false);

      const sources = (got: DeliveryFrame[]) =>
        got.map((d) => (d.event.data as { from: string }).from).sort();
      await waitFor(() => acme.got.length >= 2 && globex.got.length >= 2, {
        timeoutMs: 15_000 * scale,
        message: "two events for each tenant",
      });
      // Settled: nothing pending or in flight is left in either tenant's inbox, so nothing can still arrive.
      const root = bearer(gateway.keys.root!);
      await waitFor(
        async () => {
          const groups = (await gateway!.adminGroups(root)).body.groups as AdminGroup[];
          const ours = groups.filter((g) => g.group === group);
          return (
            ours.length === 2 &&
            ours.every(
              (g) =>
                g.members.every((m) => m.in_flight === 0) &&
                g.topics.every((t) => t.pending === null || t.pending === 0),
            )
          );
        },
        { timeoutMs: 15_000 * scale, message: "both tenants' inboxes settled" },
      );

      expect(sources(acme.got)).toEqual(["acme-http", "acme-ws"]);
      expect(sources(globex.got)).toEqual(["globex-http", "globex-ws"]);
      expect(acme.got.every((d) => d.event.platform_tenant_id === "acme")).toBe(true);
      expect(globex.got.every((d) => d.event.platform_tenant_id === "globex")).toBe(true);

      // The broker's own namespace: each tenant's listing holds only its inbox.
      const acmeInboxes = (await adapter.listInboxes("acme")).filter((i) => i.key.group === group);
      const globexInboxes = (await adapter.listInboxes("globex")).filter((i) => i.key.group === group);
      expect(acmeInboxes.map((i) => i.key)).toEqual([{ tenant: "acme", group, topic }]);
      expect(globexInboxes.map((i) => i.key)).toEqual([{ tenant: "globex", group, topic }]);
    });
  });
}
