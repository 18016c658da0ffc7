import { createSlowConsumerGuard, type SlowConsumerGuard } from "../limits/slow-consumer.js";

/**
 * Above this multiple of the send-buffer limit a connection is evicted at once, without waiting for the grace
 * time: while a member is paused only replies to its own requests are still queued, and a client that keeps
 * writing without ever reading must not grow gateway memory for the whole grace time.
 */
export const HARD_LIMIT_FACTOR = 4;

/** How often a paused connection's buffer is looked at again (it shrinks without any event telling us). */
const MAX_POLL_MS = 100;
const MIN_POLL_MS = 10;

/** Options of {@link SendBufferWatch}. */
export interface SendBufferWatchOptions {
  /** Bytes queued for the peer and not yet taken by the kernel (`ws`'s `bufferedAmount`). */
  readonly bufferedBytes: () => number;
  /** Unread bytes above which new deliveries stop (config `maxBufferedBytesPerConnection`). */
  readonly maxBufferedBytes: number;
  /** Time above the limit before eviction (config `slowConsumerGraceMs`). */
  readonly graceMs: number;
  /** Stop handing the connection new deliveries. */
  readonly onPause: () => void;
  /** The buffer drained below the limit: deliveries may flow again. */
  readonly onResume: () => void;
  /** The connection stayed slow past the grace time (or passed the hard limit): close it. Called once. */
  readonly onEvict: () => void;
}

/**
 * Watches one socket's send buffer so that a client that stops reading cannot make the gateway queue its
 * deliveries in memory: over the limit the member is paused (the backlog stays in the broker), under it again
 * it resumes, and after the grace time, or past {@link HARD_LIMIT_FACTOR} times the limit, it is evicted.
 * Call {@link check} after every frame sent; while paused the watch polls by itself.
 */
export class SendBufferWatch {
  private readonly options: SendBufferWatchOptions;
  private readonly guard: SlowConsumerGuard;
  private readonly pollMs: number;
  private poll: NodeJS.Timeout | undefined;
  private paused = false;
  private stopped = false;

  constructor(options: SendBufferWatchOptions) {
    this.options = options;
    this.guard = createSlowConsumerGuard({
      maxBufferedBytesPerConnection: options.maxBufferedBytes,
      slowConsumerGraceMs: options.graceMs,
    });
    this.pollMs = Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, Math.floor(options.graceMs / 10)));
  }

  /** True while the member is paused. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Classify the buffer now and act on it. */
  check(): void {
    if (this.stopped) return;
    const buffered = this.options.bufferedBytes();
    const state =
      buffered > this.options.maxBufferedBytes * HARD_LIMIT_FACTOR ? "evict" : this.guard.check(buffered);
    if (state === "evict") {
      this.stop();
      this.options.onEvict();
      return;
    }
    if (state === "paused" && !this.paused) {
      this.paused = true;
      this.poll = setInterval(() => this.check(), this.pollMs);
      this.poll.unref();
      this.options.onPause();
      return;
    }
    if (state === "ok" && this.paused) {
      this.paused = false;
      clearInterval(this.poll);
      this.poll = undefined;
      this.options.onResume();
    }
  }

  /** Stop watching (the connection closed). Idempotent. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    this.poll = undefined;
  }
}
