import { runClosedLoop } from "./closed-loop.mjs";
import { median, percentile } from "./stats.mjs";
import { uniqueName } from "./workload.mjs";

/**
 * @typedef {object} MeasureSettings
 * @property {number} runMs - length of the measured run
 * @property {number} warmupMs - unmeasured run first (JIT, connection pools, SQLite pages, JetStream consumers)
 * @property {number} window - events in flight end to end
 * @property {number} eventTimeoutMs - a run fails when one event is not handled within this
 */

/**
 * @typedef {object} RunSummary
 * @property {number} events - published, confirmed and handled in the measured run
 * @property {number} elapsedMs
 * @property {number} eventsPerSecond
 * @property {number} p50Ms - publish call to handler call
 * @property {number} p99Ms
 * @property {number} unexpectedDeliveries - handled events nobody waited for (redeliveries); 0 on a healthy run
 */

/**
 * Open the scenario on fresh state (new adapter, gateway, data directory, broker), run the closed loop
 * unmeasured for `warmupMs`, measure one run of `runMs`, and close everything again.
 *
 * @param {import("../scenarios/scenario.mjs").Scenario} scenario
 * @param {MeasureSettings} settings
 * @returns {Promise<RunSummary>}
 */
export async function measureRun(scenario, settings) {
  const session = await scenario.open();
  let result;
  try {
    const loop = (durationMs) =>
      runClosedLoop({
        durationMs,
        window: settings.window,
        eventTimeoutMs: settings.eventTimeoutMs,
        idPrefix: uniqueName(scenario.id),
        completions: session.completions,
        publish: session.publish,
      });
    if (settings.warmupMs > 0) await loop(settings.warmupMs);
    result = await loop(settings.runMs);
  } finally {
    await session.close();
  }
  return {
    events: result.events,
    elapsedMs: result.elapsedMs,
    eventsPerSecond: result.eventsPerSecond,
    p50Ms: percentile(result.latenciesMs, 50),
    p99Ms: percentile(result.latenciesMs, 99),
    unexpectedDeliveries: session.completions.unexpected,
  };
}

/**
 * @typedef {object} ScenarioResult
 * @property {string} id
 * @property {string} label
 * @property {number} events - handled in all measured runs together
 * @property {number} eventsPerSecond - median of the runs
 * @property {number} ratio - median over rounds of (this scenario's events/s ÷ the baseline's in the same round)
 * @property {number} p50Ms - median of the runs' p50
 * @property {number} p99Ms - median of the runs' p99
 * @property {number} unexpectedDeliveries - summed over the runs
 * @property {RunSummary[]} runs - one per round, in order
 */

/**
 * Fold a scenario's runs into its row. The ratio is taken per round and then the median, so a machine that
 * gets busier or quieter during the bench shifts both sides of each ratio alike.
 *
 * @param {{ id: string, label: string }} scenario
 * @param {RunSummary[]} runs - one per round
 * @param {RunSummary[]} baselineRuns - the baseline's runs of the same rounds
 * @returns {ScenarioResult}
 */
export function summarize(scenario, runs, baselineRuns) {
  return {
    id: scenario.id,
    label: scenario.label,
    events: runs.reduce((sum, run) => sum + run.events, 0),
    eventsPerSecond: median(runs.map((run) => run.eventsPerSecond)),
    ratio: median(
      runs.map((run, round) => run.eventsPerSecond / (baselineRuns[round]?.eventsPerSecond ?? Number.NaN)),
    ),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    unexpectedDeliveries: runs.reduce((sum, run) => sum + run.unexpectedDeliveries, 0),
    runs,
  };
}
