import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConformanceTarget } from "../target.js";

/**
 * The embedded SQLite adapter: durable on disk (a fresh data dir per deployment, removed afterwards), one
 * gateway process per data dir, no separate broker to restart.
 */
export function sqliteTarget(): ConformanceTarget {
  return {
    kind: "sqlite",
    capabilities: { durable: true, multiReplica: false, survivesBrokerRestart: false, durableDedupe: true },
    async gatewayEnv() {
      const dataDir = await mkdtemp(join(tmpdir(), "soorma-conformance-sqlite-"));
      return [
        { env: { SOORMA_BROKER: "sqlite", SOORMA_DATA_DIR: dataDir } },
        () => rm(dataDir, { recursive: true, force: true }),
      ];
    },
  };
}
