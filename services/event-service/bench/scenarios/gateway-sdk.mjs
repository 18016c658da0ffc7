import { EventBusClient } from "@soorma/sdk";
import { silentLogger, startBenchGateway } from "../lib/bench-gateway.mjs";
import { BENCH_DATA, BENCH_EVENT_TYPE, BENCH_TOPIC, uniqueName } from "../lib/workload.mjs";

/**
 * End to end over WebSockets: an SDK `EventBusClient` publishes (each publish awaits the gateway's `published`
 * confirmation), the gateway stores the event in the adapter `config` names, and a `Worker` with `prefetch`
 * handles it.
 *
 * @param {object} options
 * @param {string} options.id
 * @param {string} options.label
 * @param {number} options.prefetch
 * @param {() => Promise<{ config: Record<string, unknown>, cleanup?: () => Promise<void> }>} options.broker -
 *   prepares the broker side (temp data dir, nats-server URL) and says how to clean it up
 * @returns {import("./scenario.mjs").Scenario}
 */
export function gatewaySdkScenario({ id, label, prefetch, broker }) {
  return {
    id,
    label,
    async open() {
      const { config, cleanup } = await broker();
      let gateway;
      let client;
      try {
        gateway = await startBenchGateway({ config, prefetch });
        client = new EventBusClient({
          url: gateway.wsUrl,
          agentName: uniqueName("bench-publisher"),
          logger: silentLogger,
        });
        await client.connect({ timeout: 10_000 });
      } catch (error) {
        await client?.close({ timeout: 1_000 }).catch(() => undefined);
        await gateway?.close().catch(() => undefined);
        await cleanup?.();
        throw error;
      }
      const connected = client;
      const started = gateway;
      return {
        completions: started.completions,
        publish: async (eventId) => {
          await connected.publish({
            id: eventId,
            event_type: BENCH_EVENT_TYPE,
            topic: BENCH_TOPIC,
            data: BENCH_DATA,
          });
        },
        async close() {
          try {
            await connected.close({ timeout: 5_000 });
            await started.close();
          } finally {
            await cleanup?.();
          }
        },
      };
    },
  };
}
