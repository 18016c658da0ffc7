/** Options of {@link PublishDedupe}. */
export interface PublishDedupeOptions {
  /** How long a stored id is remembered. */
  readonly windowMs: number;
  /** Most ids remembered at once; the oldest are forgotten first when more arrive. */
  readonly maxEntries: number;
}

interface Entry {
  /** Settles when the first publish of this id finished (resolves true when it stored the event). */
  readonly stored: Promise<boolean>;
  /** When the id may be forgotten; `Infinity` while its publish is in flight. */
  expiresAt: number;
}

/**
 * Publish idempotency for a broker that has none (Pub/Sub stores every publish it acknowledges): remembers the
 * ids this process stored within a time window, bounded in size. A publish of an id that is in flight waits
 * for the first one and is a duplicate when that one stored the event; if it failed, the second publish runs.
 *
 * The memory is per process: replicas do not share it and a restart forgets it, so a retry that lands on
 * another replica (or after a restart) is stored twice. Consumers get at-least-once delivery either way.
 */
export class PublishDedupe {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  // Settled entries are re-inserted on settle, so the front of the map holds the earliest expiry.
  readonly #entries = new Map<string, Entry>();

  constructor(options: PublishDedupeOptions) {
    this.#windowMs = options.windowMs;
    this.#maxEntries = Math.max(1, options.maxEntries);
  }

  /** How many ids are remembered right now (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Run `store` unless `id` was stored within the window. Resolves `true` when the event was a duplicate (and
   * `store` did not run), `false` when `store` stored it; rejects with `store`'s error.
   */
  async publishOnce(id: string, store: () => Promise<void>): Promise<boolean> {
    const now = Date.now();
    this.#prune(now);
    // A failed first publish removes its entry; of several waiters, the first to get here publishes again and
    // the others wait for that one.
    for (let existing = this.#entries.get(id); existing !== undefined; existing = this.#entries.get(id)) {
      if (await existing.stored) return true;
    }

    let settle!: (stored: boolean) => void;
    const entry: Entry = { stored: new Promise((resolve) => (settle = resolve)), expiresAt: Infinity };
    this.#entries.set(id, entry);
    this.#evictOverflow();
    try {
      await store();
    } catch (error) {
      if (this.#entries.get(id) === entry) this.#entries.delete(id);
      settle(false);
      throw error;
    }
    if (this.#entries.get(id) === entry) {
      this.#entries.delete(id);
      entry.expiresAt = Date.now() + this.#windowMs;
      this.#entries.set(id, entry);
    }
    settle(true);
    return false;
  }

  /** Forget every id. */
  clear(): void {
    this.#entries.clear();
  }

  #prune(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt === Infinity) continue;
      if (entry.expiresAt > now) return;
      this.#entries.delete(id);
    }
  }

  #evictOverflow(): void {
    for (const id of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) return;
      this.#entries.delete(id);
    }
  }
}
