import type { protos, v1 } from "@google-cloud/pubsub";
import type { EventEnvelope } from "@soorma/common";
import { BrokerUnavailableError } from "@soorma/common";
import type { BrokerMessage, InboxConsumer, InboxKey, OpenInboxOptions, PullOptions } from "../adapter.js";
import { LocalAttemptCounter } from "./attempts.js";
import { decodeEvent } from "./codec.js";
import { isDeadlineExceeded, isNotFound, toBrokerError } from "./errors.js";
import type { PubSubHealth } from "./health.js";
import { deadlineSeconds, LeaseTracker } from "./lease-tracker.js";
import type { PubSubResources, SubscriptionInfo } from "./resources.js";

type ReceivedMessage = protos.google.pubsub.v1.IReceivedMessage;

/** Most messages one unary pull may ask for. */
export const MAX_PULL_MESSAGES = 1000;

/**
 * A waiting pull is given this much more time than the caller wants to wait. The server answers an empty
 * waiting pull shortly before the request's deadline (the emulator about a second before it), so the extra
 * time lets it answer "nothing" instead of the call failing with DEADLINE_EXCEEDED.
 */
export const PULL_DEADLINE_GRACE_MS = 1000;

/**
 * An empty answer faster than this is followed by a short pause, so a server that does not hold pulls open
 * cannot turn the wait into a busy loop.
 */
const EMPTY_PULL_PAUSE_MS = 100;

/**
 * A message pulled for a caller that stopped waiting is kept for the next pull while this much of its lease is
 * left; older ones are left to expire and be redelivered.
 */
const STASH_SAFETY_MS = 2000;

/** What a consumer needs from its adapter. */
export interface PubSubConsumerContext {
  readonly subscriber: v1.SubscriberClient;
  readonly resources: PubSubResources;
  readonly health: PubSubHealth;
  /** Deadline of ack, nack and lease calls, in milliseconds. */
  readonly requestTimeoutMs: number;
  /**
   * Move a message that can never become an event out of the inbox (to the tenant's undeliverable topic),
   * resolving once it is acknowledged. A rejection leaves it in the inbox.
   */
  readonly setAside: (
    key: InboxKey,
    subscription: string,
    message: ReceivedMessage,
    reason: string,
  ) => Promise<void>;
  /** Called once when the consumer closes. */
  readonly onClose: (consumer: PubSubInboxConsumer) => void;
}

interface Stashed {
  readonly message: ReceivedMessage;
  readonly pulledAt: number;
}

/**
 * One gateway's handle on one inbox (a Pub/Sub subscription), pulling with unary `Pull` calls.
 *
 * Unary pulls, not streaming pull: every call asks for exactly as many messages as the core has member credits
 * for, so Pub/Sub never pushes more than the members can take (the backlog stays in Pub/Sub), and several
 * consumers (in one gateway or across replicas) split one subscription's messages between them, on the
 * emulator as on Pub/Sub itself.
 *
 * Leases: a pulled message stays leased for `leaseMs` (its ack deadline is set accordingly right after the
 * pull when the subscription's default differs); `touch` extends it, `nack(delay)` sets the deadline to the
 * delay (0 = redeliver now), `ack` removes it. Attempts come from Pub/Sub's `deliveryAttempt`, which Pub/Sub
 * only counts on subscriptions with a dead-letter policy (the adapter gives each one).
 */
export class PubSubInboxConsumer implements InboxConsumer {
  readonly key: InboxKey;
  readonly #context: PubSubConsumerContext;
  readonly #leaseMs: number;
  readonly #leaseSeconds: number;
  readonly #maxInFlight: number;
  readonly #closing = new AbortController();
  readonly #leases = new LeaseTracker();
  readonly #attempts = new LocalAttemptCounter();
  #subscription: SubscriptionInfo;
  #stash: Stashed[] = [];
  #closed: Promise<void> | undefined;

  constructor(
    key: InboxKey,
    subscription: SubscriptionInfo,
    options: OpenInboxOptions,
    context: PubSubConsumerContext,
  ) {
    this.key = key;
    this.#subscription = subscription;
    this.#context = context;
    this.#leaseMs = options.leaseMs;
    this.#leaseSeconds = deadlineSeconds(options.leaseMs, 1);
    this.#maxInFlight = Math.max(1, options.maxInFlight);
  }

  /** Un-settled messages this consumer holds whose lease has not run out. */
  get inFlight(): number {
    return this.#leases.inFlight();
  }

  async pull(max: number, options: PullOptions): Promise<BrokerMessage[]> {
    if (this.#closing.signal.aborted) throw new BrokerUnavailableError("Pub/Sub inbox consumer is closed");
    if (max <= 0) return [];
    const deadline = Date.now() + Math.max(0, options.waitMs);
    const stop = new AbortController();
    const abort = (): void => stop.abort();
    if (options.signal?.aborted) return [];
    options.signal?.addEventListener("abort", abort, { once: true });
    this.#closing.signal.addEventListener("abort", abort, { once: true });
    try {
      for (;;) {
        if (stop.signal.aborted) return [];
        const room = Math.min(max, this.#maxInFlight - this.inFlight, MAX_PULL_MESSAGES);
        if (room <= 0) {
          if (!(await this.#leases.waitForRoom(deadline, stop.signal))) return [];
          continue;
        }
        // Stashed messages were pulled a while ago with the subscription's deadline: always re-lease them.
        const stashed = this.#takeStash(room);
        const received = stashed.length > 0 ? stashed : await this.#pullOnce(room, deadline, stop.signal);
        if (received === undefined) return [];
        const messages = await this.#accept(received, stashed.length > 0);
        if (messages.length > 0) return messages;
        if (Date.now() >= deadline) return [];
      }
    } finally {
      options.signal?.removeEventListener("abort", abort);
      this.#closing.signal.removeEventListener("abort", abort);
    }
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      this.#context.onClose(this);
      this.#leases.wakeAll();
      const stashed = this.#stash.splice(0);
      await this.#release(stashed.map((entry) => entry.message));
    })();
    return this.#closed;
  }

  /**
   * One waiting pull. Resolves with what Pub/Sub returned ([] when nothing came in time), or `undefined` when
   * `signal` aborted first; messages that arrive after that are kept for the next pull (or released once the
   * consumer is closed), so an abort never costs them a delivery attempt.
   */
  async #pullOnce(
    room: number,
    deadline: number,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[] | undefined> {
    const waitMs = Math.max(0, deadline - Date.now());
    const startedAt = Date.now();
    const call = this.#context.subscriber.pull(
      {
        subscription: this.#subscription.path,
        maxMessages: room,
        ...(waitMs === 0 ? { returnImmediately: true } : {}),
      },
      // No client-side retries: a broker that cannot be reached must surface at once, the core backs off.
      { timeout: waitMs + PULL_DEADLINE_GRACE_MS, retry: null },
    );
    const aborted = new Promise<"aborted">((resolve) => {
      if (signal.aborted) resolve("aborted");
      else signal.addEventListener("abort", () => resolve("aborted"), { once: true });
    });
    const outcome = await Promise.race([
      call.then(
        ([response]) => ({ ok: true as const, messages: response.receivedMessages ?? [] }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      aborted,
    ]);
    if (outcome === "aborted") {
      void call
        .then(([response]) => this.#keepForLater(response.receivedMessages ?? [], startedAt))
        .catch(() => {});
      return undefined;
    }
    if (!outcome.ok) return this.#onPullError(outcome.error);
    this.#context.health.reached();
    if (outcome.messages.length === 0 && Date.now() - startedAt < EMPTY_PULL_PAUSE_MS) {
      await pause(Math.min(EMPTY_PULL_PAUSE_MS, Math.max(0, deadline - Date.now())), signal);
    }
    return outcome.messages;
  }

  async #onPullError(error: unknown): Promise<ReceivedMessage[]> {
    if (isDeadlineExceeded(error)) {
      this.#context.health.reached();
      return [];
    }
    if (isNotFound(error)) {
      // The subscription is gone (an emulator restart, or an operator deleted it): the inbox is re-created,
      // keeping what arrives from now on. What the old subscription held is lost with it.
      this.#context.health.reached();
      this.#context.resources.forget();
      this.#subscription = await this.#context.resources.ensureSubscription(this.key);
      return [];
    }
    this.#context.health.failed(error);
    throw toBrokerError(error, `pulling from ${this.#subscription.path}`);
  }

  /** Decode, lease and wrap pulled messages; messages that are not events are set aside. */
  async #accept(received: ReceivedMessage[], renewLease: boolean): Promise<BrokerMessage[]> {
    const usable: Array<{ message: ReceivedMessage; envelope: EventEnvelope }> = [];
    for (const message of received) {
      const decoded = decodeEvent(this.key, {
        data: message.message?.data,
        attributes: message.message?.attributes,
        messageId: message.message?.messageId,
        publishTime: message.message?.publishTime,
      });
      if (decoded.ok) usable.push({ message, envelope: decoded.envelope });
      else await this.#setAside(message, decoded.reason);
    }
    if (usable.length === 0) return [];
    const ackIds = usable.map((entry) => entry.message.ackId ?? "");
    if (renewLease || this.#leaseSeconds !== this.#subscription.ackDeadlineSeconds) {
      // Best effort: if this fails the subscription's own deadline applies, and an early redelivery is still
      // within at-least-once.
      await this.#modifyDeadline(ackIds, this.#leaseSeconds).catch(() => {});
    }
    const leaseUntil = Date.now() + this.#leaseMs;
    return usable.map(({ message, envelope }) => this.#wrap(message, envelope, leaseUntil));
  }

  /**
   * A pulled message as the core sees it. The first successful `ack`/`nack` settles it; later calls resolve
   * without effect, so a late second settle cannot touch a redelivery that went to someone else. A failed
   * settle leaves it unsettled (it may be retried; otherwise its lease runs out and Pub/Sub redelivers it).
   */
  #wrap(message: ReceivedMessage, envelope: EventEnvelope, leaseUntil: number): BrokerMessage {
    const ackId = message.ackId ?? "";
    const lease = this.#leases.track(leaseUntil);
    let settled = false;
    const settle = (): void => {
      settled = true;
      this.#leases.settle(lease);
    };
    return {
      envelope,
      attempt: this.#attempts.attemptOf(message.message?.messageId ?? "", message.deliveryAttempt),
      ack: async () => {
        if (settled) return;
        await this.#call("ack", () =>
          this.#context.subscriber.acknowledge(
            { subscription: this.#subscription.path, ackIds: [ackId] },
            { timeout: this.#context.requestTimeoutMs },
          ),
        );
        settle();
      },
      nack: async (delayMs: number) => {
        if (settled) return;
        await this.#call("nack", () => this.#modifyDeadline([ackId], deadlineSeconds(delayMs, 0)));
        settle();
      },
      touch: async () => {
        if (settled) return;
        await this.#call("lease extension", () => this.#modifyDeadline([ackId], this.#leaseSeconds));
        lease.leaseUntil = Date.now() + this.#leaseMs;
      },
    };
  }

  async #setAside(message: ReceivedMessage, reason: string): Promise<void> {
    try {
      await this.#context.setAside(this.key, this.#subscription.path, message, reason);
    } catch {
      // Left in the inbox: redelivered after its deadline, and Pub/Sub's own delivery limit moves it to the
      // undeliverable topic in the end.
    }
  }

  #keepForLater(messages: ReceivedMessage[], pulledAt: number): void {
    if (messages.length === 0) return;
    if (this.#closing.signal.aborted) {
      void this.#release(messages);
      return;
    }
    for (const message of messages) this.#stash.push({ message, pulledAt });
  }

  #takeStash(room: number): ReceivedMessage[] {
    const usableAfter = Date.now() - this.#subscription.ackDeadlineSeconds * 1000 + STASH_SAFETY_MS;
    this.#stash = this.#stash.filter((entry) => entry.pulledAt > usableAfter);
    return this.#stash.splice(0, room).map((entry) => entry.message);
  }

  /** Hand messages back for immediate redelivery (best effort: otherwise their deadline runs out). */
  async #release(messages: ReceivedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#modifyDeadline(
      messages.map((message) => message.ackId ?? ""),
      0,
    ).catch(() => {});
  }

  #modifyDeadline(ackIds: string[], seconds: number): Promise<unknown> {
    return this.#context.subscriber.modifyAckDeadline(
      { subscription: this.#subscription.path, ackIds, ackDeadlineSeconds: seconds },
      { timeout: this.#context.requestTimeoutMs },
    );
  }

  async #call(what: string, operation: () => Promise<unknown>): Promise<void> {
    try {
      await operation();
      this.#context.health.reached();
    } catch (error) {
      this.#context.health.failed(error);
      throw toBrokerError(error, `${what} on ${this.#subscription.path}`);
    }
  }
}

/** Resolve after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
