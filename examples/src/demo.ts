/**
 * `pnpm demo`: starts the event service on its embedded SQLite default and shows the three messaging patterns
 * live — who got which event — then prints a summary and exits (non-zero if a pattern did not hold).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "@soorma/event-service";
import { Agent, EventBusClient, type EventEnvelope, Worker } from "@soorma/sdk";

const DEADLINE_MS = 15_000;
const quiet = { logger: { debug() {}, info() {}, warn() {}, error: console.error } };

interface Outcome {
  pattern: string;
  expectation: string;
  observed: string;
  ok: boolean;
}

/** Resolve once `check()` holds, or reject after the demo's deadline (so the demo never hangs). */
async function until(what: string, check: () => boolean): Promise<void> {
  const giveUp = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function orderId(event: EventEnvelope): string {
  return String(event.data?.order_id ?? event.data?.task ?? event.id);
}

async function broadcast(url: string, publisher: EventBusClient): Promise<Outcome> {
  console.log("\n── Pattern 2: broadcast — three agents with different names each get every event ──");
  const names = ["audit-logger", "analytics", "notifier"];
  const seen = new Map<string, string[]>(names.map((name) => [name, []]));
  const agents = names.map((name) =>
    new Agent({ name, url, ...quiet }).onEvent("order.placed", { topic: "business-facts" }, (event) => {
      seen.get(name)?.push(orderId(event));
      console.log(`  ${name.padEnd(14)} got ${orderId(event)}`);
    }),
  );
  await Promise.all(agents.map((agent) => agent.start()));
  for (let i = 1; i <= 4; i += 1) {
    await publisher.publish({
      event_type: "order.placed",
      topic: "business-facts",
      data: { order_id: `order-${i}` },
    });
  }
  await until("every agent saw 4 orders", () => [...seen.values()].every((list) => list.length >= 4));
  await Promise.all(agents.map((agent) => agent.stop()));
  const counts = names.map((name) => `${name}=${seen.get(name)?.length ?? 0}`).join(", ");
  return {
    pattern: "broadcast",
    expectation: "each of 3 groups gets all 4 events",
    observed: counts,
    ok: [...seen.values()].every((list) => list.length === 4),
  };
}

async function loadBalancing(url: string, publisher: EventBusClient): Promise<Outcome> {
  console.log("\n── Pattern 3: load balancing — three instances of one worker share 12 tasks ──");
  const handledBy = new Map<string, string>();
  const workers = [1, 2, 3].map((n) =>
    new Worker({
      name: "heavy-task-worker",
      agentId: `heavy-task-worker-${n}`,
      url,
      prefetch: 1,
      ...quiet,
    }).onEvent("heavy.task.requested", async (event) => {
      handledBy.set(orderId(event), `#${n}`);
      console.log(`  instance #${n} handled ${orderId(event)}`);
      await new Promise((resolve) => setTimeout(resolve, 40)); // some work, so the others get a turn
    }),
  );
  await Promise.all(workers.map((worker) => worker.start()));
  for (let i = 1; i <= 12; i += 1) {
    await publisher.publish({
      event_type: "heavy.task.requested",
      topic: "action-requests",
      data: { task: `task-${i}` },
    });
  }
  await until("12 tasks handled", () => handledBy.size >= 12);
  await Promise.all(workers.map((worker) => worker.stop()));
  const perInstance = [1, 2, 3].map((n) => [...handledBy.values()].filter((who) => who === `#${n}`).length);
  return {
    pattern: "load balancing",
    expectation: "12 tasks, each handled once, spread over all 3 instances",
    observed: perInstance.map((count, i) => `#${i + 1}=${count}`).join(", "),
    ok: handledBy.size === 12 && perInstance.every((count) => count > 0),
  };
}

async function storeAndForward(url: string, publisher: EventBusClient): Promise<Outcome> {
  console.log("\n── Pattern 1: store-and-forward — a worker goes offline, events wait for it ──");
  const received: string[] = [];
  const makeWorker = () =>
    new Worker({ name: "task-processor", url, ...quiet }).onEvent("task.requested", (event) => {
      received.push(orderId(event));
      console.log(`  task-processor got ${orderId(event)} (published while it was offline)`);
    });
  const first = makeWorker();
  await first.start();
  await first.stop();
  console.log("  task-processor subscribed once and is now offline; publishing 5 tasks…");
  for (let i = 1; i <= 5; i += 1) {
    await publisher.publish({
      event_type: "task.requested",
      topic: "action-requests",
      data: { task: `offline-${i}` },
    });
  }
  console.log("  …5 tasks stored; starting task-processor again");
  const second = makeWorker();
  await second.start();
  await until("5 queued tasks delivered", () => received.length >= 5);
  await second.stop();
  return {
    pattern: "store-and-forward",
    expectation: "5 events published while offline arrive on return",
    observed: `${received.length} delivered after reconnect`,
    ok: received.length === 5,
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "soorma-demo-"));
  const app = await buildApp({ config: { broker: "sqlite", dataDir } });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  const url = address.replace(/^http/, "ws");
  console.log(`Soorma Event Service running on ${url} (embedded SQLite in ${dataDir})`);
  const publisher = new EventBusClient({ url, agentName: "demo-publisher", ...quiet });
  await publisher.connect();

  const outcomes: Outcome[] = [];
  try {
    outcomes.push(await storeAndForward(url, publisher));
    outcomes.push(await broadcast(url, publisher));
    outcomes.push(await loadBalancing(url, publisher));
  } finally {
    await publisher.close();
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log("\n══ Summary ══");
  for (const outcome of outcomes) {
    console.log(
      `${outcome.ok ? "PASS" : "FAIL"}  ${outcome.pattern.padEnd(18)} ${outcome.expectation.padEnd(58)} → ${outcome.observed}`,
    );
  }
  const allOk = outcomes.every((outcome) => outcome.ok);
  console.log(allOk ? "\nAll three patterns held." : "\nA pattern did not hold (see above).");
  process.exitCode = allOk ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error("demo failed:", error);
  process.exit(1);
});
