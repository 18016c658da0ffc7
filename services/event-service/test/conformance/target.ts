import type { AdapterCapabilities, AdapterKind } from "../../src/broker/adapter.js";

/** Releases what a hook started (a broker process, a temp directory …). Must be safe to call once. */
export type Cleanup = () => Promise<void>;

/**
 * How to launch gateway processes of one deployment: everything that points a gateway at its broker and its
 * storage. Two gateway processes started with the same launch share the broker state (that is how the restart
 * and multi-replica sections work); two launches are independent deployments.
 */
export interface GatewayLaunch {
  /**
   * Environment of the gateway process, e.g. `{ SOORMA_BROKER: "sqlite", SOORMA_DATA_DIR: dir }` or
   * `{ SOORMA_BROKER: "nats", SOORMA_NATS_URL: url }`. The suite adds its own timings (`SOORMA_LEASE_MS`,
   * `SOORMA_MAX_ATTEMPTS`, …) over it; `METADATA_SERVER_DETECTION=none` is always set.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Extra CLI flags after `--port N`, e.g. `["--broker", "sqlite"]`. @default [] */
  readonly args?: readonly string[];
}

/**
 * One broker adapter under test. A target file (`<adapter>.test.ts`) builds one and calls
 * `brokerAdapterSuite(name, target)`.
 *
 * Hook order: `setup()` once before the suite, then `gatewayEnv()` for each independent deployment the suite
 * needs (one shared by most sections, fresh ones for the fault sections), each deployment's cleanup after the
 * section that made it, and `setup()`'s cleanup last.
 *
 * @example
 * brokerAdapterSuite("sqlite", {
 *   kind: "sqlite",
 *   capabilities: { durable: true, multiReplica: false, survivesBrokerRestart: false },
 *   async gatewayEnv() {
 *     const dir = await mkdtemp(join(tmpdir(), "soorma-sqlite-"));
 *     return [{ env: { SOORMA_BROKER: "sqlite", SOORMA_DATA_DIR: dir } }, () => rm(dir, { recursive: true, force: true })];
 *   },
 * });
 */
export interface ConformanceTarget {
  /**
   * The adapter the gateways must run; section 0 checks `GET /ready` reports it, so a mistyped env variable
   * cannot silently test the default adapter instead.
   */
  readonly kind: AdapterKind;
  /**
   * What the adapter promises; must equal what the adapter itself reports (`adapter.capabilities`). Sections
   * whose promise the adapter does not make are skipped, see the README of this folder.
   */
  readonly capabilities: AdapterCapabilities;
  /**
   * When set, the whole suite is skipped and this reason is printed loudly, e.g. "nats-server not found on
   * PATH". Decide it synchronously at collection time (the file is being loaded); a target that must not be
   * skipped (CI's `SOORMA_REQUIRE_BROKERS`) should throw instead of setting this.
   */
  readonly unavailable?: string;
  /**
   * Start what the adapter needs outside the gateway (a `nats-server`, the Pub/Sub emulator) once for the
   * whole suite. Resolve with the cleanup that stops it. Optional: embedded adapters need nothing.
   */
  setup?(): Promise<Cleanup>;
  /**
   * Describe a fresh, independent deployment: a new data dir for SQLite, a new stream / project prefix for
   * NATS or Pub/Sub if wanted (random topic and group names already isolate tests). Resolve with the launch
   * and the cleanup that removes what it created. Called after `setup()`.
   */
  gatewayEnv(): Promise<[GatewayLaunch, Cleanup]>;
  /**
   * Restart the broker itself (not the gateway), keeping its stored state; resolve once it accepts
   * connections again. Required when `capabilities.survivesBrokerRestart` is true (section 15 fails without
   * it), unused otherwise.
   */
  restartBroker?(): Promise<void>;
  /**
   * Multiplies every deadline of the suite, for brokers that are slow to start or to deliver (e.g. an
   * emulator). Never shortens one. @default 1
   */
  readonly timeScale?: number;
}
