import { afterEach, describe, expect, it } from "vitest";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";
import { bearer, type KeyedGateway, startKeyedGateway } from "../security/support.js";

describe("PUT /v1/admin/inboxes", () => {
  let gateway: TestGateway | KeyedGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  it("provision - an inbox made before the group's first connect keeps every event for it", async () => {
    const open = await startGateway();
    gateway = open;
    const group = randomName("late-agent");
    const topic = randomName("orders");
    const provisioned = await open.app.inject({
      method: "PUT",
      url: "/v1/admin/inboxes",
      payload: { group, topic },
    });
    expect(provisioned.statusCode).toBe(200);
    expect(provisioned.json()).toEqual({ success: true, inbox: { tenant: "default", group, topic } });
    // Idempotent: a second call changes nothing.
    const again = await open.app.inject({
      method: "PUT",
      url: "/v1/admin/inboxes",
      payload: { group, topic },
    });
    expect(again.statusCode).toBe(200);

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const published = await open.app.inject({
        method: "POST",
        url: "/v1/events/publish",
        payload: { event: testEvent(topic, "order.placed", { data: { i } }) },
      });
      ids.push(published.json<{ event_id: string }>().event_id);
    }

    const { client } = await FrameClient.open(open.wsUrl, { agent_name: group });
    clients.push(client);
    await client.subscribe(topic);
    const deliveries = await client.deliveries(3);
    expect(deliveries.map((d) => d.event.id).sort()).toEqual([...ids].sort());
  });

  it("provision - an invalid topic, group or body is refused with its code and nothing is created", async () => {
    const open = await startGateway();
    gateway = open;
    const put = (payload: unknown) =>
      open.app.inject({ method: "PUT", url: "/v1/admin/inboxes", payload: payload as object });
    const badTopic = await put({ group: "g", topic: "Not.A.Topic" });
    expect(badTopic.statusCode).toBe(422);
    expect(badTopic.json()).toMatchObject({ success: false, error: { code: "SOORMA_ERR_TOPIC_INVALID" } });
    const badGroup = await put({ group: "has.dot", topic: "orders" });
    expect(badGroup.statusCode).toBe(422);
    expect(badGroup.json()).toMatchObject({ error: { code: "SOORMA_ERR_AGENT_NAME_INVALID" } });
    const noBody = await put({});
    expect(noBody.statusCode).toBe(422);
    expect(await open.adapter.listInboxes()).toEqual([]);
  });

  it("provision - needs the admin role and stays in the admin's own tenant", async () => {
    const keyed = await startKeyedGateway([
      { id: "agent", tenant: "acme" },
      { id: "admin", tenant: "acme", role: "admin" as const },
    ]);
    gateway = keyed;
    const put = (key: string, payload: object) =>
      fetch(`${keyed.httpUrl}/v1/admin/inboxes`, {
        method: "PUT",
        headers: { ...bearer(key), "content-type": "application/json" },
        body: JSON.stringify(payload),
      });
    expect((await put(keyed.keys.agent!, { group: "g", topic: "orders" })).status).toBe(403);
    expect((await put(keyed.keys.admin!, { group: "g", topic: "orders", tenant: "globex" })).status).toBe(
      403,
    );
    const own = await put(keyed.keys.admin!, { group: "g", topic: "orders" });
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({
      success: true,
      inbox: { tenant: "acme", group: "g", topic: "orders" },
    });
  });
});
