import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServerBinary, startNatsServer } from "@soorma/test-utils";

/**
 * Broker preparations for the gateway scenarios: each returns the gateway config that selects the adapter and
 * a cleanup that removes what it created.
 *
 * @typedef {() => Promise<{ config: Record<string, unknown>, cleanup?: () => Promise<void> }>} BrokerSetup
 */

/** @type {BrokerSetup} */
export async function memoryBroker() {
  return { config: { broker: "memory" } };
}

/**
 * The embedded SQLite adapter on a fresh temporary data directory (default `synchronous: "normal"`).
 * @type {BrokerSetup}
 */
export async function sqliteBroker() {
  const dataDir = await mkdtemp(join(tmpdir(), "soorma-bench-sqlite-"));
  return {
    config: { broker: "sqlite", dataDir },
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/**
 * Path of a `nats-server` binary, or `undefined` when none is installed (the NATS scenario is then skipped).
 * @returns {string | undefined}
 */
export function natsServerBinary() {
  return findNatsServerBinary();
}

/**
 * A private `nats-server -js` on free loopback ports with a temporary store, stopped (store removed) by the
 * cleanup. The gateway uses the adapter's defaults: file storage, interest retention.
 * @param {string} binary
 * @returns {BrokerSetup}
 */
export function natsBroker(binary) {
  return async () => {
    const server = await startNatsServer({ binary });
    return {
      config: { broker: "nats", nats: { url: server.url } },
      cleanup: () => server.stop(),
    };
  };
}
