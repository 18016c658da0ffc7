import { Agent, type ClientStatus, EventBusClient, type EventEnvelope, EventTopic } from "@soorma/sdk";
import { deferred, waitFor, withDeadline } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import {
  FAST_RECONNECT,
  randomName,
  type SdkTestGateway,
  startGateway,
  tempDataDir,
  testLogger,
} from "./support/gateway.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A restartable gateway on one SQLite file: `restart()` closes it and starts a new one on the same port. */
async function restartableGateway() {
  const dataDir = await tempDataDir();
  cleanups.push(() => dataDir.remove());
  const config = { broker: "sqlite" as const, dataDir: dataDir.path };
  let current: SdkTestGateway | undefined = await startGateway(config);
  const port = current.port;
  cleanups.push(async () => current?.close());
  return {
    url: current.url,
    get current(): SdkTestGateway | undefined {
      return current;
    },
    async stop(): Promise<void> {
      await current?.close();
      current = undefined;
    },
    async start(): Promise<void> {
      current = await startGateway(config, port);
    },
  };
}

function statusLog(client: EventBusClient): ClientStatus[] {
  const seen: ClientStatus[] = [];
  client.onStatus((change) => seen.push(change.status));
  return seen;
}

describe("SDK ↔ gateway: reconnect", () => {
  it("offline publishes - buffered while the gateway is down, confirmed in order once it is back; re-subscribed consumer gets them", async () => {
    const gw = await restartableGateway();
    const received: EventEnvelope[] = [];
    const consumer = new Agent({
      name: randomName("ledger"),
      url: gw.url,
      logger: testLogger(),
      reconnect: FAST_RECONNECT,
    });
    cleanups.push(() => consumer.stop({ force: true }));
    consumer.onEvent("payment.made", async (event) => {
      received.push(event);
    });
    await consumer.start();
    const producer = new EventBusClient({
      agentName: randomName("cashier"),
      url: gw.url,
      logger: testLogger(),
      reconnect: FAST_RECONNECT,
    });
    cleanups.push(() => producer.close({ timeout: 0 }));
    await producer.connect();
    const producerStatuses = statusLog(producer);

    await gw.stop();
    await waitFor(() => producer.status === "reconnecting" && consumer.client.status === "reconnecting", {
      message: "both clients noticed the gateway is gone",
    });
    const ids = [randomName("pay"), randomName("pay"), randomName("pay")];
    let confirmedWhileDown = 0;
    const publishes = ids.map((id, n) =>
      producer
        .publish({ id, event_type: "payment.made", topic: EventTopic.BUSINESS_FACTS, data: { n } })
        .then((result) => {
          confirmedWhileDown += gw.current === undefined ? 1 : 0;
          return result;
        }),
    );

    await gw.start();
    const results = await withDeadline(Promise.all(publishes), 10_000, "buffered publishes confirmed");
    expect(confirmedWhileDown).toBe(0);
    expect(results).toEqual(ids.map((id) => ({ event_id: id, duplicate: false })));
    await waitFor(() => received.length === 3, { message: "consumer received the buffered events" });
    expect(received.map((e) => e.id)).toEqual(ids);

    // The sequence after a gateway shutdown: told to drain, lost, back.
    expect(producerStatuses).toEqual(["draining", "reconnecting", "connected"]);
  });

  it("re-subscribe - after a gateway restart the agent is subscribed again and receives events published later", async () => {
    const gw = await restartableGateway();
    const received: EventEnvelope[] = [];
    const agent = new Agent({
      name: randomName("watcher"),
      url: gw.url,
      logger: testLogger(),
      reconnect: FAST_RECONNECT,
    });
    cleanups.push(() => agent.stop({ force: true }));
    agent.onEvent("alert.raised", { topic: EventTopic.SYSTEM_EVENTS }, async (event) => {
      received.push(event);
    });
    await agent.start();
    const statuses = statusLog(agent.client);

    await gw.stop();
    await waitFor(() => agent.client.status === "reconnecting", { message: "agent noticed the restart" });
    await gw.start();
    await waitFor(() => agent.client.status === "connected", { message: "agent reconnected" });
    // The member shows up with its topic again only through a fresh subscribe on the new connection.
    await waitFor(
      async () =>
        (await gw.current?.groups())
          ?.find((g) => g.group === agent.name)
          ?.members.some((m) => m.topics.includes("system-events")),
      { message: "agent re-subscribed" },
    );

    const sender = new EventBusClient({ url: gw.url, logger: testLogger() });
    cleanups.push(() => sender.close());
    await sender.connect();
    await sender.publish({
      event_type: "alert.raised",
      topic: EventTopic.SYSTEM_EVENTS,
      data: { level: "high" },
    });
    await waitFor(() => received.length === 1, { message: "event delivered after the restart" });
    expect(received[0]?.data).toEqual({ level: "high" });
    expect(statuses.filter((s) => s !== "draining")).toEqual(["reconnecting", "connected"]);
  });

  it("connection loss - ctx.signal aborts for the running handler and the event is redelivered after reconnect", async () => {
    const gw = await restartableGateway();
    const attempts: number[] = [];
    const firstRunSignal = deferred<AbortSignal>();
    const redelivered = deferred<void>();
    const agent = new Agent({
      name: randomName("indexer"),
      url: gw.url,
      logger: testLogger(),
      reconnect: FAST_RECONNECT,
    });
    cleanups.push(() => agent.stop({ force: true }));
    agent.onEvent("doc.added", async (_event, ctx) => {
      attempts.push(ctx.delivery.attempt);
      if (attempts.length === 1) {
        firstRunSignal.resolve(ctx.signal);
        // Keep working past the connection loss; the late ack must be dropped quietly.
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        return;
      }
      redelivered.resolve();
    });
    await agent.start();
    await agent.publish({ event_type: "doc.added", topic: EventTopic.BUSINESS_FACTS });
    const signal = await withDeadline(firstRunSignal.promise, 10_000, "first run started");
    expect(signal.aborted).toBe(false);

    await gw.stop();
    await waitFor(() => signal.aborted, { message: "ctx.signal aborted on connection loss" });
    await gw.start();
    await withDeadline(redelivered.promise, 10_000, "event redelivered");
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toBeGreaterThan(1);
  });
});
