import { randomUUID } from "node:crypto";
import { BrokerUnavailableError, MAX_PREFETCH, ProtocolError, SoormaError } from "@soorma/common";
import { belongsToTenant } from "../auth/tenancy.js";
import type { BrokerAdapter, BrokerMessage, InboxKey } from "../broker/adapter.js";
import type { LastError } from "./dead-letter.js";
import { InboxPump } from "./inbox-pump.js";
import type { CoreLogger } from "./logger.js";
import { eventTypeFilter, type HeldDelivery, Member, type MemberInit } from "./member.js";
import { RetryPolicy } from "./retry-policy.js";
import { Settler } from "./settler.js";

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  readonly adapter: BrokerAdapter;
  readonly logger: CoreLogger;
  /** A delivery not settled or renewed within this time goes to another member. @default 30000 */
  readonly leaseMs?: number;
  /** Deliveries of one event before it is dead-lettered. @default 5 */
  readonly maxAttempts?: number;
  /** First retry delay bound after a nack. @default 1000 */
  readonly retryBaseMs?: number;
  /** Cap of retry delays. @default 60000 */
  readonly retryMaxMs?: number;
  /** Longest wait of one idle pull. @default 1000 */
  readonly pullWaitMs?: number;
  /** Randomness of the retry jitter, replaceable for tests. @default Math.random */
  readonly random?: () => number;
}

/** Options of a nack. */
export interface NackOptions {
  /** Redeliver after this delay instead of the retry policy's backoff. */
  readonly delayMs?: number;
  /** Why the handler failed (kept in the dead letter). */
  readonly error?: LastError;
}

/** A connected member as the admin API shows it. */
export interface MemberSnapshot {
  readonly agentId: string;
  readonly connectionId: string;
  readonly prefetch: number;
  readonly inFlight: number;
  readonly topics: string[];
  /** True while the member reads too slowly and gets no new deliveries. */
  readonly paused: boolean;
}

/** A consumer group with local members, as the admin API shows it. */
export interface GroupSnapshot {
  readonly tenant: string;
  readonly group: string;
  readonly members: MemberSnapshot[];
  /** Topics some local member subscribes. */
  readonly topics: string[];
}

interface GroupState {
  readonly tenant: string;
  readonly name: string;
  readonly members: Map<string, Member>;
  readonly pumps: Map<string, InboxPump>;
}

/**
 * The dispatch core: consumer groups, their members and inbox pumps, leases and settlement. The only part of the
 * gateway that consumes from the broker. See docs/architecture.md for the rules it keeps.
 */
export class Dispatcher {
  /** Lease of every delivery, in ms. */
  readonly leaseMs: number;
  /** Retry and dead-letter rules. */
  readonly policy: RetryPolicy;
  private readonly adapter: BrokerAdapter;
  private readonly logger: CoreLogger;
  private readonly pullWaitMs: number | undefined;
  private readonly settler: Settler;
  private readonly groups = new Map<string, GroupState>();
  /** Pumps stopped because their last member left, still waiting for deliveries to settle. */
  private readonly retiring = new Set<InboxPump>();
  private readonly pendingSettles = new Set<Promise<void>>();
  private readonly idleWaiters = new Set<() => void>();
  private held = 0;
  private stopping = false;
  private closed: Promise<void> | undefined;

  constructor(options: DispatcherOptions) {
    this.adapter = options.adapter;
    this.logger = options.logger;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pullWaitMs = options.pullWaitMs;
    this.policy = new RetryPolicy({
      maxAttempts: options.maxAttempts ?? 5,
      baseMs: options.retryBaseMs ?? 1000,
      maxMs: options.retryMaxMs ?? 60_000,
      random: options.random,
    });
    this.settler = new Settler({ adapter: this.adapter, policy: this.policy, logger: this.logger });
  }

  /** Deliveries held by members right now (sent, not yet settled). */
  get inFlight(): number {
    return this.held;
  }

  /** Register a connection that said `hello`. */
  addMember(init: MemberInit): Member {
    const member = new Member(init);
    const group = this.ensureGroup(member.tenant, member.group);
    group.members.set(member.connectionId, member);
    return member;
  }

  /**
   * Subscribe `member` to `topic`: ensure the group's inbox (from now on events of the topic are kept for the
   * group), then join the topic's pump. Subscribing again replaces the handled event types.
   *
   * @throws BrokerUnavailableError when the inbox cannot be created or opened
   * @throws ProtocolError `SOORMA_ERR_DRAINING` while the gateway drains
   */
  async subscribe(member: Member, topic: string, eventTypes: readonly string[]): Promise<void> {
    this.assertAcceptingWork();
    const key: InboxKey = { tenant: member.tenant, group: member.group, topic };
    try {
      await this.adapter.ensureInbox(key);
    } catch (error) {
      throw asBrokerError(error, "could not create the group's inbox");
    }
    if (member.closed || this.stopping) return;
    member.subscriptions.set(topic, eventTypeFilter(eventTypes));
    const group = this.ensureGroup(member.tenant, member.group);
    let pump = group.pumps.get(topic);
    if (pump === undefined) {
      pump = this.createPump(key, group);
      group.pumps.set(topic, pump);
    }
    pump.addMember(member);
    try {
      await pump.start();
    } catch (error) {
      if (group.pumps.get(topic) === pump) group.pumps.delete(topic);
      member.subscriptions.delete(topic);
      pump.removeMember(member);
      throw asBrokerError(error, "could not open the group's inbox");
    }
  }

  /**
   * Stop delivering `topic` to `member`. Deliveries it holds stay valid until settled. The group's inbox stays.
   *
   * @throws ProtocolError `SOORMA_ERR_NOT_SUBSCRIBED` when the member does not subscribe the topic
   */
  unsubscribe(member: Member, topic: string): void {
    if (!member.subscriptions.delete(topic)) {
      throw new ProtocolError(
        "SOORMA_ERR_NOT_SUBSCRIBED",
        `not subscribed to topic ${JSON.stringify(topic)}`,
      );
    }
    this.leavePump(member, topic);
  }

  /**
   * The member handled the delivery: ack it in the broker.
   *
   * @throws ProtocolError `SOORMA_ERR_DELIVERY_UNKNOWN` when the member holds no such delivery
   */
  ack(member: Member, deliveryId: string): void {
    const delivery = this.take(member, deliveryId);
    this.track(this.settler.ack(delivery.message, keyOf(member, delivery.topic)));
  }

  /**
   * The member's handler failed: redeliver after `delayMs` (else backoff), or dead-letter on the last attempt.
   *
   * @throws ProtocolError `SOORMA_ERR_DELIVERY_UNKNOWN` when the member holds no such delivery
   */
  nack(member: Member, deliveryId: string, options: NackOptions = {}): void {
    const delivery = this.take(member, deliveryId);
    this.track(this.settler.retry(delivery.message, keyOf(member, delivery.topic), options));
  }

  /**
   * The member is still working: restart the delivery's lease and extend the broker-side lease.
   *
   * @throws ProtocolError `SOORMA_ERR_DELIVERY_UNKNOWN` when the member holds no such delivery
   */
  renew(member: Member, deliveryId: string): void {
    const delivery = member.deliveries.get(deliveryId);
    if (delivery === undefined) throw unknownDelivery(deliveryId);
    this.armLease(member, delivery);
    this.track(this.settler.touch(delivery.message, keyOf(member, delivery.topic)));
  }

  /** The connection is gone: leave every pump and hand every held delivery back for immediate redelivery. */
  removeMember(member: Member): void {
    if (member.closed) return;
    member.closed = true;
    for (const topic of [...member.subscriptions.keys()]) this.leavePump(member, topic);
    member.subscriptions.clear();
    this.releaseDeliveries(member, { message: "the member's connection closed", code: "member_left" });
    const group = this.groups.get(groupId(member.tenant, member.group));
    group?.members.delete(member.connectionId);
    if (group !== undefined && group.members.size === 0 && group.pumps.size === 0) {
      this.groups.delete(groupId(group.tenant, group.name));
    }
  }

  /** Groups with local members, for the admin API. */
  snapshot(): GroupSnapshot[] {
    return [...this.groups.values()].map((group) => ({
      tenant: group.tenant,
      group: group.name,
      members: [...group.members.values()].map((member) => ({
        agentId: member.agentId,
        connectionId: member.connectionId,
        prefetch: member.prefetch,
        inFlight: member.deliveries.size,
        topics: [...member.subscriptions.keys()],
        paused: member.isPaused,
      })),
      topics: [...group.pumps.keys()],
    }));
  }

  /**
   * First step of a drain: refuse new subscriptions and stop every pump from pulling. Deliveries already made
   * stay with their members, who may still settle them.
   */
  async stopPulling(): Promise<void> {
    this.stopping = true;
    const pumps = [...this.groups.values()].flatMap((group) => [...group.pumps.values()]);
    await Promise.all(pumps.map((pump) => pump.stop()));
  }

  /** Resolve true once no delivery is held, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.held === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(onIdle);
    });
  }

  /**
   * Stop pulling, hand every held delivery back (nack without delay: it stays in the broker), close every
   * inbox consumer and wait for pending broker settlements. The adapter itself is not closed. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.stopPulling();
      for (const group of this.groups.values()) {
        for (const member of group.members.values()) {
          this.releaseDeliveries(member, { message: "the gateway shut down", code: "draining" });
        }
      }
      const pumps = [
        ...[...this.groups.values()].flatMap((group) => [...group.pumps.values()]),
        ...this.retiring,
      ];
      await Promise.all(pumps.map((pump) => pump.shutdown()));
      while (this.pendingSettles.size > 0) await Promise.all([...this.pendingSettles]);
    })();
    return this.closed;
  }

  private createPump(key: InboxKey, group: GroupState): InboxPump {
    const prefetchSum = [...group.members.values()].reduce((sum, m) => sum + m.prefetch, 0);
    return new InboxPump({
      key,
      adapter: this.adapter,
      settler: this.settler,
      policy: this.policy,
      logger: this.logger,
      leaseMs: this.leaseMs,
      // Members joining later do not reopen the consumer, so leave room beyond the current members' prefetch.
      maxInFlight: Math.max(MAX_PREFETCH, prefetchSum),
      pullWaitMs: this.pullWaitMs,
      deliver: (member, message, onSettled) => this.deliver(member, key.topic, message, onSettled),
    });
  }

  private leavePump(member: Member, topic: string): void {
    const group = this.groups.get(groupId(member.tenant, member.group));
    const pump = group?.pumps.get(topic);
    if (group === undefined || pump === undefined) return;
    if (pump.removeMember(member) > 0) return;
    group.pumps.delete(topic);
    this.retiring.add(pump);
    pump
      .shutdown()
      .catch((error: unknown) => this.logger.warn({ ...pump.key, err: error }, "stopping a pump failed"))
      .finally(() => this.retiring.delete(pump));
  }

  private deliver(member: Member, topic: string, message: BrokerMessage, onSettled: () => void): void {
    if (!belongsToTenant(message.envelope, member.tenant)) {
      // Inboxes are per tenant, so this is a namespacing bug in an adapter. Dropping the event from the wrong
      // inbox is the safe choice: delivering it, retrying it or dead-lettering it here would all show it to
      // the wrong tenant.
      this.logger.error(
        {
          ...keyOf(member, topic),
          eventId: message.envelope.id,
          eventTenant: message.envelope.platform_tenant_id,
        },
        "an inbox held an event of another platform tenant; dropped without delivery",
      );
      onSettled();
      member.notifyCreditsFreed();
      this.track(this.settler.ack(message, keyOf(member, topic)));
      return;
    }
    const delivery: HeldDelivery = {
      id: randomUUID(),
      topic,
      message,
      onSettled,
      leaseTimer: undefined,
    };
    member.deliveries.set(delivery.id, delivery);
    this.held += 1;
    this.armLease(member, delivery);
    member.send({
      type: "delivery",
      delivery_id: delivery.id,
      topic,
      attempt: message.attempt,
      max_attempts: this.policy.maxAttempts,
      lease_ms: this.leaseMs,
      event: message.envelope,
    });
  }

  private armLease(member: Member, delivery: HeldDelivery): void {
    clearTimeout(delivery.leaseTimer);
    delivery.leaseTimer = setTimeout(() => this.expire(member, delivery), this.leaseMs);
  }

  private expire(member: Member, delivery: HeldDelivery): void {
    if (member.deliveries.get(delivery.id) !== delivery) return;
    this.settle(member, delivery);
    this.logger.info(
      { ...keyOf(member, delivery.topic), eventId: delivery.message.envelope.id, agentId: member.agentId },
      "delivery lease expired; redelivering",
    );
    this.track(
      this.settler.release(delivery.message, keyOf(member, delivery.topic), {
        message: `not acknowledged within the lease of ${this.leaseMs} ms`,
        code: "lease_expired",
      }),
    );
  }

  private take(member: Member, deliveryId: string): HeldDelivery {
    const delivery = member.deliveries.get(deliveryId);
    if (delivery === undefined) throw unknownDelivery(deliveryId);
    this.settle(member, delivery);
    return delivery;
  }

  /** Forget a delivery and return its credit; the caller settles the broker message. */
  private settle(member: Member, delivery: HeldDelivery): void {
    clearTimeout(delivery.leaseTimer);
    member.deliveries.delete(delivery.id);
    this.held -= 1;
    delivery.onSettled();
    member.notifyCreditsFreed();
    if (this.held === 0) for (const waiter of [...this.idleWaiters]) waiter();
  }

  private releaseDeliveries(member: Member, reason: LastError): void {
    for (const delivery of [...member.deliveries.values()]) {
      this.settle(member, delivery);
      this.track(this.settler.release(delivery.message, keyOf(member, delivery.topic), reason));
    }
  }

  private track(settlement: Promise<void>): void {
    this.pendingSettles.add(settlement);
    void settlement.finally(() => this.pendingSettles.delete(settlement));
  }

  private assertAcceptingWork(): void {
    if (this.stopping) throw new ProtocolError("SOORMA_ERR_DRAINING", "the gateway is draining");
  }

  private ensureGroup(tenant: string, name: string): GroupState {
    const id = groupId(tenant, name);
    let group = this.groups.get(id);
    if (group === undefined) {
      group = { tenant, name, members: new Map(), pumps: new Map() };
      this.groups.set(id, group);
    }
    return group;
  }
}

function groupId(tenant: string, group: string): string {
  return `${tenant}\u0000${group}`;
}

function keyOf(member: Member, topic: string): InboxKey {
  return { tenant: member.tenant, group: member.group, topic };
}

function unknownDelivery(deliveryId: string): ProtocolError {
  return new ProtocolError(
    "SOORMA_ERR_DELIVERY_UNKNOWN",
    `this connection holds no delivery ${JSON.stringify(deliveryId)} (already settled, expired or never sent)`,
  );
}

function asBrokerError(error: unknown, message: string): SoormaError {
  return error instanceof SoormaError ? error : new BrokerUnavailableError(message, { cause: error });
}
