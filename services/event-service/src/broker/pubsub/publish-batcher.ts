import type { v1 } from "@google-cloud/pubsub";
import type { EncodedEvent } from "./codec.js";

/** Most messages sent in one publish request (Pub/Sub allows 1000). */
export const MAX_BATCH_MESSAGES = 100;

/** Most bytes sent in one publish request (Pub/Sub allows 10 MB; attributes and framing need room). */
export const MAX_BATCH_BYTES = 9_000_000;

interface Pending {
  readonly message: EncodedEvent;
  readonly resolve: (messageId: string) => void;
  readonly reject: (error: unknown) => void;
}

interface Batch {
  readonly items: Pending[];
  bytes: number;
}

/**
 * Sends publishes to Pub/Sub in batches: publishes of one topic that arrive within the same turn of the event
 * loop share one request (up to {@link MAX_BATCH_MESSAGES} messages / {@link MAX_BATCH_BYTES}). Pub/Sub bills
 * at least 1000 bytes per request, so small events published together cost less; no publish waits longer
 * than one event-loop turn for company.
 *
 * Each `publish` resolves with the server's message id once Pub/Sub acknowledged the request (the message is
 * stored), and rejects with the request's error otherwise (every message of a failed request failed).
 */
export class PublishBatcher {
  readonly #publisher: v1.PublisherClient;
  readonly #timeoutMs: number;
  readonly #open = new Map<string, Batch>();
  readonly #inFlight = new Set<Promise<void>>();

  /**
   * @param publisher - client the requests go through
   * @param timeoutMs - deadline of one publish request, retries included
   */
  constructor(publisher: v1.PublisherClient, timeoutMs: number) {
    this.#publisher = publisher;
    this.#timeoutMs = timeoutMs;
  }

  /** Publish `message` on topic `topicPath`; resolves with the Pub/Sub message id. */
  publish(topicPath: string, message: EncodedEvent): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const size = message.data.length;
      let batch = this.#open.get(topicPath);
      if (batch !== undefined && batch.bytes + size > MAX_BATCH_BYTES) {
        this.#send(topicPath, batch);
        batch = undefined;
      }
      if (batch === undefined) {
        const fresh: Batch = { items: [], bytes: 0 };
        batch = fresh;
        this.#open.set(topicPath, fresh);
        setImmediate(() => {
          if (this.#open.get(topicPath) === fresh) this.#send(topicPath, fresh);
        });
      }
      batch.items.push({ message, resolve, reject });
      batch.bytes += size;
      if (batch.items.length >= MAX_BATCH_MESSAGES) this.#send(topicPath, batch);
    });
  }

  /** Resolves once every request sent so far has been answered (used by close). */
  async flush(): Promise<void> {
    for (const [topicPath, batch] of this.#open) this.#send(topicPath, batch);
    await Promise.allSettled([...this.#inFlight]);
  }

  #send(topicPath: string, batch: Batch): void {
    if (this.#open.get(topicPath) === batch) this.#open.delete(topicPath);
    if (batch.items.length === 0) return;
    const request = this.#publisher
      .publish(
        { topic: topicPath, messages: batch.items.map((item) => item.message) },
        { timeout: this.#timeoutMs },
      )
      .then(
        ([response]) => {
          const ids = response.messageIds ?? [];
          batch.items.forEach((item, index) => {
            const id = ids[index];
            if (id === undefined)
              item.reject(new Error(`Pub/Sub returned no message id for message ${index}`));
            else item.resolve(id);
          });
        },
        (error: unknown) => {
          for (const item of batch.items) item.reject(error);
        },
      );
    this.#inFlight.add(request);
    void request.finally(() => this.#inFlight.delete(request));
  }
}
