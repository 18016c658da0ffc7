import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventBusClient } from "../src/client/event-bus-client.js";
import type { EventBusClientOptions } from "../src/client/options.js";
import { createConsoleLogger } from "../src/logger.js";

/** A loopback port nobody listens on (taken from the kernel, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

const clients: EventBusClient[] = [];
async function offlineClient(options: EventBusClientOptions = {}): Promise<EventBusClient> {
  const client = new EventBusClient({
    url: `ws://127.0.0.1:${await closedPort()}`,
    logger: createConsoleLogger("silent"),
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeout: 0 })));
});

describe("client while offline", () => {
  it("publish - a buffered publish still has its deadline: TimeoutError after timeout", async () => {
    const client = await offlineClient();
    const started = Date.now();
    await expect(
      client.publish({ event_type: "order.placed", topic: "business-facts" }, { timeout: 60 }),
    ).rejects.toMatchObject({ name: "TimeoutError", code: "SOORMA_ERR_TIMEOUT" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it("publish - beyond maxBufferedPublishes it rejects at once with SOORMA_ERR_LIMIT_EXCEEDED", async () => {
    const client = await offlineClient({ maxBufferedPublishes: 2 });
    const first = client.publish({ event_type: "a.b", topic: "business-facts" });
    const second = client.publish({ event_type: "a.b", topic: "business-facts" });
    await expect(client.publish({ event_type: "a.b", topic: "business-facts" })).rejects.toMatchObject({
      name: "LimitError",
      code: "SOORMA_ERR_LIMIT_EXCEEDED",
    });
    await client.close({ timeout: 0 });
    await expect(first).rejects.toMatchObject({ code: "SOORMA_ERR_CLIENT_CLOSED" });
    await expect(second).rejects.toMatchObject({ code: "SOORMA_ERR_CLIENT_CLOSED" });
  });

  it("publish - an invalid event is refused before it is buffered", async () => {
    const client = await offlineClient({ maxBufferedPublishes: 1 });
    await expect(client.publish({ event_type: "a.b", topic: "NOPE" })).rejects.toMatchObject({
      code: "SOORMA_ERR_TOPIC_INVALID",
    });
    // The refused publish took no buffer slot.
    const kept = client.publish({ event_type: "a.b", topic: "business-facts" });
    await client.close({ timeout: 0 });
    await expect(kept).rejects.toMatchObject({ code: "SOORMA_ERR_CLIENT_CLOSED" });
  });

  it("publish - an aborted signal rejects with its reason", async () => {
    const client = await offlineClient();
    const controller = new AbortController();
    const pending = client.publish(
      { event_type: "a.b", topic: "business-facts" },
      { signal: controller.signal },
    );
    const reason = new Error("not needed any more");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("close - idempotent; every call resolves, later calls reject with ClientClosedError", async () => {
    const client = await offlineClient();
    const pending = client.subscribe("business-facts", "*", () => {});
    const [a, b] = [client.close(), client.close()];
    expect(a).toBe(b);
    await Promise.all([a, b]);
    await expect(pending).rejects.toMatchObject({ name: "ClientClosedError" });
    await expect(client.connect()).rejects.toMatchObject({ code: "SOORMA_ERR_CLIENT_CLOSED" });
    await expect(client.publish({ event_type: "a.b", topic: "business-facts" })).rejects.toMatchObject({
      code: "SOORMA_ERR_CLIENT_CLOSED",
    });
    expect(client.status).toBe("closed");
  });

  it("connect - an unreachable gateway keeps being retried until the deadline, then the client is idle again", async () => {
    const client = await offlineClient();
    const statuses: string[] = [];
    client.onStatus((change) => statuses.push(change.status));
    await expect(client.connect({ timeout: 150 })).rejects.toMatchObject({
      name: "TimeoutError",
      code: "SOORMA_ERR_TIMEOUT",
    });
    expect(statuses).toEqual(["connecting", "idle"]);
    expect(client.status).toBe("idle");
  });

  it("subscribe - invalid topic and event types are ValidationErrors", async () => {
    const client = await offlineClient();
    await expect(client.subscribe("Bad", "*", () => {})).rejects.toMatchObject({
      code: "SOORMA_ERR_TOPIC_INVALID",
    });
    await expect(client.subscribe("business-facts", [], () => {})).rejects.toMatchObject({
      code: "SOORMA_ERR_FRAME_INVALID",
    });
    await expect(client.subscribe("business-facts", ["a b"], () => {})).rejects.toMatchObject({
      code: "SOORMA_ERR_FRAME_INVALID",
    });
  });
});
