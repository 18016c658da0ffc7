import { BrokerUnavailableError } from "@soorma/common";
import { createMemoryAdapter } from "../../dist/broker/memory.js";
import { Completions } from "../lib/completions.mjs";
import { BENCH_DATA, BENCH_EVENT_TYPE, BENCH_TOPIC } from "../lib/workload.mjs";

/**
 * The baseline: the memory adapter alone, in process. Lanes call `adapter.publish` with ready-made envelopes,
 * one consumer loop pulls up to `window` leased messages at a time, reports them handled and acks them. No
 * sockets, no validation, no dispatch core: every other scenario is read as a fraction of this one.
 *
 * @param {{ window: number }} options
 * @returns {import("./scenario.mjs").Scenario}
 */
export function baselineMemoryScenario({ window }) {
  return {
    id: "baseline-memory-adapter",
    label: "baseline: memory adapter publish+pull+ack",
    async open() {
      const adapter = createMemoryAdapter();
      await adapter.connect();
      const key = { tenant: "default", group: "bench-baseline", topic: BENCH_TOPIC };
      const consumer = await adapter.openInbox(key, { leaseMs: 30_000, maxInFlight: window });
      const completions = new Completions();
      const stop = new AbortController();
      const consuming = consume(consumer, window, completions, stop.signal);
      return {
        completions,
        publish: async (id) => {
          await adapter.publish(envelope(id));
        },
        async close() {
          stop.abort();
          await consuming;
          await consumer.close();
          await adapter.close();
        },
      };
    },
  };
}

/**
 * Pull, report, ack until `signal` aborts. A failing pull fails every waiting lane at once.
 * @param {import("../../dist/index.js").InboxConsumer} consumer
 * @param {number} max
 * @param {Completions} completions
 * @param {AbortSignal} signal
 */
async function consume(consumer, max, completions, signal) {
  try {
    while (!signal.aborted) {
      const messages = await consumer.pull(max, { waitMs: 250, signal });
      for (const message of messages) completions.complete(message.envelope.id);
      await Promise.all(messages.map((message) => message.ack()));
    }
  } catch (error) {
    completions.failAll(new BrokerUnavailableError("the baseline consumer loop failed", { cause: error }));
  }
}

/**
 * A complete envelope as the gateway core would hand it to an adapter (platform tenant set), built by hand so
 * the baseline spends nothing on validation.
 * @param {string} id
 * @returns {import("@soorma/common").EventEnvelope}
 */
function envelope(id) {
  return {
    id,
    source: "bench-baseline",
    specversion: "1.0",
    type: BENCH_EVENT_TYPE,
    time: new Date().toISOString(),
    data: BENCH_DATA,
    correlation_id: id,
    topic: BENCH_TOPIC,
    platform_tenant_id: "default",
  };
}
