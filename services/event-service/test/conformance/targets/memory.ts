import type { ConformanceTarget } from "../target.js";

/**
 * The in-process memory adapter: same semantics as the others while the gateway process lives, nothing
 * survives it, and one process only.
 */
export function memoryTarget(): ConformanceTarget {
  return {
    kind: "memory",
    capabilities: { durable: false, multiReplica: false, survivesBrokerRestart: false, durableDedupe: false },
    async gatewayEnv() {
      return [{ env: { SOORMA_BROKER: "memory" } }, async () => undefined];
    },
  };
}
