import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  ReplayPolicy,
} from "@nats-io/jetstream";
import type { InboxKey } from "../adapter.js";
import { durableName, inboxDescription } from "./naming.js";
import { topicFilterSubject } from "./subjects.js";

const MS = 1_000_000; // JetStream durations are nanoseconds

/** What an inbox's consumer is tuned to. */
export interface InboxTuning {
  /** The gateway's lease of a delivery (see {@link brokerAckWaitMs} for the broker's). */
  readonly leaseMs: number;
  /** Most messages this gateway replica will hold un-settled (its members' summed prefetch). */
  readonly maxInFlight: number;
}

/**
 * The consumer's ack wait for a gateway lease of `leaseMs`: one and a half leases plus a second.
 *
 * The gateway enforces the lease itself (it nacks an expired delivery so it goes out again at once); the broker's
 * ack wait only matters when the gateway process is gone. It must never run out first while the gateway is
 * alive, because JetStream settles by stream sequence: a redelivery by the broker followed by the gateway's own
 * nack of the earlier delivery would count two attempts. A message parked in the gateway is renewed every half
 * lease, so its broker lease may have only half of the wait left when it is delivered; hence 1.5 leases, and a
 * second for timers.
 */
export function brokerAckWaitMs(leaseMs: number): number {
  return Math.ceil(leaseMs * 1.5) + 1_000;
}

/** Options of {@link DurableConsumers}. */
export interface DurableConsumersOptions {
  readonly stream: string;
  readonly subjectPrefix: string;
  /** Gateway lease assumed for an inbox created by `ensureInbox` before any gateway opened it. */
  readonly defaultLeaseMs: number;
  /** Lowest `max_ack_pending` of any inbox consumer. */
  readonly minMaxAckPending: number;
}

interface KnownConsumer {
  readonly key: InboxKey;
  /** What the consumer is known to be tuned to (at least). */
  readonly tuning: InboxTuning;
}

/**
 * One durable pull consumer per inbox `(tenant, group, topic)`, filtered on `<prefix>.<tenant>.<topic>.>`.
 *
 * - `deliver_policy: new`: an inbox only gets events published after it exists (the adapter contract).
 * - `ack_wait` = {@link brokerAckWaitMs} of the lease; `max_deliver` unlimited: the core counts attempts and
 *   dead-letters.
 * - `max_ack_pending` only grows: it is at least the largest `maxInFlight` any replica declared and never below
 *   `minMaxAckPending`. Replicas sharing a group each cap their own in-flight count by their members' credits;
 *   the broker-wide cap must not be so low that one replica's members starve another's.
 *
 * Remembers every consumer it ensured, so {@link resync} can recreate them after the server lost its store.
 */
export class DurableConsumers {
  readonly #jsm: JetStreamManager;
  readonly #options: DurableConsumersOptions;
  readonly #known = new Map<string, KnownConsumer>();
  // One ensure at a time per consumer, so concurrent openInbox calls do not race their updates.
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(jsm: JetStreamManager, options: DurableConsumersOptions) {
    this.#jsm = jsm;
    this.#options = options;
  }

  /**
   * Make sure the inbox's consumer exists and, when `tuning` is given, that it is tuned at least that far.
   * Resolves with the durable name.
   */
  ensure(key: InboxKey, tuning?: InboxTuning): Promise<string> {
    return this.#ensure(key, tuning, false);
  }

  /** Ensure one consumer again whatever is remembered of it (a pull found it missing). */
  async repair(key: InboxKey): Promise<void> {
    await this.#ensure(key, this.#known.get(durableName(key))?.tuning, true);
  }

  /** Ensure every consumer ensured before again (after a reconnect: the server may have lost its store). */
  async resync(): Promise<void> {
    for (const known of [...this.#known.values()]) await this.#ensure(known.key, known.tuning, true);
  }

  async #ensure(key: InboxKey, tuning: InboxTuning | undefined, recheck: boolean): Promise<string> {
    const durable = durableName(key);
    const previous = this.#inFlight.get(durable) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#ensureOne(durable, key, tuning, recheck));
    this.#inFlight.set(durable, run);
    try {
      await run;
    } finally {
      if (this.#inFlight.get(durable) === run) this.#inFlight.delete(durable);
    }
    return durable;
  }

  async #ensureOne(
    durable: string,
    key: InboxKey,
    tuning: InboxTuning | undefined,
    recheck: boolean,
  ): Promise<void> {
    const known = this.#known.get(durable);
    if (!recheck && known !== undefined && (tuning === undefined || covers(known.tuning, tuning))) return;

    const wantAckWait = tuning === undefined ? undefined : brokerAckWaitMs(tuning.leaseMs) * MS;
    const wantMaxAckPending =
      tuning === undefined ? undefined : Math.max(this.#options.minMaxAckPending, tuning.maxInFlight);
    const info = await this.#info(durable);
    if (info === undefined) {
      const created = await this.#jsm.consumers.add(this.#options.stream, {
        durable_name: durable,
        description: inboxDescription(key),
        filter_subject: topicFilterSubject(this.#options.subjectPrefix, key.tenant, key.topic),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        replay_policy: ReplayPolicy.Instant,
        ack_wait: wantAckWait ?? brokerAckWaitMs(this.#options.defaultLeaseMs) * MS,
        max_deliver: -1,
        max_ack_pending: wantMaxAckPending ?? this.#options.minMaxAckPending,
      } satisfies Partial<ConsumerConfig>);
      this.#remember(durable, key, tuning, created);
      return;
    }
    const ackWait = info.config.ack_wait ?? 0;
    const maxAckPending = info.config.max_ack_pending ?? 0;
    const stale =
      (wantAckWait !== undefined && ackWait !== wantAckWait) ||
      (wantMaxAckPending !== undefined && maxAckPending < wantMaxAckPending);
    const current = stale
      ? await this.#jsm.consumers.update(this.#options.stream, durable, {
          ack_wait: wantAckWait ?? ackWait,
          max_ack_pending: Math.max(maxAckPending, wantMaxAckPending ?? 0),
        })
      : info;
    this.#remember(durable, key, tuning, current);
  }

  async #info(durable: string): Promise<ConsumerInfo | undefined> {
    try {
      return await this.#jsm.consumers.info(this.#options.stream, durable);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)
        return undefined;
      throw error;
    }
  }

  #remember(durable: string, key: InboxKey, tuning: InboxTuning | undefined, info: ConsumerInfo): void {
    const previous = this.#known.get(durable)?.tuning;
    this.#known.set(durable, {
      key: { tenant: key.tenant, group: key.group, topic: key.topic },
      tuning: {
        leaseMs: tuning?.leaseMs ?? previous?.leaseMs ?? this.#options.defaultLeaseMs,
        maxInFlight: info.config.max_ack_pending ?? tuning?.maxInFlight ?? this.#options.minMaxAckPending,
      },
    });
  }
}

/** True when a consumer tuned to `current` needs no update for `wanted`. */
function covers(current: InboxTuning, wanted: InboxTuning): boolean {
  return current.leaseMs === wanted.leaseMs && current.maxInFlight >= wanted.maxInFlight;
}
