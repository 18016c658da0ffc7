import {
  ALL_EVENT_TYPES,
  EVENT_TYPE_MAX_LENGTH,
  EVENT_TYPE_PATTERN,
  isValidTopicName,
  ValidationError,
} from "@soorma/common";
import type { Delivery } from "./delivery.js";

/** A topic this client receives; re-sent to the gateway on every new connection. */
export interface Subscription {
  readonly topic: string;
  /** Event types handled, or `["*"]`. */
  readonly eventTypes: readonly string[];
  readonly onDelivery: (delivery: Delivery) => void;
  /** `req_id` of the caller's subscribe() still waiting for `subscribed`; reused when re-sent after a reconnect. */
  pendingReqId: string | undefined;
}

/** @throws ValidationError `SOORMA_ERR_TOPIC_INVALID` when `topic` breaks the topic naming rule. */
export function assertTopicName(topic: string): void {
  if (!isValidTopicName(topic)) {
    throw new ValidationError(
      "SOORMA_ERR_TOPIC_INVALID",
      `invalid topic ${JSON.stringify(topic)}: topic names are lower-case kebab-case, at most 64 characters`,
    );
  }
}

/** True when `eventType` is a valid event type name or the `*` wildcard. */
export function isValidEventTypeFilter(eventType: string): boolean {
  return (
    eventType === ALL_EVENT_TYPES ||
    (eventType.length <= EVENT_TYPE_MAX_LENGTH && EVENT_TYPE_PATTERN.test(eventType))
  );
}

/**
 * The `event_types` list of a subscribe frame: `["*"]` for everything (also when the list contains `*`),
 * otherwise the distinct types in order.
 * @throws ValidationError `SOORMA_ERR_FRAME_INVALID` for an empty list or an invalid type name.
 */
export function normaliseEventTypes(eventTypes: readonly string[] | "*"): string[] {
  if (eventTypes === ALL_EVENT_TYPES) return [ALL_EVENT_TYPES];
  if (eventTypes.length === 0) {
    throw new ValidationError("SOORMA_ERR_FRAME_INVALID", 'subscribe needs at least one event type, or "*"');
  }
  const invalid = eventTypes.filter((type) => !isValidEventTypeFilter(type));
  if (invalid.length > 0) {
    throw new ValidationError(
      "SOORMA_ERR_FRAME_INVALID",
      `invalid event types ${JSON.stringify(invalid)}: event types are dotted words, e.g. 'order.placed'`,
    );
  }
  if (eventTypes.includes(ALL_EVENT_TYPES)) return [ALL_EVENT_TYPES];
  return [...new Set(eventTypes)];
}
