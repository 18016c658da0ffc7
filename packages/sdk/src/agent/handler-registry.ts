import { ALL_EVENT_TYPES, ConfigError, type EventEnvelope, type TopicName } from "@soorma/common";
import { assertTopicName, isValidEventTypeFilter } from "../client/subscriptions.js";
import type { EventContext } from "./context.js";

/** A handler registered with `onEvent`. Resolve to ack the event; throw to nack it (it is retried). */
export type EventHandler = (event: EventEnvelope, ctx: EventContext) => unknown | Promise<unknown>;

/**
 * Handlers by (topic, event type). The topics with handlers are what an agent subscribes to, and each topic's
 * event types are what it tells the gateway it handles, so the gateway acks the other types without delivering.
 */
export class HandlerRegistry {
  readonly #byTopic = new Map<string, Map<string, EventHandler>>();
  readonly #defaultTopic: TopicName;
  #locked = false;

  /** @param defaultTopic topic of handlers registered without one. */
  constructor(defaultTopic: TopicName) {
    this.#defaultTopic = defaultTopic;
  }

  /**
   * Register `handler` for `eventType` (or `*`) on `topic` (default: the registry's default topic).
   * @throws ValidationError for an invalid topic; ConfigError for an invalid event type, a duplicate
   * registration, or a registration after start().
   */
  add(eventType: string, topic: TopicName | undefined, handler: EventHandler): void {
    if (this.#locked) {
      throw new ConfigError("onEvent must be called before start(): subscriptions are sent when starting");
    }
    const resolvedTopic = topic ?? this.#defaultTopic;
    assertTopicName(resolvedTopic);
    if (!isValidEventTypeFilter(eventType)) {
      throw new ConfigError(
        `invalid event type ${JSON.stringify(eventType)}: event types are dotted words (e.g. 'order.placed') or "*"`,
      );
    }
    if (typeof handler !== "function") throw new ConfigError("onEvent needs a handler function");
    let handlers = this.#byTopic.get(resolvedTopic);
    if (handlers === undefined) {
      handlers = new Map();
      this.#byTopic.set(resolvedTopic, handlers);
    }
    if (handlers.has(eventType)) {
      throw new ConfigError(`a handler for ${eventType} on ${resolvedTopic} is already registered`);
    }
    handlers.set(eventType, handler);
  }

  /** Refuse further registrations. */
  lock(): void {
    this.#locked = true;
  }

  /** Allow registrations again (start() failed before subscribing). */
  unlock(): void {
    this.#locked = false;
  }

  /** Topics with at least one handler, in registration order. */
  topics(): string[] {
    return [...this.#byTopic.keys()];
  }

  /** What to subscribe with for `topic`: `"*"` when a wildcard handler exists, else the registered types. */
  eventTypesFor(topic: string): string[] | "*" {
    const handlers = this.#byTopic.get(topic);
    if (handlers === undefined || handlers.has(ALL_EVENT_TYPES)) return ALL_EVENT_TYPES;
    return [...handlers.keys()];
  }

  /** The handler of `eventType` on `topic`: the exact registration, else the topic's `*` handler. */
  lookup(topic: string, eventType: string): EventHandler | undefined {
    const handlers = this.#byTopic.get(topic);
    return handlers?.get(eventType) ?? handlers?.get(ALL_EVENT_TYPES);
  }
}
