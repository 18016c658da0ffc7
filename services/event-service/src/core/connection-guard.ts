import { ProtocolError } from "@soorma/common";
import { credentialsExpiredError, watchExpiry } from "../auth/expiry.js";
import type { Principal } from "../auth/principal.js";
import type { LimitsConfig } from "../limits/config.js";
import type { ConnectionCounter, ConnectionSlot } from "../limits/connection-counter.js";
import {
  createFrameRateLimiter,
  type FrameAdmission,
  type FrameRateLimiter,
} from "../limits/rate-limiter.js";
import { slowConsumerError } from "../limits/slow-consumer.js";
import { SendBufferWatch } from "./send-buffer-watch.js";

/** Why reading from a socket is paused. */
export type ReadPauseReason = "authenticating" | "slow-consumer";

/** The parts of the socket a {@link ConnectionGuard} watches and throttles. */
export interface GuardedSocket {
  /** Bytes queued for the peer that the kernel has not taken yet. */
  readonly bufferedBytes: number;
  /** Stop reading frames from the peer. @default no-op */
  pause?(): void;
  /** Read frames again. @default no-op */
  resume?(): void;
}

/** Options of {@link ConnectionGuard}. */
export interface ConnectionGuardOptions {
  readonly limits: LimitsConfig;
  readonly connections: ConnectionCounter;
  readonly socket: GuardedSocket;
  /**
   * End the connection with this fatal error: no `hello` in time, credentials expired, tenant at its
   * connection limit, reader too slow past the grace time. Called at most once per cause.
   */
  readonly onFatal: (error: unknown) => void;
  /** The peer's send buffer went over (`true`) or back under (`false`) the limit. */
  readonly onSlowConsumer: (slow: boolean) => void;
}

/**
 * The resource limits of one connection, apart from the protocol: its frame rate, the hello timeout, its
 * tenant's connection slot, the expiry of its credentials and its send buffer. The session asks it before
 * handling a frame and tells it after sending one; it reports fatal conditions back through `onFatal`.
 */
export class ConnectionGuard {
  private readonly options: ConnectionGuardOptions;
  private readonly rateLimiter: FrameRateLimiter;
  private readonly sendWatch: SendBufferWatch;
  private readonly readPauses = new Set<ReadPauseReason>();
  private helloTimer: NodeJS.Timeout | undefined;
  private slot: ConnectionSlot | undefined;
  private stopExpiryWatch: (() => void) | undefined;

  constructor(options: ConnectionGuardOptions) {
    this.options = options;
    const { limits } = options;
    this.rateLimiter = createFrameRateLimiter(limits);
    this.sendWatch = new SendBufferWatch({
      bufferedBytes: () => options.socket.bufferedBytes,
      maxBufferedBytes: limits.maxBufferedBytesPerConnection,
      graceMs: limits.slowConsumerGraceMs,
      // A client that does not read gets no deliveries, and its frames are not read either: their replies
      // would pile up in the same buffer.
      onPause: () => {
        this.pauseReading("slow-consumer");
        options.onSlowConsumer(true);
      },
      onResume: () => {
        this.resumeReading("slow-consumer");
        options.onSlowConsumer(false);
      },
      onEvict: () => options.onFatal(slowConsumerError(limits.maxBufferedBytesPerConnection)),
    });
  }

  /** True while the peer's send buffer is over the limit. */
  get isSlow(): boolean {
    return this.sendWatch.isPaused;
  }

  /** Start the hello timeout. */
  startHelloTimer(): void {
    const timeoutMs = this.options.limits.helloTimeoutMs;
    this.helloTimer = setTimeout(() => {
      this.options.onFatal(
        new ProtocolError("SOORMA_ERR_HELLO_REQUIRED", `no hello within ${timeoutMs} ms; closing`, {
          details: { limit: "helloTimeoutMs", max: timeoutMs },
        }),
      );
    }, timeoutMs);
    this.helloTimer.unref();
  }

  /** The connection said a valid `hello`: its timeout no longer applies. */
  helloAccepted(): void {
    clearTimeout(this.helloTimer);
  }

  /** Decide about one received frame, before it is decoded (see `createFrameRateLimiter`). */
  admit(): FrameAdmission {
    return this.rateLimiter.admit();
  }

  /**
   * The connection now acts as `principal`: take a connection slot of its tenant (once) and watch its
   * credentials' expiry. Returns false, after reporting the error through `onFatal`, when the tenant is at its
   * connection limit.
   */
  claim(principal: Principal): boolean {
    if (this.slot === undefined) {
      try {
        this.slot = this.options.connections.acquire(principal.tenant);
      } catch (error) {
        this.options.onFatal(error);
        return false;
      }
    }
    this.stopExpiryWatch?.();
    this.stopExpiryWatch = watchExpiry(principal, () => this.options.onFatal(credentialsExpiredError()));
    return true;
  }

  /** A frame was handed to the socket: look at its send buffer. */
  afterSend(): void {
    this.sendWatch.check();
  }

  /** Stop reading the peer's frames for `reason`; reading resumes when no reason is left. */
  pauseReading(reason: ReadPauseReason): void {
    if (this.readPauses.size === 0) this.options.socket.pause?.();
    this.readPauses.add(reason);
  }

  /** Drop `reason` for pausing; resumes reading when it was the last one. */
  resumeReading(reason: ReadPauseReason): void {
    if (!this.readPauses.delete(reason) || this.readPauses.size > 0) return;
    this.options.socket.resume?.();
  }

  /**
   * The connection ends: stop every timer and give the slot back. A paused socket is resumed, since it would
   * never read the peer's answer to the close frame otherwise. Idempotent.
   */
  release(): void {
    clearTimeout(this.helloTimer);
    this.stopExpiryWatch?.();
    this.sendWatch.stop();
    this.slot?.release();
    if (this.readPauses.size > 0) {
      this.readPauses.clear();
      this.options.socket.resume?.();
    }
  }
}
