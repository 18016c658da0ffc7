import {
  type NatsServerHandle,
  requireBroker,
  type ServiceHandle,
  startNatsServer,
  waitFor,
} from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import {
  brokerState,
  HandledLog,
  makeEvents,
  natsDeployment,
  RetryingPublisher,
  startNatsGateway,
  startWorkers,
  stopAll,
  uniqueSuffix,
} from "./support.js";

const nats = requireBroker("nats");

describe.skipIf(!nats.available)("faults - NATS broker killed while publishers and workers run", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it("broker SIGKILL mid-stream, restart on the same store: 400 published = 400 handled by id, nothing lost", async () => {
    const server: NatsServerHandle = await startNatsServer();
    cleanups.push(() => server.stop());
    const gateway: ServiceHandle = await startNatsGateway(natsDeployment(server));
    cleanups.push(() => gateway.stop());

    const suffix = uniqueSuffix();
    const topic = `faults-${suffix}`;
    const eventType = "fault.broker.kill";
    const log = new HandledLog();
    const workers = await startWorkers({
      gateway,
      group: `g${suffix}`,
      topic,
      eventType,
      count: 2,
      log,
      workMs: 10,
    });
    cleanups.push(() => stopAll(workers));
    const publisher = new RetryingPublisher(gateway.url);
    await publisher.client.connect();
    cleanups.push(() => publisher.client.close({ timeout: 1_000 }));

    const before = makeEvents(150, eventType, topic);
    const during = makeEvents(100, eventType, topic, 150);
    const after = makeEvents(150, eventType, topic, 250);

    await publisher.publishAll(before, 15_000);
    // The broker dies while the workers still chew on the first batch.
    const handledBeforeKill = log.unique;
    await server.kill("SIGKILL");
    await waitFor(async () => (await brokerState(gateway)) !== "ready", { timeoutMs: 5_000 });
    // Publishers keep going: refused while the broker is down, retried (same ids) until it is back.
    const publishingDuring = publisher.publishAll(during, 30_000);
    await waitFor(() => publisher.failures > 0, {
      timeoutMs: 5_000,
      message: "a publish refused during the outage",
    });
    await server.restart({ keepStore: true });
    await waitFor(async () => (await brokerState(gateway)) === "ready", { timeoutMs: 15_000 });
    await publishingDuring;
    await publisher.publishAll(after, 15_000);

    const published = [...before, ...during, ...after].map((event) => event.id!);
    expect(publisher.confirmed.size).toBe(published.length);
    await log.waitForAll(published, 30_000, `handled after the broker restart\n${gateway.logs(30)}`);
    expect(log.missing(published)).toEqual([]);
    console.info(
      `[faults] broker kill: published ${published.length}, handled ${log.unique} distinct ` +
        `(${handledBeforeKill} before the kill), redelivered ${log.redelivered}, publish retries ${publisher.failures}`,
    );
  });
});
