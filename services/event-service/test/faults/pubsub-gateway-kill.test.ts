import { randomUUID } from "node:crypto";
import { type ServiceHandle, waitFor, withDeadline } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import { pubsubAvailability, pubsubSuiteTitle, useEmulator } from "../broker/pubsub-fixture.js";
import { cleanupAfterEach } from "./cleanups.js";
import { pubsubWorker, randomHex, startPubSubGateway, startWorker } from "./pubsub-support.js";

const EVENTS = 300;
const KILL_AFTER_CONFIRMED = 100;

/**
 * Fault: the gateway process is killed with SIGKILL while events flow through Pub/Sub (publishes and deliveries
 * in flight), then restarted on the same port. Nothing confirmed may be lost: every event whose publish was
 * confirmed is handled at least once (counted by event id; redeliveries and re-stored retries are allowed).
 */
describe.skipIf(!pubsubAvailability.available)(pubsubSuiteTitle("pubsub fault: gateway SIGKILL"), () => {
  const suite = useEmulator();
  const cleanups = cleanupAfterEach();

  it("gateway SIGKILL while 300 events flow - every confirmed event is handled after the restart", async () => {
    const gateway = await startPubSubGateway(suite.emulator, "kill", {
      // Short leases: deliveries held by the killed process come back within seconds.
      SOORMA_LEASE_MS: "2000",
      SOORMA_RETRY_BASE_MS: "20",
      SOORMA_RETRY_MAX_MS: "200",
    });
    cleanups.push(() => gateway.stop());
    const topic = `kill-${randomHex()}`;
    const type = "fault.kill.happened";

    const handled = new Map<string, number>();
    const worker = pubsubWorker(gateway, `kill-group-${randomHex()}`, 8);
    worker.onEvent(type, { topic }, async (event) => {
      // A little work, so deliveries are in flight when the gateway dies.
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 20)));
      handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
    });
    await startWorker(worker, cleanups);

    const confirmed = new Set<string>();
    const publishing = (async () => {
      for (let i = 0; i < EVENTS; i++) {
        const id = randomUUID();
        await publishUntilConfirmed(gateway, { id, source: "fault-test", type, topic, data: { i } });
        confirmed.add(id);
      }
    })();

    await waitFor(() => confirmed.size >= KILL_AFTER_CONFIRMED, {
      timeoutMs: 30_000,
      message: "first 100 confirms",
    });
    const exit = await gateway.kill("SIGKILL");
    expect(exit.signal).toBe("SIGKILL");
    const handledAtKill = handled.size;
    await gateway.restart();

    await withDeadline(publishing, 60_000, "publishing every event across the restart");
    await waitFor(() => [...confirmed].every((id) => handled.has(id)), {
      timeoutMs: 45_000,
      message: `every confirmed event handled (missing ${[...confirmed].filter((id) => !handled.has(id)).length})`,
    });

    expect(confirmed.size).toBe(EVENTS);
    const lost = [...confirmed].filter((id) => !handled.has(id));
    expect(lost).toEqual([]);
    // The kill really happened mid-stream: work was left for the restarted gateway.
    expect(handledAtKill).toBeLessThan(EVENTS);
    const redelivered = [...handled.values()].filter((count) => count > 1).length;
    console.info(
      `pubsub gateway kill: ${EVENTS} confirmed, all handled, ${redelivered} handled more than once`,
    );
  });
});

/**
 * POST the event until the gateway confirms it, re-sending the same id on every failure (connection refused
 * while the gateway is down, 503 while it starts): what a durable producer does.
 */
async function publishUntilConfirmed(gateway: ServiceHandle, event: Record<string, unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = "no attempt";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${gateway.httpUrl}/v1/events/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ event }),
        signal: AbortSignal.timeout(5_000),
      });
      if (response.status === 200) return;
      last = `HTTP ${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`publish of ${String(event.id)} not confirmed within 30 s (last: ${last})`);
}
