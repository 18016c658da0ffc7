import type { LimitError } from "@soorma/common";
import { rateLimited } from "./limit-errors.js";

/** Options of {@link createTokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second: the sustained rate. */
  ratePerSecond: number;
  /** Most tokens held at once: the largest burst. The bucket starts full. */
  burst: number;
  /** Monotonic clock in ms; wall-clock jumps must not hand out or withhold tokens. @default performance.now */
  now?: () => number;
}

/** A token bucket: `burst` tokens, refilled continuously at `ratePerSecond`. */
export interface TokenBucket {
  /** Take `count` tokens if available (then true); otherwise take none and return false. */
  tryTake(count?: number): boolean;
  /** Milliseconds until `count` tokens will be available; 0 when they are now. */
  msUntilAvailable(count?: number): number;
}

/** Build a {@link TokenBucket}. Throws `RangeError` for a rate or burst that is not positive. */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerSecond, burst } = options;
  if (!(ratePerSecond > 0) || !(burst > 0)) throw new RangeError("ratePerSecond and burst must be positive");
  const now = options.now ?? (() => performance.now());
  let tokens = burst;
  let last = now();
  const refill = () => {
    const at = now();
    // Fractional tokens are kept so that low rates (e.g. 0.5/s) still refill.
    tokens = Math.min(burst, tokens + (Math.max(0, at - last) * ratePerSecond) / 1000);
    last = at;
  };
  return {
    tryTake(count = 1) {
      refill();
      if (tokens < count) return false;
      tokens -= count;
      return true;
    },
    msUntilAvailable(count = 1) {
      refill();
      return tokens >= count ? 0 : ((count - tokens) * 1000) / ratePerSecond;
    },
  };
}

/** Options of {@link createFrameRateLimiter}; the fields match the `limits` config. */
export interface FrameRateLimiterOptions {
  /** Sustained frames per second. @default 200 (config `maxFramesPerSecond`) */
  maxFramesPerSecond: number;
  /** Burst size. @default 400 (config `frameBurst`) */
  frameBurst: number;
  /** Rejections in a row that close the connection. @default 100 (config `rateLimitedFramesBeforeClose`) */
  rateLimitedFramesBeforeClose: number;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/** What to do with one incoming frame. */
export type FrameAdmission =
  | { readonly ok: true }
  /**
   * Drop the frame and answer with `error` (`SOORMA_ERR_RATE_LIMITED`, echoing the frame's `req_id`). When
   * `close` is true, send it as fatal and close the connection: the client is ignoring the limit.
   */
  | { readonly ok: false; readonly error: LimitError; readonly close: boolean };

/** Decides, frame by frame, whether one connection is within its frame rate. */
export interface FrameRateLimiter {
  /** Call once per received frame, before decoding it (decoding costs CPU too). */
  admit(): FrameAdmission;
}

/** A per-connection frame rate limiter: a token bucket plus a count of rejections in a row. */
export function createFrameRateLimiter(options: FrameRateLimiterOptions): FrameRateLimiter {
  const bucket = createTokenBucket({
    ratePerSecond: options.maxFramesPerSecond,
    burst: options.frameBurst,
    now: options.now,
  });
  let rejectedInARow = 0;
  return {
    admit() {
      if (bucket.tryTake()) {
        rejectedInARow = 0;
        return { ok: true };
      }
      rejectedInARow += 1;
      return {
        ok: false,
        error: rateLimited(bucket.msUntilAvailable()),
        close: rejectedInARow >= options.rateLimitedFramesBeforeClose,
      };
    },
  };
}
