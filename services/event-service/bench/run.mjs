/**
 * `pnpm bench`: throughput and latency of the messaging paths, each reported as a ratio against a baseline
 * (the memory adapter alone, in process) measured in the same run. Loopback only, bounded in time, exits by
 * itself: 0 when every scenario ran, 1 when one failed or the deadline passed. See docs/benchmarks.md.
 */
import { setMaxListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { memoryBroker, natsBroker, natsServerBinary, sqliteBroker } from "./lib/brokers.mjs";
import { measureRun, summarize } from "./lib/measure.mjs";
import { describeMachine, formatTable, writeResults } from "./lib/report.mjs";
import { loadBenchSettings } from "./lib/settings.mjs";
import { baselineMemoryScenario } from "./scenarios/baseline-memory.mjs";
import { gatewayHttpScenario } from "./scenarios/gateway-http.mjs";
import { gatewaySdkScenario } from "./scenarios/gateway-sdk.mjs";

const RESULTS_PATH = fileURLToPath(new URL("./results/latest.json", import.meta.url));

/**
 * Every scenario in the order it runs; the first is the baseline. A scenario whose broker is not installed is a
 * skipped entry instead.
 * @param {import("./lib/settings.mjs").BenchSettings} settings
 * @returns {Array<import("./scenarios/scenario.mjs").Scenario | import("./lib/report.mjs").SkippedResult>}
 */
function scenarios(settings) {
  const { window, prefetch } = settings;
  const natsBinary = natsServerBinary();
  const nats =
    natsBinary === undefined
      ? {
          id: "gateway-ws-nats",
          label: "SDK WS publish → gateway (nats) → Worker",
          name: "nats",
          skipped: "nats-server not found",
        }
      : gatewaySdkScenario({
          id: "gateway-ws-nats",
          label: "SDK WS publish → gateway (nats) → Worker",
          prefetch,
          broker: natsBroker(natsBinary),
        });
  return [
    baselineMemoryScenario({ window }),
    gatewaySdkScenario({
      id: "gateway-ws-memory",
      label: "SDK WS publish → gateway (memory) → Worker",
      prefetch,
      broker: memoryBroker,
    }),
    gatewaySdkScenario({
      id: "gateway-ws-sqlite",
      label: "SDK WS publish → gateway (sqlite) → Worker",
      prefetch,
      broker: sqliteBroker,
    }),
    nats,
    gatewayHttpScenario({ prefetch }),
  ];
}

async function main() {
  const settings = loadBenchSettings();
  // A hung scenario must not hang CI: past the deadline the bench fails on its own. unref() so a finished
  // bench does not wait for it.
  setTimeout(() => {
    console.error(`bench: deadline of ${settings.deadlineMs} ms passed, giving up`);
    process.exit(1);
  }, settings.deadlineMs).unref();
  // process.exit runs the test-utils exit hook, which stops a nats-server this bench started.
  for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));
  // The SDK adds two abort listeners per running handler to its connection's signal; with prefetch 64 that is
  // far above Node's leak-warning default of 10, though every listener is removed when its handler ends.
  setMaxListeners(4 * settings.prefetch);

  const machine = describeMachine();
  console.log(
    `soorma bench: ${machine.cpus} cores (${machine.cpuModel}), node ${machine.node}, load average ${machine.loadAverage1m}; ` +
      `${settings.runs} rounds × ${settings.runMs} ms per scenario (medians reported), ` +
      `${settings.window} events in flight, Worker prefetch ${settings.prefetch}`,
  );

  const all = scenarios(settings);
  const skipped = all.filter((scenario) => "skipped" in scenario);
  const measured = all.filter((scenario) => !("skipped" in scenario));
  for (const scenario of skipped) console.log(`${scenario.name}: skipped (${scenario.skipped})`);

  // Rounds interleave the scenarios, so the baseline is measured next to every scenario in every round rather
  // than once at the start while the machine may have been quieter or busier.
  /** @type {Map<string, import("./lib/measure.mjs").RunSummary[]>} */
  const runsById = new Map(measured.map((scenario) => [scenario.id, []]));
  for (let round = 1; round <= settings.runs; round++) {
    console.log(`round ${round}/${settings.runs}`);
    for (const scenario of measured) {
      const run = await measureRun(scenario, settings);
      runsById.get(scenario.id).push(run);
      console.log(
        `  ${scenario.label}: ${run.events} events, ${Math.round(run.eventsPerSecond)} events/s, ` +
          `p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms`,
      );
    }
  }

  const baseline = measured[0];
  const baselineRuns = runsById.get(baseline.id);
  const rows = all.map((scenario) =>
    "skipped" in scenario ? scenario : summarize(scenario, runsById.get(scenario.id), baselineRuns),
  );
  console.log(`\n${formatTable(rows)}`);

  await writeResults(RESULTS_PATH, {
    generatedAt: new Date().toISOString(),
    machine: { ...machine, loadAverage1mAtEnd: describeMachine().loadAverage1m },
    settings,
    baseline: baseline.id,
    scenarios: rows,
  });
  console.log(`\nresults written to ${RESULTS_PATH}`);
}

main().then(
  () => {
    // Everything was closed; if a stray handle still holds the event loop, do not let it hang the bench.
    setTimeout(() => {
      console.error("bench: handles still open after the results were written; exiting");
      process.exit(0);
    }, 5_000).unref();
  },
  (error) => {
    console.error("bench failed:", error);
    process.exit(1);
  },
);
