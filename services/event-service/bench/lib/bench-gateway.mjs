import { SoormaError } from "@soorma/common";
import { createConsoleLogger, Worker } from "@soorma/sdk";
import { buildApp } from "../../dist/index.js";
import { Completions } from "./completions.mjs";
import { BENCH_EVENT_TYPE, uniqueName } from "./workload.mjs";

/** SDK logger that prints nothing: log lines would cost time inside the measurement. */
export const silentLogger = createConsoleLogger("silent");

/**
 * @typedef {object} BenchGateway
 * @property {string} wsUrl - `ws://127.0.0.1:<port>` for the SDK
 * @property {string} httpUrl - `http://127.0.0.1:<port>`
 * @property {Completions} completions - the consuming Worker reports each handled event here
 * @property {() => Promise<void>} close - stop the Worker, then close the gateway (and its adapter)
 */

/**
 * Start a gateway with `buildApp` on a free loopback port and a Worker consuming the benchmark topic with
 * `prefetch`, in this process. The Worker's handler does nothing but report the event, so the numbers are the
 * messaging path's own cost.
 *
 * @param {object} options
 * @param {Record<string, unknown>} options.config - gateway config merged over the defaults (broker, dataDir, nats …)
 * @param {number} options.prefetch - the Worker's prefetch
 * @returns {Promise<BenchGateway>}
 */
export async function startBenchGateway({ config, prefetch }) {
  // A short idle pull keeps closing quick; under load pulls return as soon as events arrive.
  const app = await buildApp({ config: { logLevel: "silent", ...config }, pullWaitMs: 100 });
  let worker;
  try {
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    if (address === null || typeof address === "string")
      throw new SoormaError("SOORMA_ERR_INTERNAL", "the gateway has no TCP address");
    const completions = new Completions();
    worker = new Worker({
      name: uniqueName("bench-worker"),
      url: `ws://127.0.0.1:${address.port}`,
      prefetch,
      logger: silentLogger,
    });
    worker.onEvent(BENCH_EVENT_TYPE, (event) => {
      completions.complete(event.id);
    });
    await worker.start({ timeout: 10_000 });
    const started = worker;
    return {
      wsUrl: `ws://127.0.0.1:${address.port}`,
      httpUrl: `http://127.0.0.1:${address.port}`,
      completions,
      async close() {
        try {
          await started.stop({ timeout: 5_000 });
        } finally {
          await app.close();
        }
      },
    };
  } catch (error) {
    await worker?.stop({ force: true }).catch(() => undefined);
    await app.close().catch(() => undefined);
    throw error;
  }
}
