import {
  type NatsServerHandle,
  requireBroker,
  type ServiceHandle,
  startNatsServer,
  waitFor,
} from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import {
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

describe.skipIf(!nats.available)("faults - gateway killed while workers are connected (NATS)", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it("gateway SIGKILL mid-stream and restart: workers reconnect, 300 published = 300 handled by id", async () => {
    const server: NatsServerHandle = await startNatsServer();
    cleanups.push(() => server.stop());
    const gateway: ServiceHandle = await startNatsGateway(natsDeployment(server));
    cleanups.push(() => gateway.stop());

    const suffix = uniqueSuffix();
    const topic = `faults-${suffix}`;
    const eventType = "fault.gateway.kill";
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

    const before = makeEvents(100, eventType, topic);
    const during = makeEvents(100, eventType, topic, 100);
    const after = makeEvents(100, eventType, topic, 200);

    await publisher.publishAll(before, 15_000);
    const handledBeforeKill = log.unique;
    // Deliveries the workers hold die with the gateway; the broker hands them out again after the ack wait.
    await gateway.kill("SIGKILL");
    // The SDK buffers these while the gateway is gone and sends them (same ids) once it reconnects.
    const publishingDuring = publisher.publishAll(during, 30_000);
    await gateway.restart();
    await waitFor(() => workers.every((worker) => worker.client.status === "connected"), {
      timeoutMs: 10_000,
      message: "both workers reconnected",
    });
    await publishingDuring;
    await publisher.publishAll(after, 15_000);

    const published = [...before, ...during, ...after].map((event) => event.id!);
    expect(publisher.confirmed.size).toBe(published.length);
    await log.waitForAll(published, 30_000, `handled after the gateway restart\n${gateway.logs(30)}`);
    expect(log.missing(published)).toEqual([]);
    console.info(
      `[faults] gateway kill: published ${published.length}, handled ${log.unique} distinct ` +
        `(${handledBeforeKill} before the kill), redelivered ${log.redelivered}, publish retries ${publisher.failures}`,
    );
  });
});
