import { afterEach, describe, expect, it } from "vitest";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, testEvent } from "../gateway/harness.js";
import { bearer, expectFatal, type KeyedGateway, refusedUpgrade, startKeyedGateway } from "./support.js";

const KEYS = [
  { id: "acme-agent", tenant: "acme" },
  { id: "globex-agent", tenant: "globex" },
  { id: "acme-old", tenant: "acme", expires_at: "2020-01-01T00:00:00Z" },
];

describe("authentication - API keys", () => {
  let gateway: KeyedGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  async function open(headers: Record<string, string>, hello: Parameters<typeof FrameClient.open>[1] = {}) {
    const opened = await FrameClient.open(gateway!.wsUrl, hello, { headers });
    clients.push(opened.client);
    return opened;
  }

  it("api key - in the Authorization header at upgrade: the connection works in the key's tenant, a forged platform_tenant_id is overwritten", async () => {
    gateway = await startKeyedGateway(KEYS);
    const topic = randomName("t");
    const { client } = await open(bearer(gateway.keys["acme-agent"]!), { agent_name: randomName("g") });
    await client.subscribe(topic);
    await client.publish(testEvent(topic, "x.y", { platform_tenant_id: "globex", tenant_id: "customer-9" }));
    const delivery = await client.next("delivery");
    expect(delivery.event.platform_tenant_id).toBe("acme");
    // tenant_id belongs to the application and passes through unchanged.
    expect(delivery.event.tenant_id).toBe("customer-9");
  });

  it("api key - in hello.auth of a connection upgraded without credentials", async () => {
    gateway = await startKeyedGateway(KEYS);
    const topic = randomName("t");
    const { client, welcome } = await open({}, { auth: { api_key: gateway.keys["globex-agent"]! } });
    expect(welcome.type).toBe("welcome");
    await client.subscribe(topic);
    await client.publish(testEvent(topic));
    expect((await client.next("delivery")).event.platform_tenant_id).toBe("globex");
  });

  it("api key - frames pipelined behind a hello that is still being authenticated run after welcome, in order", async () => {
    gateway = await startKeyedGateway(KEYS);
    const topic = randomName("t");
    const client = await FrameClient.connect(gateway.wsUrl);
    clients.push(client);
    client.sendHello({ auth: { api_key: gateway.keys["acme-agent"]! } });
    client.send({ type: "subscribe", req_id: "pipelined-sub", topic });
    client.send({ type: "unsubscribe", req_id: "pipelined-unsub", topic });
    await client.next("welcome");
    await client.reply("pipelined-sub", "subscribed");
    // subscribe and unsubscribe keep their order, so the unsubscribe finds the subscription.
    await client.reply("pipelined-unsub", "unsubscribed");
    expect(client.received.filter((f) => f.type === "error")).toEqual([]);
  });

  it("api key - a wrong key is refused with 401 before the upgrade and on HTTP; the answer never repeats the key", async () => {
    gateway = await startKeyedGateway(KEYS);
    const wrong = `soorma_${"x".repeat(43)}`;
    const upgrade = await refusedUpgrade(gateway.wsUrl, bearer(wrong));
    expect(upgrade.status).toBe(401);
    expect(upgrade.body.error).toMatchObject({
      code: "SOORMA_ERR_UNAUTHENTICATED",
      details: { reason: "invalid" },
    });
    expect(upgrade.wwwAuthenticate).toContain("Bearer");
    expect(JSON.stringify(upgrade.body)).not.toContain(wrong);

    const http = await gateway.publishHttp(testEvent(randomName("t")), bearer(wrong));
    expect(http.status).toBe(401);
    expect(http.body).toMatchObject({ success: false, error: { code: "SOORMA_ERR_UNAUTHENTICATED" } });
    expect(http.headers.get("www-authenticate")).toContain("Bearer");
    expect(JSON.stringify(http.body)).not.toContain(wrong);
  });

  it("api key - a wrong key in hello gets a fatal SOORMA_ERR_UNAUTHENTICATED and close 4401", async () => {
    gateway = await startKeyedGateway(KEYS);
    const client = await FrameClient.connect(gateway.wsUrl);
    clients.push(client);
    client.sendHello({ auth: { api_key: `soorma_${"y".repeat(43)}` } });
    const { frame } = await expectFatal(client, "SOORMA_ERR_UNAUTHENTICATED", 4401);
    expect(frame.details).toEqual({ reason: "invalid" });
  });

  it("api key - an expired key is refused with reason expired", async () => {
    gateway = await startKeyedGateway(KEYS);
    const upgrade = await refusedUpgrade(gateway.wsUrl, bearer(gateway.keys["acme-old"]!));
    expect(upgrade.status).toBe(401);
    expect(upgrade.body.error?.details?.reason).toBe("expired");
  });

  it("api key - a key in the URL query (?api_key=) is ignored on WebSocket and HTTP", async () => {
    gateway = await startKeyedGateway(KEYS);
    const key = gateway.keys["acme-agent"]!;
    // The upgrade itself proceeds (a hello may still bring credentials), but the query key does not count.
    const client = await FrameClient.connect(gateway.wsUrl, {}, `?api_key=${key}&token=${key}`);
    clients.push(client);
    client.sendHello();
    const { frame } = await expectFatal(client, "SOORMA_ERR_UNAUTHENTICATED", 4401);
    expect(frame.details).toEqual({ reason: "missing" });

    const http = await gateway.publishHttp(testEvent(randomName("t")), {}, `?api_key=${key}`);
    expect(http.status).toBe(401);
    expect(http.body).toMatchObject({
      error: { code: "SOORMA_ERR_UNAUTHENTICATED", details: { reason: "missing" } },
    });
  });

  it("api key - credentials both in the header and in hello are refused as ambiguous", async () => {
    gateway = await startKeyedGateway(KEYS);
    const client = await FrameClient.connect(gateway.wsUrl, { headers: bearer(gateway.keys["acme-agent"]!) });
    clients.push(client);
    client.sendHello({ auth: { api_key: gateway.keys["globex-agent"]! } });
    const { frame } = await expectFatal(client, "SOORMA_ERR_UNAUTHENTICATED", 4401);
    expect(frame.details).toEqual({ reason: "ambiguous" });
  });

  it("api key - HTTP publish with the header stores the event in the key's tenant, whatever platform_tenant_id says", async () => {
    gateway = await startKeyedGateway(KEYS);
    const topic = randomName("t");
    const { client } = await open(bearer(gateway.keys["acme-agent"]!), { agent_name: randomName("g") });
    await client.subscribe(topic);
    const answer = await gateway.publishHttp(
      testEvent(topic, "x.y", { platform_tenant_id: "globex" }),
      bearer(gateway.keys["acme-agent"]!),
    );
    expect(answer).toMatchObject({ status: 200, body: { success: true, duplicate: false } });
    const delivery = await client.next("delivery");
    expect(delivery.event).toMatchObject({ id: answer.body.event_id, platform_tenant_id: "acme" });
  });
});
