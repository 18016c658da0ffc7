import { LimitError } from "@soorma/common";
import type { LimitsConfig } from "./config.js";

/** Name of a configured limit, sent to the client as `details.limit`. */
export type LimitName = keyof LimitsConfig;

/**
 * `SOORMA_ERR_RATE_LIMITED`: the frame was dropped, nothing was done. `details.retry_after_ms` says when the
 * next frame would be accepted.
 */
export function rateLimited(retryAfterMs: number): LimitError {
  return new LimitError("SOORMA_ERR_RATE_LIMITED", "too many frames; slow down", {
    details: { limit: "maxFramesPerSecond", retry_after_ms: Math.ceil(retryAfterMs) },
  });
}

/** `SOORMA_ERR_LIMIT_EXCEEDED` for `limit`, whose configured value is `max`. */
export function limitExceeded(limit: LimitName, max: number, message: string): LimitError {
  return new LimitError("SOORMA_ERR_LIMIT_EXCEEDED", message, { details: { limit, max } });
}

/**
 * Throw {@link limitExceeded} when one more item would pass `max` (`current` items are held now). For
 * per-connection counts such as subscriptions and publishes awaiting confirmation.
 */
export function assertBelowLimit(limit: LimitName, current: number, max: number): void {
  if (current >= max) throw limitExceeded(limit, max, `limit ${limit} (${max}) reached`);
}

/** The prefetch granted to a member that asked for `requested`: never above the configured maximum. */
export function grantedPrefetch(requested: number, maxPrefetch: number): number {
  return Math.min(requested, maxPrefetch);
}
