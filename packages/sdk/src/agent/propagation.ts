import { type EventEnvelope, EventTopic, ValidationError } from "@soorma/common";
import type { PublishOptions } from "../client/publish-options.js";

/** Options of `ctx.bus.respond`: everything optional, since the handled event supplies the defaults. */
export type RespondOptions = Partial<PublishOptions> & { data?: Record<string, unknown> | null };

/**
 * Options of a publish made while handling `event`: trace_id, tenant_id, user_id and session_id default to the
 * event's and parent_event_id to its id, so follow-up events stay in the same trace and tenant. Any field the
 * options set (even to null) wins.
 */
export function propagatedPublishOptions(event: EventEnvelope, options: PublishOptions): PublishOptions {
  return {
    trace_id: event.trace_id,
    tenant_id: event.tenant_id,
    user_id: event.user_id,
    session_id: event.session_id,
    parent_event_id: event.id,
    ...definedOnly(options),
    event_type: options.event_type,
    topic: options.topic,
  };
}

/**
 * Options of the answer to `event`: published on `event.response_topic` (else `action-results`) with type
 * `event.response_event` unless the options name one; correlation_id, tenant_id, user_id, session_id, goal_id,
 * plan_id and trace_id are copied and parent_event_id is the event's id. Any field the options set wins.
 *
 * @throws ValidationError `SOORMA_ERR_ENVELOPE_INVALID` when neither the options nor the event name an event type.
 */
export function responsePublishOptions(event: EventEnvelope, options: RespondOptions): PublishOptions {
  const eventType = options.event_type ?? event.response_event ?? undefined;
  if (eventType === undefined) {
    throw new ValidationError(
      "SOORMA_ERR_ENVELOPE_INVALID",
      `respond() needs an event_type: event ${event.id} (${event.type}) names no response_event`,
      { details: { event_id: event.id, event_type: event.type } },
    );
  }
  return {
    correlation_id: event.correlation_id,
    tenant_id: event.tenant_id,
    user_id: event.user_id,
    session_id: event.session_id,
    goal_id: event.goal_id,
    plan_id: event.plan_id,
    trace_id: event.trace_id,
    parent_event_id: event.id,
    ...definedOnly(options),
    event_type: eventType,
    topic: options.topic ?? event.response_topic ?? EventTopic.ACTION_RESULTS,
  };
}

/** Keys set to `undefined` mean "not given" and must not erase a default; `null` is a real value. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
