import type { LimitError } from "@soorma/common";
import { limitExceeded } from "./limit-errors.js";

/** Options of {@link createSlowConsumerGuard}; the fields match the `limits` config. */
export interface SlowConsumerGuardOptions {
  /** Unread bytes above which the member gets no new deliveries. @default 8388608 */
  maxBufferedBytesPerConnection: number;
  /** Time above the threshold before the connection is closed. @default 30000 */
  slowConsumerGraceMs: number;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/**
 * - `ok`: deliver as usual.
 * - `paused`: give this member no new deliveries (treat its credits as zero); the backlog stays in the broker.
 * - `evict`: close the connection with {@link slowConsumerError}; its un-acked deliveries go to other members.
 */
export type SlowConsumerState = "ok" | "paused" | "evict";

/** Watches one socket's send buffer. */
export interface SlowConsumerGuard {
  /** Classify the socket given its current `bufferedAmount` (bytes queued, not yet taken by the kernel). */
  check(bufferedBytes: number): SlowConsumerState;
}

/**
 * Build a guard. A member that stops reading its socket makes the gateway queue frames in memory; prefetch
 * bounds deliveries, but replies and errors still pile up. The guard pauses such a member and, if it does not
 * recover within the grace time, tells the gateway to close it.
 */
export function createSlowConsumerGuard(options: SlowConsumerGuardOptions): SlowConsumerGuard {
  const now = options.now ?? (() => performance.now());
  let overSince: number | undefined;
  return {
    check(bufferedBytes) {
      if (bufferedBytes <= options.maxBufferedBytesPerConnection) {
        overSince = undefined;
        return "ok";
      }
      const at = now();
      overSince ??= at;
      return at - overSince >= options.slowConsumerGraceMs ? "evict" : "paused";
    },
  };
}

/** The fatal error sent before closing a slow consumer. */
export function slowConsumerError(maxBufferedBytes: number): LimitError {
  return limitExceeded(
    "maxBufferedBytesPerConnection",
    maxBufferedBytes,
    "the connection reads too slowly; its deliveries go to other members",
  );
}
