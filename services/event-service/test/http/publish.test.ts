import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";

describe("POST /v1/events/publish", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  it("publish - 200 with the event id once stored; a WebSocket subscriber receives it with the platform tenant set", async () => {
    gateway = await startGateway({ defaultTenant: "tenant-a" });
    const topic = randomName("t");
    const { client } = await FrameClient.open(gateway.wsUrl, { agent_name: randomName("g") });
    clients.push(client);
    await client.subscribe(topic);
    const response = await gateway.app.inject({
      method: "POST",
      url: "/v1/events/publish",
      payload: { event: testEvent(topic, "order.placed", { id: "http-1", platform_tenant_id: "forged" }) },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true, event_id: "http-1", duplicate: false });
    const delivery = await client.next("delivery");
    expect(delivery.event).toMatchObject({
      id: "http-1",
      platform_tenant_id: "tenant-a",
      type: "order.placed",
    });
  });

  it("publish - defaults are filled and a repeated id is reported as a duplicate", async () => {
    gateway = await startGateway();
    const topic = randomName("t");
    const first = await gateway.app.inject({
      method: "POST",
      url: "/v1/events/publish",
      payload: { event: { source: "http-test", type: "x.y", topic } },
    });
    expect(first.statusCode).toBe(200);
    const eventId = first.json<{ event_id: string }>().event_id;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    const again = await gateway.app.inject({
      method: "POST",
      url: "/v1/events/publish",
      payload: { event: { id: eventId, source: "http-test", type: "x.y", topic } },
    });
    expect(again.json()).toEqual({ success: true, event_id: eventId, duplicate: true });
  });

  it("publish - 503 SOORMA_ERR_BROKER_UNAVAILABLE when the broker cannot store the event", async () => {
    gateway = await startGateway();
    await gateway.adapter.close();
    const response = await gateway.app.inject({
      method: "POST",
      url: "/v1/events/publish",
      payload: { event: testEvent(randomName("t")) },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      success: false,
      error: { code: "SOORMA_ERR_BROKER_UNAVAILABLE" },
    });
  });

  it("publish - 503 SOORMA_ERR_DRAINING once a drain started", async () => {
    gateway = await startGateway();
    await gateway.app.soorma.drain({ timeoutMs: 0 });
    const response = await gateway.app.inject({
      method: "POST",
      url: "/v1/events/publish",
      payload: { event: testEvent(randomName("t")) },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ success: false, error: { code: "SOORMA_ERR_DRAINING" } });
    await waitFor(() => gateway!.app.soorma.sessions.size === 0);
  });
});
