import type { EventEnvelope } from "@soorma/common";

/**
 * The contract between the gateway core and a message broker. The core owns everything every adapter needs
 * (consumer groups, member credits, retry and dead-letter policy, dispatch); an adapter only stores events,
 * keeps one durable inbox per (tenant, group, topic) and hands out leased messages from it.
 *
 * Adapters never see WebSocket members: the core pulls from an inbox only as many messages as its members have
 * free credits, so the backlog stays in the broker.
 */

/** One durable inbox: consumer group `group`'s copy of `topic` within platform tenant `tenant`. */
export interface InboxKey {
  /** Platform tenant (already validated: `[A-Za-z0-9_-]{1,64}`). */
  readonly tenant: string;
  /** Consumer group: the agent name, else the agent id (`AGENT_NAME_PATTERN`). */
  readonly group: string;
  /** Topic name (`TOPIC_NAME_PATTERN`). */
  readonly topic: string;
}

/** Which adapter a config names. */
export type AdapterKind = "memory" | "sqlite" | "nats" | "pubsub";

/** What an adapter can promise; the conformance suite skips sections an adapter cannot do. */
export interface AdapterCapabilities {
  /** Confirmed events and inboxes survive a restart of the gateway process. */
  readonly durable: boolean;
  /** Several gateway processes may share the broker and split a group between them. */
  readonly multiReplica: boolean;
  /** Events survive a restart of the broker itself (not the gateway). */
  readonly survivesBrokerRestart: boolean;
  /**
   * The publish dedupe window (envelope `id`) is kept by the broker, so it holds across gateway restarts and
   * between replicas. False where only the gateway process remembers recent ids (Pub/Sub has no publish dedupe).
   */
  readonly durableDedupe: boolean;
}

/** Health of the broker connection, as `/ready` reports it. */
export type AdapterStatus =
  | { readonly state: "connecting" }
  | { readonly state: "ready" }
  | { readonly state: "reconnecting"; readonly since: number; readonly lastError?: string }
  | { readonly state: "closed" };

/** Answer to a publish: the event is stored. */
export interface PublishReceipt {
  readonly eventId: string;
  /** True when an event with this id was already stored within the dedupe window; it was not stored twice. */
  readonly duplicate: boolean;
}

/** A leased message from an inbox. Exactly one of `ack` / `nack` settles it; `touch` may come before. */
export interface BrokerMessage {
  readonly envelope: EventEnvelope;
  /** Delivery count as the broker knows it: 1 the first time, +1 on every redelivery. */
  readonly attempt: number;
  /** Remove the message from the inbox for good. */
  ack(): Promise<void>;
  /** Return the message; it becomes deliverable again after `delayMs` with `attempt + 1`. */
  nack(delayMs: number): Promise<void>;
  /** Extend the lease by the inbox's `leaseMs` from now, so the broker does not redeliver it meanwhile. */
  touch(): Promise<void>;
}

/** Options of {@link BrokerAdapter.openInbox}. */
export interface OpenInboxOptions {
  /**
   * How long a pulled message stays leased without `touch` before the broker hands it out again. This is what
   * protects messages when the gateway process itself dies.
   */
  readonly leaseMs: number;
  /**
   * Most messages this consumer will ever hold un-settled at once (sum of its members' prefetch). Adapters with
   * broker-side flow control (NATS `max_ack_pending`, Pub/Sub flow control) align to it.
   */
  readonly maxInFlight: number;
}

/** Options of {@link InboxConsumer.pull}. */
export interface PullOptions {
  /** Wait at most this long for the first message; resolve `[]` when none came. */
  readonly waitMs: number;
  /** Abort the wait early (resolve `[]`, do not reject). */
  readonly signal?: AbortSignal;
}

/** A gateway's handle on one inbox. */
export interface InboxConsumer {
  readonly key: InboxKey;
  /**
   * Resolve with between 0 and `max` leased messages, oldest first. Waits up to `waitMs` for at least one.
   * Rejects only on a broker failure (`BrokerUnavailableError`); the core retries with backoff.
   */
  pull(max: number, options: PullOptions): Promise<BrokerMessage[]>;
  /** Stop pulling. Messages still leased keep their lease and are redelivered when it expires. Idempotent. */
  close(): Promise<void>;
}

/** What the admin API shows of an inbox. */
export interface InboxStats {
  readonly key: InboxKey;
  /** Messages stored and not yet acked (ready, delayed or leased). `undefined` when the broker cannot tell. */
  readonly pending: number | undefined;
}

/**
 * A broker adapter.
 *
 * ## Lifecycle
 * - `connect()` resolves once the broker is reachable and its structures (streams, tables …) exist; rejects with
 *   `BrokerUnavailableError` when it is not reachable within the adapter's connect timeout.
 * - `close()` is idempotent (it returns the same promise every time) and releases every resource; in-flight
 *   un-settled messages stay in the broker.
 * - `status()` is cheap and synchronous; `/ready` reports it.
 *
 * ## Publish
 * - `publish(event)` resolves only after the broker durably stored the event (for `memory`: after it is in the
 *   process's store) and every existing inbox of `(tenant, topic)` will get it. `event.platform_tenant_id` is
 *   always set by the core. A second publish of the same `id` within the dedupe window resolves with
 *   `duplicate: true` and stores nothing. Rejects with `BrokerUnavailableError` when the event was not stored.
 *
 * ## Inboxes
 * - `ensureInbox(key)` creates the durable inbox if missing (idempotent). Events published after it resolves are
 *   kept for the group even while no member is connected (store-and-forward). Events published before an inbox
 *   existed are not copied into it.
 * - `openInbox(key, options)` ensures the inbox and returns a consumer to pull leased messages from.
 *   Several consumers (in one process or across gateway replicas) may pull from one inbox: each message is
 *   leased to one of them at a time.
 * - `listInboxes(tenant?)` lists known inboxes with their pending counts, for the admin API.
 *
 * ## Acknowledgement
 * - See {@link BrokerMessage}. A message whose lease expires is redelivered with `attempt + 1`.
 */
export interface BrokerAdapter {
  readonly kind: AdapterKind;
  readonly capabilities: AdapterCapabilities;
  connect(): Promise<void>;
  close(): Promise<void>;
  status(): AdapterStatus;
  publish(event: EventEnvelope): Promise<PublishReceipt>;
  ensureInbox(key: InboxKey): Promise<void>;
  openInbox(key: InboxKey, options: OpenInboxOptions): Promise<InboxConsumer>;
  listInboxes(tenant?: string): Promise<InboxStats[]>;
  [Symbol.asyncDispose](): Promise<void>;
}
