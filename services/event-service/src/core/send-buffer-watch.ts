import { createSlowConsumerGuard, type SlowConsumerGuard } from "../limits/slow-consumer.js";

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
  /** The connection stayed slow past the grace time: close it. Called once. */
  readonly onEvict: () => void;
}

/**
 * Watches one socket's send buffer so that a client that stops reading cannot make the gateway queue frames
 * for it in memory: over the limit it is paused, under it again it resumes, and when it stays over the limit
 * for the grace time it is evicted. Call {@link check} after every frame sent; while paused the watch polls by
 * itself, because a draining buffer raises no event.
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
    const state = this.guard.check(this.options.bufferedBytes());
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
