import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { BrokerUnavailableError } from "@soorma/common";
import type { BrokerMessage, InboxConsumer, InboxKey, PullOptions } from "../adapter.js";
import type { AckChannel } from "./acks.js";
import { decodeEnvelope } from "./decode.js";
import { parseDeliveryInfo } from "./delivery-info.js";
import { toBrokerError } from "./errors.js";
import { createJetStreamMessage } from "./jetstream-message.js";
import { PullRequest } from "./pull-request.js";

/** Dependencies and settings of one {@link JetStreamInboxConsumer}. */
export interface JetStreamInboxConsumerOptions {
  readonly key: InboxKey;
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly durable: string;
  readonly subjectPrefix: string;
  /** The consumer's ack wait: a message held longer than this has been handed to someone else by now. */
  readonly ackWaitMs: number;
  readonly acks: AckChannel;
  /** How long a cancel waits for messages still on the way. */
  readonly requestTimeoutMs: number;
  /** True while the connection is up. */
  readonly isConnected: () => boolean;
  /** The server says the consumer (or stream) is gone; the adapter recreates it. */
  readonly onConsumerMissing: (key: InboxKey) => void;
  /** A stored message could not be decoded and was terminated. */
  readonly onPoisonMessage: (details: { key: InboxKey; subject: string; reason: string }) => void;
  /** Called once when this consumer is closed. */
  readonly onClose?: () => void;
}

interface Received {
  readonly msg: Msg;
  readonly receivedAt: number;
}

type WaitOutcome = "progress" | "deadline" | "aborted" | "interrupted";

/** A received message older than this gets its lease renewed before it is handed out. */
const REFRESH_LEASE_AFTER_MS = 1_000;
/** Extra time the server gets to answer an expired request before it is cancelled from here. */
const EXPIRY_GRACE_MS = 1_000;

/**
 * A gateway's handle on one inbox: pulls leased messages from the inbox's durable consumer.
 *
 * Each `pull` sends one pull request for exactly `max` messages (`no_wait` when `waitMs` is 0) and resolves as
 * soon as the first messages arrived; the rest of the request is cancelled (see {@link PullRequest}). Messages
 * that were already on their way when a pull returned, was aborted or hit its deadline are kept and handed out
 * by the next pull (their lease refreshed), or given back (nak) on close. So nothing beyond what the core asked
 * for is ever in flight, and nothing pulled is dropped on the floor.
 */
export class JetStreamInboxConsumer implements InboxConsumer {
  readonly key: InboxKey;
  readonly #options: JetStreamInboxConsumerOptions;
  readonly #nextSubject: string;
  readonly #received: Received[] = [];
  readonly #interrupts = new Set<() => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | undefined;

  constructor(options: JetStreamInboxConsumerOptions) {
    this.key = options.key;
    this.#options = options;
    this.#nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${options.stream}.${options.durable}`;
  }

  pull(max: number, options: PullOptions): Promise<BrokerMessage[]> {
    // Pulls run one after another: a consumer has at most one open request, so it never holds more than asked.
    const run = this.#queue.then(() => this.#pull(max, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Wake a waiting pull because the connection dropped: it rejects (or returns what already arrived). */
  interrupt(): void {
    for (const wake of this.#interrupts) wake();
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.interrupt();
      await this.#queue;
      // Give back what arrived but was never handed out, so it is redelivered now rather than after the lease.
      const leftovers = this.#received.splice(0);
      await Promise.all(
        leftovers.map(({ msg }) =>
          msg.reply === undefined ? undefined : this.#options.acks.nak(msg.reply, 0).catch(() => undefined),
        ),
      );
      this.#options.onClose?.();
    })();
    return this.#closed;
  }

  async #pull(max: number, { waitMs, signal }: PullOptions): Promise<BrokerMessage[]> {
    if (this.#closed !== undefined) throw new BrokerUnavailableError("inbox consumer is closed");
    if (max <= 0 || signal?.aborted) return [];
    const ready = this.#take(max);
    if (ready.length > 0) return ready;
    if (!this.#options.isConnected()) throw new BrokerUnavailableError("NATS: not connected; cannot pull");

    let request: PullRequest;
    try {
      request = new PullRequest({
        nc: this.#options.nc,
        nextSubject: this.#nextSubject,
        batch: max,
        waitMs: Math.max(0, waitMs),
        onMessage: (msg) => this.#received.push({ msg, receivedAt: Date.now() }),
      });
    } catch (error) {
      // The connection closed under us (subscribe and publish throw then).
      throw toBrokerError(error, "pull");
    }
    const outcome = await this.#waitForProgress(request, Math.max(0, waitMs) + EXPIRY_GRACE_MS, signal);
    await request.cancel(this.#options.isConnected(), this.#options.requestTimeoutMs);

    if (request.end === "missing") {
      this.#options.onConsumerMissing(this.key);
      if (this.#received.length === 0) {
        throw new BrokerUnavailableError(`NATS: inbox consumer ${this.#options.durable} is not available`);
      }
    }
    if (outcome === "aborted" || this.#closed !== undefined) return [];
    if (outcome === "interrupted" && this.#received.length === 0) {
      throw new BrokerUnavailableError("NATS: connection lost while pulling");
    }
    return this.#take(max);
  }

  /** Resolve once a message arrived, the request ended, the deadline passed, the caller aborted or we were woken. */
  #waitForProgress(
    request: PullRequest,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const cleanups: Array<() => void> = [];
      const finish = (outcome: WaitOutcome): void => {
        for (const cleanup of cleanups) cleanup();
        resolve(outcome);
      };
      const timer = setTimeout(() => finish("deadline"), deadlineMs);
      cleanups.push(() => clearTimeout(timer));
      cleanups.push(request.onChange(() => finish("progress")));
      const wake = (): void => finish("interrupted");
      this.#interrupts.add(wake);
      cleanups.push(() => this.#interrupts.delete(wake));
      if (signal !== undefined) {
        const onAbort = (): void => finish("aborted");
        signal.addEventListener("abort", onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener("abort", onAbort));
      }
      if (request.received > 0 || request.end !== undefined) finish("progress");
    });
  }

  /** Hand out up to `max` received messages, oldest first, dropping those whose lease has surely run out. */
  #take(max: number): BrokerMessage[] {
    const { acks, ackWaitMs, subjectPrefix } = this.#options;
    const now = Date.now();
    const messages: BrokerMessage[] = [];
    while (messages.length < max && this.#received.length > 0) {
      const { msg, receivedAt } = this.#received.shift()!;
      const reply = msg.reply;
      const info = parseDeliveryInfo(reply);
      // Past its lease the broker has redelivered it (maybe to another replica): this copy is stale.
      if (reply === undefined || info === undefined || now - receivedAt >= ackWaitMs) continue;
      const decoded = decodeEnvelope(subjectPrefix, {
        subject: msg.subject,
        data: msg.data,
        msgId: msg.headers?.get("Nats-Msg-Id") || undefined,
        info,
      });
      if (!decoded.ok) {
        acks.term(reply);
        this.#options.onPoisonMessage({ key: this.key, subject: msg.subject, reason: decoded.reason });
        continue;
      }
      if (now - receivedAt > REFRESH_LEASE_AFTER_MS) void acks.working(reply).catch(() => undefined);
      messages.push(createJetStreamMessage(decoded.envelope, info.deliveryCount, reply, acks));
    }
    return messages;
  }
}
