import { isErrorCode, RemoteError } from "@soorma/common";
import { startBenchGateway } from "../lib/bench-gateway.mjs";
import { BENCH_DATA, BENCH_EVENT_TYPE, BENCH_TOPIC } from "../lib/workload.mjs";

/**
 * HTTP publishing on the memory adapter: each lane sends `POST /v1/events/publish` with `fetch` (so at most
 * `window` requests are open at once) and the same consuming `Worker` as the WebSocket scenarios handles the
 * event. Compared with the WebSocket memory row it shows what a request per event costs.
 *
 * @param {{ prefetch: number }} options
 * @returns {import("./scenario.mjs").Scenario}
 */
export function gatewayHttpScenario({ prefetch }) {
  return {
    id: "gateway-http-memory",
    label: "HTTP POST publish → gateway (memory) → Worker",
    async open() {
      const gateway = await startBenchGateway({ config: { broker: "memory" }, prefetch });
      const publishUrl = `${gateway.httpUrl}/v1/events/publish`;
      return {
        completions: gateway.completions,
        publish: async (id) => {
          const response = await fetch(publishUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              event: {
                id,
                source: "bench-http",
                type: BENCH_EVENT_TYPE,
                topic: BENCH_TOPIC,
                data: BENCH_DATA,
              },
            }),
          });
          const body = await response.json();
          if (response.status !== 200 || body.success !== true) throw remoteErrorOf(response.status, body);
        },
        close: () => gateway.close(),
      };
    },
  };
}

/**
 * The error a failed publish answered, rebuilt with its code.
 * @param {number} status
 * @param {any} body
 */
function remoteErrorOf(status, body) {
  const code = isErrorCode(body?.error?.code) ? body.error.code : "SOORMA_ERR_INTERNAL";
  return new RemoteError(
    code,
    `POST /v1/events/publish answered ${status}: ${body?.error?.message ?? "no error body"}`,
  );
}
