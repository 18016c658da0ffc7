import { ConfigError } from "@soorma/common";
import { findNatsServerBinary } from "./nats-server.js";

/** Environment variable listing brokers whose tests must run (comma- or space-separated, e.g. `nats,pubsub`). */
export const REQUIRE_BROKERS_ENV = "SOORMA_REQUIRE_BROKERS";

/** Whether a broker's tests can run here. */
export interface BrokerAvailability {
  /** True when the broker can be started. */
  readonly available: boolean;
  /** Why it cannot (set when `available` is false). */
  readonly reason?: string;
}

/** Says why broker `name` cannot run here, or `undefined` when it can. */
export type BrokerProbe = () => string | undefined;

const BUILT_IN_PROBES: Readonly<Record<string, BrokerProbe>> = {
  nats: () =>
    findNatsServerBinary() === undefined
      ? 'nats-server is not installed (Debian package "nats-server"; or set NATS_SERVER_BIN)'
      : undefined,
};

/** The brokers `SOORMA_REQUIRE_BROKERS` names, lower-cased. */
export function requiredBrokers(env: NodeJS.ProcessEnv = process.env): Set<string> {
  return new Set(
    (env[REQUIRE_BROKERS_ENV] ?? "")
      .split(/[\s,]+/)
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ""),
  );
}

/** Options of {@link requireBroker}. */
export interface RequireBrokerOptions {
  /** Says why the broker cannot run. @default built in for `nats` (looks for the `nats-server` binary) */
  probe?: BrokerProbe;
  /** Where `SOORMA_REQUIRE_BROKERS` is read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Where the skip notice goes. @default stderr */
  report?: (notice: string) => void;
}

/**
 * Decide whether the tests of broker `name` run. When the broker is missing they are skipped with a loud
 * notice, unless `SOORMA_REQUIRE_BROKERS` names it: then this throws `ConfigError`, so the test file fails
 * instead of passing by skipping (CI requires `nats` always).
 *
 * @param probeOrOptions - a probe saying why the broker cannot run, or {@link RequireBrokerOptions}
 *
 * @example
 * const nats = requireBroker("nats");
 * const pubsub = requireBroker("pubsub", () => (findEmulator() ? undefined : "the emulator is not installed"));
 * describe.skipIf(!nats.available)("nats adapter", () => { … });
 */
export function requireBroker(
  name: string,
  probeOrOptions: BrokerProbe | RequireBrokerOptions = {},
): BrokerAvailability {
  const options = typeof probeOrOptions === "function" ? { probe: probeOrOptions } : probeOrOptions;
  const probe = options.probe ?? BUILT_IN_PROBES[name];
  if (probe === undefined) throw new ConfigError(`requireBroker: no probe for broker "${name}"; pass one`);
  const reason = probe();
  if (reason === undefined) return { available: true };
  if (requiredBrokers(options.env ?? process.env).has(name.toLowerCase())) {
    throw new ConfigError(`${REQUIRE_BROKERS_ENV} requires the "${name}" broker, but ${reason}`);
  }
  const banner = "!".repeat(78);
  const report = options.report ?? ((notice: string) => process.stderr.write(notice));
  report(
    `\n${banner}\nSKIPPING the "${name}" broker tests: ${reason}.\n` +
      `Set ${REQUIRE_BROKERS_ENV}=${name} to make this a failure.\n${banner}\n\n`,
  );
  return { available: false, reason };
}
