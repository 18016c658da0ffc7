import { ALL_EVENT_TYPES, type DeliveryFrame } from "@soorma/common";
import type { BrokerMessage } from "../broker/adapter.js";

/** Which event types of a topic a member handles: every one, or the listed ones. */
export type EventTypeFilter = "all" | ReadonlySet<string>;

/** Turn the `event_types` of a `subscribe` frame into a filter (`["*"]` anywhere in the list means all). */
export function eventTypeFilter(eventTypes: readonly string[]): EventTypeFilter {
  return eventTypes.includes(ALL_EVENT_TYPES) ? "all" : new Set(eventTypes);
}

/** Who a member is, as stated in `hello`. */
export interface MemberInit {
  /** Server-issued id of the connection. */
  readonly connectionId: string;
  /** `agent_id` of the hello. */
  readonly agentId: string;
  /** Consumer group: `agent_name`, else `agent_id`. */
  readonly group: string;
  /** Platform tenant of the connection. */
  readonly tenant: string;
  /** Most deliveries the member holds at once, across all its topics. */
  readonly prefetch: number;
  /** Hand a delivery frame to the connection. Must not throw. */
  readonly send: (frame: DeliveryFrame) => void;
}

/** One delivery a member holds: the leased broker message and the timer that takes it back. */
export interface HeldDelivery {
  readonly id: string;
  readonly topic: string;
  readonly message: BrokerMessage;
  /** Returns the delivery's credit to the pump it came from; called once when the delivery is settled. */
  readonly onSettled: () => void;
  leaseTimer: NodeJS.Timeout | undefined;
}

/**
 * One connected member (a WebSocket connection after `hello`) and its credits.
 *
 * Credits: `prefetch − held − reserved`. A pump *reserves* credits before it pulls and turns each reservation
 * into a held delivery or releases it, so `held + reserved ≤ prefetch` always holds and a member never gets more
 * than its prefetch, whatever number of topics it subscribes.
 */
export class Member {
  readonly connectionId: string;
  readonly agentId: string;
  readonly group: string;
  readonly tenant: string;
  readonly prefetch: number;
  readonly send: (frame: DeliveryFrame) => void;
  /** Deliveries held, by delivery id. */
  readonly deliveries = new Map<string, HeldDelivery>();
  /** Subscribed topics and the event types handled on each. */
  readonly subscriptions = new Map<string, EventTypeFilter>();
  /** Credits reserved by pumps that are pulling for this member right now. */
  reserved = 0;
  /** Set once the connection is gone; pumps skip closed members. */
  closed = false;
  /**
   * Set while the connection reads too slowly (its send buffer is over the limit): the member gets no new
   * deliveries, so the backlog stays in the broker instead of piling up in gateway memory.
   */
  private paused = false;
  private readonly creditListeners = new Set<() => void>();

  constructor(init: MemberInit) {
    this.connectionId = init.connectionId;
    this.agentId = init.agentId;
    this.group = init.group;
    this.tenant = init.tenant;
    this.prefetch = init.prefetch;
    this.send = init.send;
  }

  /** Credits not held and not reserved; none while closed or paused. */
  get freeCredits(): number {
    return this.closed || this.paused ? 0 : this.prefetch - this.deliveries.size - this.reserved;
  }

  /** True while new deliveries are withheld (see {@link setPaused}). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Withhold new deliveries, or allow them again (waking the pumps waiting for this member's credits). */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    if (!paused) this.notifyCreditsFreed();
  }

  /** True when the member subscribes `topic` and handles events of `eventType` on it. */
  handles(topic: string, eventType: string): boolean {
    const filter = this.subscriptions.get(topic);
    if (filter === undefined) return false;
    return filter === "all" || filter.has(eventType);
  }

  /** Call `listener` once, the next time credits of this member are freed. Returns a function to cancel. */
  onceCreditsFreed(listener: () => void): () => void {
    this.creditListeners.add(listener);
    return () => this.creditListeners.delete(listener);
  }

  /** Tell waiting pumps that credits came free (a delivery settled, a reservation was released). */
  notifyCreditsFreed(): void {
    if (this.creditListeners.size === 0) return;
    const listeners = [...this.creditListeners];
    this.creditListeners.clear();
    for (const listener of listeners) listener();
  }
}
