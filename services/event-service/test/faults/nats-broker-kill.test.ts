import { requireBroker, waitFor } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "./cleanups.js";
import { brokerState, logFaultSummary, makeEvents, startNatsFaultStage } from "./support.js";

const nats = requireBroker("nats");

describe.skipIf(!nats.available)("faults - NATS broker killed while publishers and workers run", () => {
  const cleanups = cleanupAfterEach();

  it("broker SIGKILL mid-stream, restart on the same store: 400 published = 400 handled by id, nothing lost", async () => {
    const eventType = "fault.broker.kill";
    const stage = await startNatsFaultStage(eventType, cleanups);
    const { server, gateway, topic, log, publisher } = stage;

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
    logFaultSummary("broker kill", stage, published, handledBeforeKill);
  });
});
