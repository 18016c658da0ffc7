import { type EventEnvelope, LimitError } from "@soorma/common";

/** A publish not yet confirmed by the gateway. */
export interface PendingPublish {
  /** Request id of the publish frame; kept across re-sends so the answer finds its caller on any connection. */
  readonly reqId: string;
  /** The complete envelope; its `id` is the idempotency key that makes re-sends safe. */
  readonly event: EventEnvelope;
  /** Sequence number of the connection it was last sent on; undefined while it waits to be sent. */
  sentOn: number | undefined;
}

/**
 * Publishes awaiting confirmation, in the order they were made. Everything unconfirmed is kept (whether sent or
 * not) because a connection can drop after a send but before the answer: after reconnecting the client re-sends
 * the lot in order, and the envelope id lets the broker drop the copies it already stored.
 */
export class PublishBuffer {
  readonly #entries = new Map<string, PendingPublish>();
  readonly #limit: number;

  /** @param limit most unconfirmed publishes held at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Number of unconfirmed publishes. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Keep `event` until it is confirmed.
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
    const entry: PendingPublish = { reqId, event, sentOn: undefined };
    this.#entries.set(reqId, entry);
    return entry;
  }

  /** The entry of `reqId`, if still unconfirmed. */
  get(reqId: string): PendingPublish | undefined {
    return this.#entries.get(reqId);
  }

  /** Forget `reqId` (confirmed, failed or given up); false when it was not held. */
  remove(reqId: string): boolean {
    return this.#entries.delete(reqId);
  }

  /** Entries not yet sent on connection `connectionSeq`, oldest first: what a fresh connection must (re-)send. */
  unsentOn(connectionSeq: number): PendingPublish[] {
    return [...this.#entries.values()].filter((entry) => entry.sentOn !== connectionSeq);
  }

  /** Every entry, oldest first. */
  all(): PendingPublish[] {
    return [...this.#entries.values()];
  }

  /** Drop everything (the client closed). */
  clear(): void {
    this.#entries.clear();
  }
}
