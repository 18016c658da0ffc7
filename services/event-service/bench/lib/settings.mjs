import { ConfigError } from "@soorma/common";

/**
 * Benchmark settings. The defaults keep the whole bench near one minute on a 2-core machine; the environment
 * variables exist for a quick smoke run (`SOORMA_BENCH_RUN_MS=500 SOORMA_BENCH_RUNS=1 pnpm bench`) or a longer,
 * steadier one.
 *
 * @typedef {object} BenchSettings
 * @property {number} runs - rounds; each round measures every scenario once (`SOORMA_BENCH_RUNS`) @default 3
 * @property {number} runMs - length of one run in ms (`SOORMA_BENCH_RUN_MS`) @default 3000
 * @property {number} warmupMs - unmeasured run before each measured one (`SOORMA_BENCH_WARMUP_MS`) @default 500
 * @property {number} window - events in flight end to end; also the baseline's pull size @default 64
 * @property {number} prefetch - the consuming Worker's prefetch @default 64
 * @property {number} eventTimeoutMs - a run fails when one event is not handled within this @default 15000
 * @property {number} deadlineMs - the whole bench exits non-zero when it runs longer (`SOORMA_BENCH_DEADLINE_MS`)
 *   @default 180000
 */

/**
 * Read the settings from the environment.
 * @param {NodeJS.ProcessEnv} env
 * @returns {BenchSettings}
 * @throws ConfigError when a variable is not a positive integer in range
 */
export function loadBenchSettings(env = process.env) {
  return {
    runs: integerSetting(env, "SOORMA_BENCH_RUNS", 3, 1, 20),
    runMs: integerSetting(env, "SOORMA_BENCH_RUN_MS", 3_000, 100, 60_000),
    warmupMs: integerSetting(env, "SOORMA_BENCH_WARMUP_MS", 500, 0, 60_000),
    window: 64,
    prefetch: 64,
    eventTimeoutMs: 15_000,
    deadlineMs: integerSetting(env, "SOORMA_BENCH_DEADLINE_MS", 180_000, 10_000, 3_600_000),
  };
}

/**
 * @param {NodeJS.ProcessEnv} env
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 * @param {number} max
 */
function integerSetting(env, name, fallback, min, max) {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
