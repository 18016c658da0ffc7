import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { AdminGroup } from "../../src/routes/admin.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, testEvent } from "../gateway/harness.js";
import { bearer, expectFatal, type KeyedGateway, startKeyedGateway } from "./support.js";

const KEYS = [
  {
    id: "billing",
    tenant: "acme",
    agent_names: ["billing-*"],
    publish_topics: ["action-results", "business-facts"],
    subscribe_topics: ["action-requests"],
  },
  { id: "acme-agent", tenant: "acme" },
  { id: "acme-admin", tenant: "acme", role: "admin" as const },
  { id: "globex-agent", tenant: "globex" },
  { id: "root", tenant: "ops", role: "platform-admin" as const },
];

describe("authorization", () => {
  let gateway: KeyedGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  async function open(keyId: string, hello: Parameters<typeof FrameClient.open>[1] = {}) {
    const opened = await FrameClient.open(gateway!.wsUrl, hello, { headers: bearer(gateway!.keys[keyId]!) });
    clients.push(opened.client);
    return opened.client;
  }

  it("acl - publishing or subscribing outside the key's topics is SOORMA_ERR_FORBIDDEN; allowed topics work on the same connection", async () => {
    gateway = await startKeyedGateway(KEYS);
    // An unrestricted subscriber of the same tenant, to see that nothing refused was stored.
    const watchGroup = randomName("watch");
    const watcher = await open("acme-agent", { agent_name: watchGroup });
    await watcher.subscribe("action-requests");
    const client = await open("billing", { agent_name: "billing-eu" });

    client.send({ type: "subscribe", req_id: "sub-forbidden", topic: "business-facts" });
    const subscribeError = await client.next((f) => f.type === "error" && f.req_id === "sub-forbidden");
    expect(subscribeError).toMatchObject({
      code: "SOORMA_ERR_FORBIDDEN",
      fatal: false,
      details: { topic: "business-facts" },
    });
    client.send({ type: "publish", req_id: "pub-forbidden", event: testEvent("action-requests") });
    const publishError = await client.next((f) => f.type === "error" && f.req_id === "pub-forbidden");
    expect(publishError).toMatchObject({
      code: "SOORMA_ERR_FORBIDDEN",
      details: { topic: "action-requests" },
    });

    const http = await gateway.publishHttp(testEvent("notification-events"), bearer(gateway.keys.billing!));
    expect(http.status).toBe(403);
    expect(http.body).toMatchObject({ error: { code: "SOORMA_ERR_FORBIDDEN" } });

    await client.subscribe("action-requests");
    expect((await client.publish(testEvent("action-results"))).duplicate).toBe(false);

    const allowed = await open("acme-agent");
    const { event_id } = await allowed.publish(testEvent("action-requests", "marker.event"));
    const marker = await watcher.next("delivery");
    expect(marker.event.id).toBe(event_id);
    watcher.send({ type: "ack", delivery_id: marker.delivery_id });
    await waitFor(async () => {
      const groups = (await gateway!.adminGroups(bearer(gateway!.keys["acme-admin"]!))).body
        .groups as AdminGroup[];
      const inbox = groups.find((g) => g.group === watchGroup);
      return inbox?.topics[0]?.pending === 0 && inbox.members[0]?.in_flight === 0;
    });
    expect(watcher.received.filter((f) => f.type === "delivery")).toHaveLength(1);
  });

  it("acl - a hello with an agent name outside the key's names is refused: fatal SOORMA_ERR_FORBIDDEN, close 4403", async () => {
    gateway = await startKeyedGateway(KEYS);
    const client = await FrameClient.connect(gateway.wsUrl, { headers: bearer(gateway.keys.billing!) });
    clients.push(client);
    // Joining another agent's group would hand over its events; the group is agent_name, else agent_id.
    client.sendHello({ agent_id: "billing-1", agent_name: "payments" });
    const { frame } = await expectFatal(client, "SOORMA_ERR_FORBIDDEN", 4403);
    expect(frame.details).toEqual({ agent_name: "payments" });

    const byId = await FrameClient.connect(gateway.wsUrl, { headers: bearer(gateway.keys.billing!) });
    clients.push(byId);
    byId.sendHello({ agent_id: "payments-7" });
    await expectFatal(byId, "SOORMA_ERR_FORBIDDEN", 4403);
  });

  it("admin - without the admin role: 403; without credentials: 401", async () => {
    gateway = await startKeyedGateway(KEYS);
    const asAgent = await gateway.adminGroups(bearer(gateway.keys["acme-agent"]!));
    expect(asAgent.status).toBe(403);
    expect(asAgent.body).toMatchObject({ success: false, error: { code: "SOORMA_ERR_FORBIDDEN" } });
    const anonymous = await gateway.adminGroups();
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({
      error: { code: "SOORMA_ERR_UNAUTHENTICATED", details: { reason: "missing" } },
    });
  });

  it("admin - an admin sees only its own tenant's groups, and may not ask for another tenant", async () => {
    gateway = await startKeyedGateway(KEYS);
    const group = randomName("shared-name");
    const topic = randomName("t");
    await (await open("acme-agent", { agent_name: group })).subscribe(topic);
    await (await open("globex-agent", { agent_name: group })).subscribe(topic);

    const own = await gateway.adminGroups(bearer(gateway.keys["acme-admin"]!));
    expect(own.status).toBe(200);
    const groups = own.body.groups as AdminGroup[];
    expect(groups.filter((g) => g.group === group).map((g) => g.tenant)).toEqual(["acme"]);
    expect(groups.every((g) => g.tenant === "acme")).toBe(true);

    const other = await gateway.adminGroups(bearer(gateway.keys["acme-admin"]!), "?tenant=globex");
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ error: { code: "SOORMA_ERR_FORBIDDEN" } });
  });

  it("admin - a platform admin sees every tenant, or the one named by ?tenant=", async () => {
    gateway = await startKeyedGateway(KEYS);
    const group = randomName("shared-name");
    const topic = randomName("t");
    await (await open("acme-agent", { agent_name: group })).subscribe(topic);
    await (await open("globex-agent", { agent_name: group })).subscribe(topic);
    const root = bearer(gateway.keys.root!);

    const all = (await gateway.adminGroups(root)).body.groups as AdminGroup[];
    expect(all.filter((g) => g.group === group).map((g) => g.tenant)).toEqual(["acme", "globex"]);
    const globex = await gateway.adminGroups(root, "?tenant=globex");
    expect(globex.status).toBe(200);
    const only = globex.body.groups as AdminGroup[];
    expect(only.map((g) => g.tenant)).toEqual(["globex"]);
    expect(only[0]).toMatchObject({ group, topics: [{ topic, pending: 0 }] });

    const malformed = await gateway.adminGroups(root, "?tenant=..%2F..%2Fetc");
    expect(malformed.status).toBe(404);
  });
});
