/**
 * Why the gateway refused a publish for now (nothing was stored; sending it again later can succeed):
 * - `too-many-pending`: the connection already has as many publishes waiting for the broker as the gateway allows
 *   (`SOORMA_ERR_LIMIT_EXCEEDED`);
 * - `rate-limited`: the connection sent frames faster than the gateway's rate limit (`SOORMA_ERR_RATE_LIMITED`).
 */
export type PublishRefusalReason = "too-many-pending" | "rate-limited";

/** A publish refused for now, as {@link PublishWindow.refused} takes it. */
export interface PublishRefusal {
  reason: PublishRefusalReason;
  /** When the gateway said the next frame would be accepted (`details.retry_after_ms`), if it did. */
  retryAfterMs?: number | undefined;
}

/** First pause after a refusal that names no retry time; doubled per refusal in a row, up to the cap. */
export const REFUSAL_BACKOFF_BASE_MS = 25;
/** Longest pause after refusals in a row. */
export const REFUSAL_BACKOFF_MAX_MS = 1000;

/** What holds sending back after a refusal. */
type Hold = "none" | "until-confirmation-or-timer" | "until-timer";

/**
 * Flow control of the publishes of one connection: at most `limit` publish frames are sent and not yet answered.
 *
 * The limit starts at `maxInFlight`. The gateway's own limit is not announced in `welcome`, so the window learns
 * it: a `too-many-pending` refusal shrinks the limit to the publishes still unanswered (the gateway holds at most
 * that many), and every `limit` confirmations in a row it grows by one again, up to `maxInFlight`, in case the
 * refusal was brief. After a refusal sending pauses until a confirmation frees a slot at the gateway or the
 * backoff returned by {@link refused} has passed; a rate-limit refusal pauses until that time alone, since a
 * confirmation gives back no rate.
 *
 * The window only counts; the client owns the queue (PublishBuffer) and the timer.
 */
export class PublishWindow {
  readonly #maxInFlight: number;
  /** Request ids sent on the current connection and not answered yet, including ones the caller gave up on. */
  readonly #inFlight = new Set<string>();
  #limit: number;
  #confirmedSinceGrowth = 0;
  #hold: Hold = "none";
  /** Pauses in a row without a confirmation in between; drives the backoff. */
  #pausesInARow = 0;

  /** @param maxInFlight most publish frames sent and unanswered at once on one connection. */
  constructor(maxInFlight: number) {
    this.#maxInFlight = maxInFlight;
    this.#limit = maxInFlight;
  }

  /** Publish frames sent on the current connection and not answered yet. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The current limit: `maxInFlight`, or less after the gateway refused publishes. */
  get limit(): number {
    return this.#limit;
  }

  /** True while sending is paused after a refusal. */
  get paused(): boolean {
    return this.#hold !== "none";
  }

  /** True when one more publish frame may be sent now. */
  canSend(): boolean {
    return this.#hold === "none" && this.#inFlight.size < this.#limit;
  }

  /** True while `reqId` was sent on the current connection and not answered. */
  has(reqId: string): boolean {
    return this.#inFlight.has(reqId);
  }

  /** The publish frame of `reqId` was sent. */
  sent(reqId: string): void {
    this.#inFlight.add(reqId);
  }

  /**
   * The gateway stored `reqId` (`published`): its slot is free, a pause waiting for a confirmation ends, and the
   * limit grows back by one per `limit` confirmations. False when `reqId` was not in flight.
   */
  confirmed(reqId: string): boolean {
    if (!this.#inFlight.delete(reqId)) return false;
    this.#pausesInARow = 0;
    if (this.#hold === "until-confirmation-or-timer") this.#hold = "none";
    this.#confirmedSinceGrowth += 1;
    if (this.#confirmedSinceGrowth >= this.#limit && this.#limit < this.#maxInFlight) {
      this.#limit += 1;
      this.#confirmedSinceGrowth = 0;
    }
    return true;
  }

  /** The gateway answered `reqId` with an error that is final for it: only its slot is freed. */
  failed(reqId: string): boolean {
    return this.#inFlight.delete(reqId);
  }

  /**
   * The gateway refused `reqId` for now. Its slot is freed and sending pauses; returns how long, in ms, before
   * the caller should {@link resume} (a confirmation may end a `too-many-pending` pause sooner).
   */
  refused(reqId: string, refusal: PublishRefusal): number {
    this.#inFlight.delete(reqId);
    this.#confirmedSinceGrowth = 0;
    if (refusal.reason === "too-many-pending") {
      // Every publish the gateway still holds is among those unanswered, so it allows at most that many.
      this.#limit = Math.max(1, Math.min(this.#limit, this.#inFlight.size));
    }
    // Refusals of one burst arrive together; they are one pause, not a reason to back off further each time.
    if (this.#hold === "none") this.#pausesInARow += 1;
    this.#hold = refusal.reason === "rate-limited" ? "until-timer" : "until-confirmation-or-timer";
    if (refusal.retryAfterMs !== undefined && Number.isFinite(refusal.retryAfterMs)) {
      return Math.max(1, Math.ceil(refusal.retryAfterMs));
    }
    const exponent = Math.min(this.#pausesInARow - 1, 16);
    return Math.min(REFUSAL_BACKOFF_MAX_MS, REFUSAL_BACKOFF_BASE_MS * 2 ** exponent);
  }

  /** The pause after a refusal is over (its timer fired): sending may go on. */
  resume(): void {
    this.#hold = "none";
  }

  /** A new connection: nothing is in flight on it, and its gateway may allow more than the last one. */
  reset(): void {
    this.#inFlight.clear();
    this.#limit = this.#maxInFlight;
    this.#confirmedSinceGrowth = 0;
    this.#hold = "none";
    this.#pausesInARow = 0;
  }
}
