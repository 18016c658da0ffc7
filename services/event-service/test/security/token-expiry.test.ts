import { type ClientStatus, EventBusClient, type EventEnvelope } from "@soorma/sdk";
import { waitFor, withDeadline } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { signToken } from "../auth/jwt-helpers.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";
import { FAST_RECONNECT, testLogger } from "../sdk/support/gateway.js";
import { bearer, expectFatal } from "./support.js";

const SECRET = "a-test-secret-that-is-long-enough-0123456789";
const SECRET_BYTES = new TextEncoder().encode(SECRET);

/** A token of tenant `acme` that expires `seconds` from now (JWT times are whole seconds: 1 to 2 s left for 2). */
function shortToken(seconds: number): Promise<string> {
  return signToken(SECRET_BYTES, { soorma_tenant: "acme" }, { expiresInSec: seconds });
}

describe("credentials expiring on a live connection", () => {
  let gateway: TestGateway | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await gateway?.close();
    gateway = undefined;
  });

  async function start(): Promise<TestGateway> {
    // No clock tolerance, so the connection ends at the token's exp.
    gateway = await startGateway({ auth: { jwt: { secret: SECRET, clockToleranceSec: 0 } } });
    return gateway;
  }

  it("expiry - the gateway sends a fatal SOORMA_ERR_UNAUTHENTICATED (reason expired), closes with 4401, and the held delivery goes to another member", async () => {
    const { wsUrl } = await start();
    const group = randomName("g");
    const topic = randomName("t");
    const expiring = await FrameClient.connect(wsUrl, { headers: bearer(await shortToken(2)) });
    cleanups.push(() => expiring.close().catch(() => undefined));
    await expiring.hello({ agent_name: group });
    await expiring.subscribe(topic);
    const published = await expiring.publish(testEvent(topic));
    const held = await expiring.next("delivery");
    expect(held.event.id).toBe(published.event_id);

    const { client: other } = await FrameClient.open(
      wsUrl,
      { agent_name: group },
      {
        headers: bearer(await shortToken(300)),
      },
    );
    cleanups.push(() => other.close());
    await other.subscribe(topic);

    const before = Date.now();
    const { frame } = await expectFatal(expiring, "SOORMA_ERR_UNAUTHENTICATED", 4401);
    expect(frame.details).toEqual({ reason: "expired" });
    expect(Date.now() - before).toBeLessThan(4_000);
    const redelivered = await other.next("delivery");
    expect(redelivered.event.id).toBe(published.event_id);
    expect(redelivered.attempt).toBe(2);
  });

  it("expiry - an SDK client with a token function reconnects with a fresh token and keeps its subscription", async () => {
    const { wsUrl } = await start();
    const topic = randomName("t");
    let tokensIssued = 0;
    const client = new EventBusClient({
      url: wsUrl,
      agentName: randomName("g"),
      logger: testLogger(),
      reconnect: FAST_RECONNECT,
      auth: {
        token: async () => {
          tokensIssued += 1;
          return shortToken(2);
        },
      },
    });
    cleanups.push(() => client.close());
    const statuses: ClientStatus[] = [];
    client.onStatus((change) => statuses.push(change.status));
    const received: EventEnvelope[] = [];
    await client.connect();
    await client.subscribe(topic, "*", (delivery) => {
      received.push(delivery.event);
      delivery.ack();
    });

    // Two expiries in a row: each one is answered with a fresh token.
    await waitFor(() => tokensIssued >= 3 && client.status === "connected", {
      timeoutMs: 10_000,
      message: "two reconnects with fresh tokens",
    });
    expect(statuses).toContain("reconnecting");
    expect(statuses).not.toContain("closed");

    const publisher = await FrameClient.open(wsUrl, {}, { headers: bearer(await shortToken(300)) });
    cleanups.push(() => publisher.client.close());
    const { event_id } = await publisher.client.publish(testEvent(topic));
    await waitFor(() => received.some((event) => event.id === event_id), {
      timeoutMs: 5_000,
      message: "the event published after the reconnects",
    });
  });

  it("expiry - an SDK client with a fixed token is closed for good when it expires (nothing could renew it)", async () => {
    const { wsUrl } = await start();
    const client = new EventBusClient({
      url: wsUrl,
      logger: testLogger(),
      reconnect: FAST_RECONNECT,
      auth: { token: await shortToken(2) },
    });
    cleanups.push(() => client.close());
    const closed = new Promise<unknown>((resolve) => {
      client.onStatus((change) => {
        if (change.status === "closed") resolve(change.error);
      });
    });
    await client.connect();
    const error = await withDeadline(closed, 5_000, "the client to close");
    expect(error).toMatchObject({ code: "SOORMA_ERR_UNAUTHENTICATED" });
    await expect(client.publish({ event_type: "x.y", topic: "business-facts" })).rejects.toMatchObject({
      code: "SOORMA_ERR_CLIENT_CLOSED",
    });
  });

  it("expiry - an SDK client whose token is refused for another reason fails connect() at once", async () => {
    const { wsUrl } = await start();
    const client = new EventBusClient({
      url: wsUrl,
      logger: testLogger(),
      reconnect: FAST_RECONNECT,
      auth: { token: async () => `${await shortToken(300)}x` },
    });
    cleanups.push(() => client.close());
    await expect(client.connect({ timeout: 5_000 })).rejects.toMatchObject({
      code: "SOORMA_ERR_UNAUTHENTICATED",
    });
    expect(client.status).toBe("closed");
  });
});
