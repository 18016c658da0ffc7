import type { InboxKey } from "../adapter.js";
import { MinHeap } from "./min-heap.js";
import type { LeaseAttempt } from "./pull-wait.js";
import { WakeNotifier } from "./wake-notifier.js";

/** One stored copy of an event in one memory inbox. */
export interface MemoryMessage {
  readonly seq: number;
  /** The envelope as JSON, parsed afresh for every lease so no two deliveries share (or mutate) one object. */
  readonly body: string;
  /** Times leased so far; also the token of the current lease (each lease bumps it). */
  attempt: number;
  /** When it is (again) deliverable: publish time, lease expiry or end of a nack delay. */
  visibleAt: number;
  /** Bumped on every change, so queue entries made before the change are recognised as stale. */
  version: number;
  acked: boolean;
}

/** A queue entry: valid only while the message still has the version it was queued with. */
interface Entry {
  readonly message: MemoryMessage;
  readonly version: number;
  readonly visibleAt: number;
}

/** A message leased by {@link MemoryInbox.lease}, with the attempt that identifies the lease. */
export interface MemoryLease {
  readonly message: MemoryMessage;
  readonly attempt: number;
}

// Compact the ready queue's consumed prefix once it is this long and more than half of the array.
const READY_COMPACT_THRESHOLD = 1024;

/**
 * One memory inbox. Visible messages wait in `ready` (FIFO); leased and delayed ones in `waiting`, a heap keyed
 * by the time they become visible. A lease is identified by the message's `attempt`: ack, nack and touch carry
 * the attempt they were leased with and do nothing once the message was leased again.
 */
export class MemoryInbox {
  readonly key: InboxKey;
  readonly notifier = new WakeNotifier();
  readonly #messages = new Map<number, MemoryMessage>();
  #ready: Entry[] = [];
  #readyHead = 0;
  readonly #waiting = new MinHeap<Entry>(
    (a, b) => a.visibleAt < b.visibleAt || (a.visibleAt === b.visibleAt && a.message.seq < b.message.seq),
  );

  constructor(key: InboxKey) {
    this.key = key;
  }

  /** Messages stored and not acked (ready, delayed or leased). */
  get pending(): number {
    return this.#messages.size;
  }

  /** Store a copy of a just-published event, visible at once, and wake a parked pull. */
  deliver(seq: number, body: string, now: number): void {
    const message: MemoryMessage = { seq, body, attempt: 0, visibleAt: now, version: 0, acked: false };
    this.#messages.set(seq, message);
    this.#ready.push({ message, version: 0, visibleAt: now });
    this.notifier.notify();
  }

  /** Lease up to `max` visible messages for `leaseMs`, oldest first. */
  lease(max: number, leaseMs: number, now: number): LeaseAttempt<MemoryLease> {
    this.#promoteDue(now);
    const messages: MemoryLease[] = [];
    while (messages.length < max && this.#readyHead < this.#ready.length) {
      const entry = this.#ready[this.#readyHead] as Entry;
      this.#readyHead += 1;
      if (!isCurrent(entry)) continue;
      const message = entry.message;
      message.attempt += 1;
      this.#wait(message, now + leaseMs);
      messages.push({ message, attempt: message.attempt });
    }
    this.#compactReady();
    return { messages, nextVisibleAt: messages.length > 0 ? undefined : this.#nextVisibleAt() };
  }

  /** Remove a message for good, unless its lease `attempt` was superseded by a newer lease. */
  ack(lease: MemoryLease): void {
    const { message } = lease;
    if (message.acked || message.attempt !== lease.attempt) return;
    message.acked = true;
    message.version += 1;
    this.#messages.delete(message.seq);
  }

  /** Make a leased message visible again after `delayMs`, unless its lease was superseded. */
  nack(lease: MemoryLease, delayMs: number, now: number): void {
    const { message } = lease;
    if (message.acked || message.attempt !== lease.attempt) return;
    if (delayMs <= 0) {
      message.version += 1;
      message.visibleAt = now;
      this.#ready.push({ message, version: message.version, visibleAt: now });
    } else {
      this.#wait(message, now + delayMs);
    }
    // Parked pulls must re-check: either the message is visible now, or their timer may be later than its delay.
    this.notifier.notify();
  }

  /** Extend a lease to `now + leaseMs`, unless it was superseded. */
  touch(lease: MemoryLease, leaseMs: number, now: number): void {
    const { message } = lease;
    if (message.acked || message.attempt !== lease.attempt) return;
    this.#wait(message, now + leaseMs);
  }

  /** Drop every message (adapter close). */
  clear(): void {
    this.#messages.clear();
    this.#ready = [];
    this.#readyHead = 0;
    this.#waiting.clear();
  }

  /** Park a message until `visibleAt`; older queue entries of it become stale. */
  #wait(message: MemoryMessage, visibleAt: number): void {
    message.version += 1;
    message.visibleAt = visibleAt;
    this.#waiting.push({ message, version: message.version, visibleAt });
  }

  /** Move messages whose lease or delay ended by `now` to the ready queue, in the order they became visible. */
  #promoteDue(now: number): void {
    for (;;) {
      const top = this.#waiting.peek();
      if (top === undefined) return;
      if (isCurrent(top) && top.visibleAt > now) return;
      this.#waiting.pop();
      if (isCurrent(top)) this.#ready.push(top);
    }
  }

  /** When the earliest parked message becomes visible (stale heap entries are dropped on the way). */
  #nextVisibleAt(): number | undefined {
    for (;;) {
      const top = this.#waiting.peek();
      if (top === undefined) return undefined;
      if (isCurrent(top)) return top.visibleAt;
      this.#waiting.pop();
    }
  }

  #compactReady(): void {
    if (this.#readyHead === this.#ready.length) {
      this.#ready = [];
      this.#readyHead = 0;
    } else if (this.#readyHead >= READY_COMPACT_THRESHOLD && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
  }
}

function isCurrent(entry: Entry): boolean {
  return !entry.message.acked && entry.message.version === entry.version;
}
