import { requireBroker, waitFor } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "./cleanups.js";
import { logFaultSummary, makeEvents, startNatsFaultStage } from "./support.js";

const nats = requireBroker("nats");

describe.skipIf(!nats.available)("faults - gateway killed while workers are connected (NATS)", () => {
  const cleanups = cleanupAfterEach();

  it("gateway SIGKILL mid-stream and restart: workers reconnect, 300 published = 300 handled by id", async () => {
    const eventType = "fault.gateway.kill";
    const stage = await startNatsFaultStage(eventType, cleanups);
    const { gateway, topic, log, workers, publisher } = stage;

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
    logFaultSummary("gateway kill", stage, published, handledBeforeKill);
  });
});
