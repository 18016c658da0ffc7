/**
 * The workload every scenario runs: `window` lanes, each publishing one event, waiting for its confirmation
 * and for a consumer to handle it, then publishing the next, until `durationMs` have passed. So at most
 * `window` events are in flight end to end, the backlog stays bounded, and the latencies measure the system
 * rather than a queue that grows with the run's length.
 */

/**
 * @typedef {object} ClosedLoopOptions
 * @property {number} durationMs - lanes start no new event after this long
 * @property {number} window - events in flight at once (lanes)
 * @property {number} eventTimeoutMs - a lane fails when its event is not handled within this
 * @property {string} idPrefix - event ids are `<idPrefix>-<n>`, unique within the process
 * @property {import("./completions.mjs").Completions} completions - where consumers report handled ids
 * @property {(id: string) => Promise<void>} publish - publish one event and resolve once it is confirmed
 */

/**
 * @typedef {object} RunResult
 * @property {number} events - events published, confirmed and handled
 * @property {number} elapsedMs - from the first publish to the last handled event
 * @property {number} eventsPerSecond
 * @property {number[]} latenciesMs - publish call to handler call, one per event
 */

/**
 * Run the closed loop once.
 * @param {ClosedLoopOptions} options
 * @returns {Promise<RunResult>}
 */
export async function runClosedLoop(options) {
  const { durationMs, window, eventTimeoutMs, idPrefix, completions, publish } = options;
  /** @type {number[]} */
  const latenciesMs = [];
  let sequence = 0;
  const startedAt = performance.now();
  const stopAt = startedAt + durationMs;

  async function lane() {
    while (performance.now() < stopAt) {
      const id = `${idPrefix}-${sequence++}`;
      const sentAt = performance.now();
      const handled = completions.wait(id, eventTimeoutMs);
      // It may reject while the publish is still pending; it is awaited (and its error thrown) below.
      handled.catch(() => undefined);
      try {
        await publish(id);
      } catch (error) {
        completions.forget(id);
        throw error;
      }
      latenciesMs.push((await handled) - sentAt);
    }
  }

  await Promise.all(Array.from({ length: window }, lane));
  const elapsedMs = performance.now() - startedAt;
  return {
    events: latenciesMs.length,
    elapsedMs,
    eventsPerSecond: (latenciesMs.length * 1000) / elapsedMs,
    latenciesMs,
  };
}
