/**
 * Delivery counts for messages Pub/Sub does not count: Pub/Sub fills in `deliveryAttempt` only on subscriptions
 * with a dead-letter policy (every subscription this adapter creates or adopts has one, unless an operator's
 * IAM setup forbade adding it). For the others this counts the deliveries one consumer saw, by message id:
 * per process and approximate (deliveries to other replicas are not seen), bounded in size.
 */
export class LocalAttemptCounter {
  readonly #counts = new Map<string, number>();
  readonly #maxEntries: number;

  /** @param maxEntries - most message ids remembered; the least recently seen are forgotten first */
  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /** The attempt of a delivery: Pub/Sub's count when it gives one (> 0), else this consumer's own count. */
  attemptOf(messageId: string, brokerAttempt: number | null | undefined): number {
    if (brokerAttempt !== null && brokerAttempt !== undefined && brokerAttempt > 0) return brokerAttempt;
    const count = (this.#counts.get(messageId) ?? 0) + 1;
    // Re-inserted so the map's order is "least recently seen first".
    this.#counts.delete(messageId);
    this.#counts.set(messageId, count);
    if (this.#counts.size > this.#maxEntries) {
      const oldest = this.#counts.keys().next().value;
      if (oldest !== undefined) this.#counts.delete(oldest);
    }
    return count;
  }
}
