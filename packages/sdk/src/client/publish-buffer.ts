import { type EventEnvelope, LimitError } from "@soorma/common";

/** A publish not yet confirmed by the gateway. */
export interface PendingPublish {
  /** Request id of the publish frame; kept across re-sends so the answer finds its caller on any connection. */
  readonly reqId: string;
  /** The complete envelope; its `id` is the idempotency key that makes re-sends safe. */
  readonly event: EventEnvelope;
  /** Position in the order publish() was called; the send queue is kept in this order. */
  readonly seq: number;
  /** True while it waits to be sent (again); false once sent on the current connection. */
  waiting: boolean;
}

/**
 * Publishes awaiting confirmation, in the order they were made. Everything unconfirmed is kept, whether sent or
 * not, because a connection can drop after a send but before the answer: after reconnecting the client sends the
 * lot again in order, and the envelope id lets the broker drop the copies it already stored.
 *
 * Besides holding them, the buffer is the send queue: {@link next} hands out the oldest publish still waiting.
 * A publish the gateway refused for now goes back with {@link requeue} to its place by age, which is at or near
 * the front, so retries keep the order the caller made the publishes in.
 */
export class PublishBuffer {
  readonly #entries = new Map<string, PendingPublish>();
  readonly #limit: number;
  /**
   * Waiting entries sorted by `seq`, from `#head` on. Entries removed while waiting stay here until they reach
   * the head (checked against `#entries`), so removing one costs nothing and the queue never needs a search.
   */
  #queue: Array<PendingPublish | undefined> = [];
  #head = 0;
  #waitingCount = 0;
  #nextSeq = 0;

  /** @param limit most unconfirmed publishes held at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Number of unconfirmed publishes, sent or waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /** Number of unconfirmed publishes waiting to be sent. */
  get waitingCount(): number {
    return this.#waitingCount;
  }

  /**
   * Keep `event` until it is confirmed; it joins the end of the send queue.
   * @throws LimitError (`SOORMA_ERR_LIMIT_EXCEEDED`) when the buffer is full: the caller must slow down rather than
   * let memory grow without bound while the gateway is away.
   */
  add(reqId: string, event: EventEnvelope): PendingPublish {
    if (this.#entries.size >= this.#limit) {
      throw new LimitError(
        "SOORMA_ERR_LIMIT_EXCEEDED",
        `${this.#limit} publishes already await confirmation (maxBufferedPublishes)`,
        { details: { max_buffered_publishes: this.#limit } },
      );
    }
    const entry: PendingPublish = { reqId, event, seq: this.#nextSeq++, waiting: true };
    this.#entries.set(reqId, entry);
    this.#queue.push(entry);
    this.#waitingCount += 1;
    return entry;
  }

  /** The entry of `reqId`, if still unconfirmed. */
  get(reqId: string): PendingPublish | undefined {
    return this.#entries.get(reqId);
  }

  /** Forget `reqId` (confirmed, failed or given up); false when it was not held. */
  remove(reqId: string): boolean {
    const entry = this.#entries.get(reqId);
    if (entry === undefined) return false;
    this.#entries.delete(reqId);
    if (entry.waiting) this.#waitingCount -= 1;
    return true;
  }

  /** Take the oldest waiting publish off the queue (it counts as sent from now on); undefined when none waits. */
  next(): PendingPublish | undefined {
    while (this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head];
      // Cleared so a consumed entry is not kept alive by the queue until the next compaction.
      this.#queue[this.#head] = undefined;
      this.#head += 1;
      if (entry === undefined || !entry.waiting || this.#entries.get(entry.reqId) !== entry) continue;
      entry.waiting = false;
      this.#waitingCount -= 1;
      this.#compactIfWorthIt();
      return entry;
    }
    this.#queue = [];
    this.#head = 0;
    return undefined;
  }

  /**
   * Put a sent publish back in the queue, at its place by age: the gateway refused it for now (too many pending,
   * rate limited, draining) and it must go out again before anything younger. Ignored for a publish no longer
   * held or already waiting.
   */
  requeue(reqId: string): void {
    const entry = this.#entries.get(reqId);
    if (entry === undefined || entry.waiting) return;
    entry.waiting = true;
    this.#waitingCount += 1;
    // Refused publishes are older than everything never sent, so the search ends near the head.
    let index = this.#head;
    while (index < this.#queue.length && (this.#queue[index]?.seq ?? -1) < entry.seq) index += 1;
    if (index === this.#head && this.#head > 0) {
      this.#head -= 1;
      this.#queue[this.#head] = entry;
      return;
    }
    this.#queue.splice(index, 0, entry);
  }

  /** Every unconfirmed publish waits again, oldest first: a new connection must (re-)send them all. */
  requeueAll(): void {
    const entries = [...this.#entries.values()];
    for (const entry of entries) entry.waiting = true;
    this.#queue = entries;
    this.#head = 0;
    this.#waitingCount = entries.length;
  }

  /** Drop everything (the client closed). */
  clear(): void {
    this.#entries.clear();
    this.#queue = [];
    this.#head = 0;
    this.#waitingCount = 0;
  }

  /** Drop the consumed front of the queue once it is the larger part, so memory follows the live entries. */
  #compactIfWorthIt(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#queue.length) return;
    this.#queue = this.#queue.slice(this.#head);
    this.#head = 0;
  }
}
