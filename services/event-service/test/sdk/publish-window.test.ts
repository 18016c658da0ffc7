import { EventBusClient, type EventEnvelope, EventTopic, type Logger, Worker } from "@soorma/sdk";
import { freePort, waitFor, withDeadline } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfig } from "../../src/config.js";
import { parseLimitsConfig } from "../../src/limits/config.js";
import {
  FAST_RECONNECT,
  pendingOf,
  randomName,
  type SdkTestGateway,
  startGateway,
  tempDataDir,
  testLogger,
} from "./support/gateway.js";

/*
 * The gateway allows 8 publishes per connection waiting for the broker; the client sends up to 32 at a time, so
 * the gateway refuses some with SOORMA_ERR_LIMIT_EXCEEDED. None of them may be lost or stored twice.
 */
const GATEWAY_MAX_PENDING = 8;
const CLIENT_MAX_IN_FLIGHT = 32;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function limitedConfig(config: Partial<GatewayConfig>): Partial<GatewayConfig> {
  return { ...config, limits: parseLimitsConfig({ maxPendingPublishesPerConnection: GATEWAY_MAX_PENDING }) };
}

async function gateway(config: Partial<GatewayConfig>, port = 0): Promise<SdkTestGateway> {
  const started = await startGateway(limitedConfig(config), port);
  cleanups.push(() => started.close());
  return started;
}

/** The test logger, also counting the publishes the gateway refused for now (by error code, not message). */
function refusalCountingLogger(): { logger: Logger; refusals: () => number } {
  const base = testLogger();
  let refusals = 0;
  const logger: Logger = {
    debug(msg, fields) {
      if ((fields as { code?: unknown } | undefined)?.code === "SOORMA_ERR_LIMIT_EXCEEDED") refusals += 1;
      base.debug(msg, fields);
    },
    info: (msg, fields) => base.info(msg, fields),
    warn: (msg, fields) => base.warn(msg, fields),
    error: (msg, fields) => base.error(msg, fields),
  };
  return { logger, refusals: () => refusals };
}

function publisher(url: string, logger: Logger): EventBusClient {
  const client = new EventBusClient({
    agentName: randomName("producer"),
    url,
    logger,
    reconnect: FAST_RECONNECT,
    maxInFlightPublishes: CLIENT_MAX_IN_FLIGHT,
  });
  cleanups.push(() => client.close({ timeout: 0 }));
  return client;
}

describe("SDK ↔ gateway: publish window", () => {
  it("burst - 2000 publishes fired without awaiting against a gateway allowing 8 pending are all confirmed and each stored once", async () => {
    const gw = await gateway({ broker: "memory" });
    const eventType = `job.${randomName("burst").replace("-", "")}`;
    const received = new Map<string, number>();
    const worker = new Worker({
      name: randomName("counter"),
      url: gw.url,
      logger: testLogger(),
      prefetch: 64,
    });
    cleanups.push(() => worker.stop({ force: true }));
    worker.onEvent(eventType, async (event: EventEnvelope) => {
      received.set(event.id, (received.get(event.id) ?? 0) + 1);
    });
    await worker.start();

    const { logger, refusals } = refusalCountingLogger();
    const client = publisher(gw.url, logger);
    await client.connect();
    const ids = Array.from({ length: 2000 }, (_, n) => `${randomName("job")}-${n}`);
    const outcomes = await withDeadline(
      Promise.allSettled(
        ids.map((id, n) =>
          client.publish({ id, event_type: eventType, topic: EventTopic.ACTION_REQUESTS, data: { n } }),
        ),
      ),
      30_000,
      "2000 publishes settled",
    );

    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    const results = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    // Not one was a duplicate: a refused publish stored nothing, so its resend is its first store.
    expect(results).toEqual(ids.map((id) => ({ event_id: id, duplicate: false })));
    // The scenario really happened: the gateway refused publishes beyond its limit of 8.
    expect(refusals()).toBeGreaterThan(0);
    await waitFor(() => received.size === ids.length, {
      timeoutMs: 30_000,
      message: "the worker received all 2000 events",
    });
    expect([...received.keys()].sort()).toEqual([...ids].sort());
    expect([...received.values()].every((count) => count === 1)).toBe(true);
  });

  it("offline flush - 1500 publishes buffered while the gateway is down are all confirmed after it comes up, each stored once", async () => {
    const dataDir = await tempDataDir();
    cleanups.push(() => dataDir.remove());
    const config = { broker: "sqlite" as const, dataDir: dataDir.path };
    const group = randomName("ledger");
    const eventType = `entry.${randomName("flush").replace("-", "")}`;
    const port = await freePort();

    // The group's inbox exists before the publishes, so the store counts every one of them.
    const first = await gateway(config, port);
    const subscriber = new EventBusClient({ agentName: group, url: first.url, logger: testLogger() });
    await subscriber.connect();
    await subscriber.subscribe(EventTopic.BUSINESS_FACTS, [eventType], () => {});
    await subscriber.close();
    await first.close();

    const { logger, refusals } = refusalCountingLogger();
    const client = publisher(first.url, logger);
    const connected = client.connect({ timeout: 30_000 });
    const ids = Array.from({ length: 1500 }, (_, n) => `${randomName("entry")}-${n}`);
    const publishes = ids.map((id, n) =>
      client.publish({ id, event_type: eventType, topic: EventTopic.BUSINESS_FACTS, data: { n } }),
    );
    expect(client.status).toBe("connecting");

    const second = await gateway(config, port);
    await withDeadline(connected, 10_000, "publisher connected to the restarted gateway");
    const outcomes = await withDeadline(
      Promise.allSettled(publishes),
      30_000,
      "1500 buffered publishes settled",
    );

    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    const results = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    expect(results).toEqual(ids.map((id) => ({ event_id: id, duplicate: false })));
    expect(refusals()).toBeGreaterThan(0);
    expect(await pendingOf(second, group, EventTopic.BUSINESS_FACTS)).toBe(ids.length);
  });
});
