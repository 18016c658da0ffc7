import type { ErrorFrame } from "@soorma/common";
import { deferred, waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryAdapter } from "../../src/broker/memory.js";
import { FrameClient, nextReqId } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";
import { bearer, expectFatal, type KeyedGateway, startKeyedGateway, wrapAdapter } from "./support.js";

/*
 * One test per limit of docs/security.md. The message size limit is covered by test/bad-input
 * (ws-oversize-frame, ws-oversize-hard-cap, http-oversize); the slow-consumer limit by slow-consumer.test.ts.
 */

describe("limits", () => {
  let gateway: TestGateway | KeyedGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  async function open(
    hello: Parameters<typeof FrameClient.open>[1] = {},
    headers: Record<string, string> = {},
  ) {
    const opened = await FrameClient.open(gateway!.wsUrl, hello, { headers });
    clients.push(opened.client);
    return opened;
  }

  function errorsOf(client: FrameClient, code: string): ErrorFrame[] {
    return client.received.filter((f): f is ErrorFrame => f.type === "error" && f.code === code);
  }

  it("frame rate - frames above the rate get SOORMA_ERR_RATE_LIMITED with their req_id and retry_after_ms; the connection stays usable", async () => {
    // One token per second: the burst of 5 is all the test's frames can use, whatever the machine's speed.
    gateway = await startGateway({ limits: { maxFramesPerSecond: 1, frameBurst: 5 } });
    const topic = randomName("t");
    const { client } = await open();
    const reqIds = Array.from({ length: 12 }, () => nextReqId());
    for (const reqId of reqIds) client.send({ type: "publish", req_id: reqId, event: testEvent(topic) });
    const answers = await Promise.all(
      reqIds.map((reqId) => client.next((f) => "req_id" in f && f.req_id === reqId)),
    );
    const limited = answers.filter((f) => f.type === "error");
    // The hello took one token of the burst of 5: four publishes pass, the rest are refused.
    expect(answers.filter((f) => f.type === "published")).toHaveLength(4);
    expect(limited).toHaveLength(8);
    for (const frame of limited) {
      expect(frame).toMatchObject({
        code: "SOORMA_ERR_RATE_LIMITED",
        fatal: false,
        details: { limit: "maxFramesPerSecond", retry_after_ms: expect.any(Number) },
      });
    }
    // Tokens come back at the sustained rate; the same connection publishes again.
    const again = await waitFor(async () => client.publish(testEvent(topic)).catch(() => undefined), {
      timeoutMs: 5_000,
      intervalMs: 100,
      message: "a publish after the rate limit",
    });
    expect(again.duplicate).toBe(false);
  });

  it("frame rate - a client that keeps ignoring the limit is closed (fatal SOORMA_ERR_RATE_LIMITED, 4429); others are not", async () => {
    gateway = await startGateway({
      limits: { maxFramesPerSecond: 2, frameBurst: 2, rateLimitedFramesBeforeClose: 5 },
    });
    const topic = randomName("t");
    const { client: bystander } = await open();
    const { client: flooder } = await open();
    for (let i = 0; i < 20; i++) flooder.send({ type: "ack", delivery_id: `d-${i}` });
    const { frame } = await expectFatal(flooder, "SOORMA_ERR_RATE_LIMITED", 4429);
    expect(frame.details).toMatchObject({ limit: "maxFramesPerSecond" });
    expect(errorsOf(flooder, "SOORMA_ERR_RATE_LIMITED").length).toBeLessThanOrEqual(5);
    expect((await bystander.publish(testEvent(topic))).duplicate).toBe(false);
  });

  it("subscriptions - the subscription above the limit gets SOORMA_ERR_LIMIT_EXCEEDED; re-subscribing or freeing one works", async () => {
    gateway = await startGateway({ limits: { maxSubscriptionsPerConnection: 2 } });
    const [a, b, c] = [randomName("a"), randomName("b"), randomName("c")];
    const { client } = await open();
    await client.subscribe(a);
    await client.subscribe(b);
    const reqId = nextReqId();
    client.send({ type: "subscribe", req_id: reqId, topic: c, event_types: ["*"] });
    const refused = await client.next((f) => f.type === "error" && f.req_id === reqId);
    expect(refused).toMatchObject({
      code: "SOORMA_ERR_LIMIT_EXCEEDED",
      fatal: false,
      details: { limit: "maxSubscriptionsPerConnection", max: 2 },
    });
    // Changing the event types of a topic already subscribed is not a new subscription.
    await client.subscribe(b, ["only.this"]);
    client.send({ type: "unsubscribe", req_id: "u-1", topic: a });
    await client.reply("u-1", "unsubscribed");
    expect((await client.subscribe(c)).topic).toBe(c);
  });

  it("connections per tenant - the connection above the limit is closed (fatal SOORMA_ERR_LIMIT_EXCEEDED, 4429); other tenants are not limited; a closed connection frees its slot", async () => {
    const keyed = await startKeyedGateway(
      [
        { id: "acme", tenant: "acme" },
        { id: "globex", tenant: "globex" },
      ],
      { limits: { maxConnectionsPerTenant: 2 } },
    );
    gateway = keyed;
    const acme = bearer(keyed.keys.acme!);
    const { client: first } = await open({}, acme);
    await open({}, acme);

    const third = await FrameClient.connect(keyed.wsUrl, { headers: acme });
    clients.push(third);
    const { frame } = await expectFatal(third, "SOORMA_ERR_LIMIT_EXCEEDED", 4429);
    expect(frame.details).toEqual({ limit: "maxConnectionsPerTenant", max: 2 });
    // Counted by tenant, whichever way the credentials come: in hello too.
    const viaHello = await FrameClient.connect(keyed.wsUrl);
    clients.push(viaHello);
    viaHello.sendHello({ auth: { api_key: keyed.keys.acme! } });
    await expectFatal(viaHello, "SOORMA_ERR_LIMIT_EXCEEDED", 4429);

    await open({}, bearer(keyed.keys.globex!));
    await first.close();
    const reopened = await waitFor(
      async () => FrameClient.open(keyed.wsUrl, {}, { headers: acme }).catch(() => undefined),
      { timeoutMs: 5_000, message: "a new acme connection after one closed" },
    );
    clients.push(reopened.client);
    expect(reopened.welcome.type).toBe("welcome");
  });

  it("un-acked per member - a larger hello.prefetch is lowered to maxPrefetch; the member never holds more", async () => {
    gateway = await startGateway({ limits: { maxPrefetch: 3 } });
    const topic = randomName("t");
    const group = randomName("g");
    const { client, welcome } = await open({ agent_name: group, prefetch: 50 });
    expect(welcome.prefetch).toBe(3);
    await client.subscribe(topic);
    for (let i = 0; i < 6; i++) await client.publish(testEvent(topic));
    const held = await client.deliveries(3);
    await waitFor(() => {
      const member = gateway!.app.dispatcher.snapshot().find((g) => g.group === group)?.members[0];
      return member?.inFlight === 3;
    });
    expect(client.received.filter((f) => f.type === "delivery")).toHaveLength(3);
    client.send({ type: "ack", delivery_id: held[0]!.delivery_id });
    await client.next("delivery");
    expect(client.received.filter((f) => f.type === "delivery")).toHaveLength(4);
  });

  it("pending publishes - publishes beyond the limit awaiting the broker get SOORMA_ERR_LIMIT_EXCEEDED and are not stored", async () => {
    const release = deferred();
    const memory = createMemoryAdapter();
    // The real adapter behind a gate: its publishes wait until the test releases them (a slow broker).
    const slow = wrapAdapter(memory, {
      publish: async (event) => {
        await release.promise;
        return memory.publish(event);
      },
    });
    gateway = await startGateway({ limits: { maxPendingPublishesPerConnection: 2 } }, slow);
    const topic = randomName("t");
    const { client } = await open();
    const reqIds = Array.from({ length: 4 }, () => nextReqId());
    for (const reqId of reqIds) client.send({ type: "publish", req_id: reqId, event: testEvent(topic) });
    const refused = await Promise.all(
      reqIds.slice(2).map((reqId) => client.next((f) => f.type === "error" && f.req_id === reqId)),
    );
    for (const frame of refused) {
      expect(frame).toMatchObject({
        code: "SOORMA_ERR_LIMIT_EXCEEDED",
        details: { limit: "maxPendingPublishesPerConnection", max: 2 },
      });
    }
    release.resolve();
    await client.reply(reqIds[0]!, "published");
    await client.reply(reqIds[1]!, "published");
  });

  it("hello timeout - a connection that does not say hello in time is closed (fatal SOORMA_ERR_HELLO_REQUIRED, 4408)", async () => {
    gateway = await startGateway({ limits: { helloTimeoutMs: 200 } });
    const silent = await FrameClient.connect(gateway.wsUrl);
    clients.push(silent);
    const { frame } = await expectFatal(silent, "SOORMA_ERR_HELLO_REQUIRED", 4408);
    expect(frame.details).toEqual({ limit: "helloTimeoutMs", max: 200 });
  });
});
