import { ConfigError } from "@soorma/common";

/** Reconnect timing of {@link EventBusClient}. */
export interface ReconnectOptions {
  /** Delay before the first retry. @default 100 */
  initialDelayMs?: number;
  /** Upper bound of any delay. @default 5000 */
  maxDelayMs?: number;
  /** Growth factor per failed attempt. @default 2 */
  multiplier?: number;
  /**
   * Fraction of the delay that is randomised, 0..1: the delay lands in `[d·(1−jitter), d]`. Spreads out the
   * reconnects of many clients after a gateway restart so they do not all arrive at once. @default 0.5
   */
  jitter?: number;
}

/** Default reconnect timing. */
export const DEFAULT_RECONNECT: Readonly<Required<ReconnectOptions>> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5000,
  multiplier: 2,
  jitter: 0.5,
});

/**
 * Delay before reconnect attempt `attempt` (1 = first retry): exponential growth from `initialDelayMs`, capped at
 * `maxDelayMs`, then reduced by a random share of up to `jitter`.
 *
 * @param random source of randomness in [0, 1); injectable for tests.
 */
export function backoffDelay(
  attempt: number,
  options: ReconnectOptions = {},
  random: () => number = Math.random,
): number {
  const { initialDelayMs, maxDelayMs, multiplier, jitter } = {
    ...DEFAULT_RECONNECT,
    ...definedOnly(options),
  };
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** exponent);
  const share = Math.min(1, Math.max(0, jitter));
  return Math.max(0, Math.round(base * (1 - share * random())));
}

/**
 * Validate reconnect options and fill defaults.
 * @throws ConfigError for negative delays, a multiplier below 1 or a jitter outside 0..1.
 */
export function resolveReconnectOptions(options: ReconnectOptions = {}): Required<ReconnectOptions> {
  const resolved = { ...DEFAULT_RECONNECT, ...definedOnly(options) };
  if (!(resolved.initialDelayMs >= 0) || !(resolved.maxDelayMs >= resolved.initialDelayMs)) {
    throw new ConfigError("reconnect delays must satisfy 0 <= initialDelayMs <= maxDelayMs");
  }
  if (!(resolved.multiplier >= 1)) throw new ConfigError("reconnect multiplier must be >= 1");
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1))
    throw new ConfigError("reconnect jitter must be in 0..1");
  return resolved;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
