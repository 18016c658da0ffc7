import { createHash } from "node:crypto";
import { DEAD_LETTER_TOPIC, type EventEnvelope, EventEnvelopeSchema, EventTopic } from "@soorma/common";

/** `source` of every event the gateway itself produces. */
export const GATEWAY_SOURCE = "soorma-event-service";

/** Event type of dead letters. */
export const DEAD_LETTER_EVENT_TYPE = "soorma.dead_letter";

/** The last failure reported for an event, as kept in its dead letter. */
export interface LastError {
  readonly message: string;
  readonly code?: string;
}

/** Where an event failed and how often: the provenance a dead letter and a failure notice carry. */
export interface FailedEvent {
  /** The event that exhausted its attempts. */
  readonly event: EventEnvelope;
  /** Platform tenant of the inbox. */
  readonly tenant: string;
  /** Consumer group whose handlers failed. */
  readonly group: string;
  /** Topic of the inbox. */
  readonly topic: string;
  /** Deliveries made. */
  readonly attempts: number;
  /** The last failure, as reported by the member's nack (or the gateway when the member vanished). */
  readonly lastError: LastError;
  /** When the event was dead-lettered. @default new Date() */
  readonly now?: Date;
}

/**
 * A stable id derived from (group, topic, original id, purpose): dead-lettering the same event twice (the
 * gateway crashed between publishing the dead letter and acking the original) publishes the same id, which the
 * broker deduplicates.
 */
export function derivedEventId(purpose: "dead-letter" | "failure-notice", failed: FailedEvent): string {
  const digest = createHash("sha256")
    .update([purpose, failed.tenant, failed.group, failed.topic, failed.event.id].join("\u0000"))
    .digest("hex");
  return `${purpose === "dead-letter" ? "dl" : "fn"}-${digest.slice(0, 40)}`;
}

/**
 * Build the dead letter of `failed`: topic `dead-letters`, type `soorma.dead_letter`, the original event with
 * its provenance in `data`.
 */
export function buildDeadLetter(failed: FailedEvent): EventEnvelope {
  const { event } = failed;
  const now = failed.now ?? new Date();
  return EventEnvelopeSchema.parse({
    id: derivedEventId("dead-letter", failed),
    source: GATEWAY_SOURCE,
    type: DEAD_LETTER_EVENT_TYPE,
    topic: DEAD_LETTER_TOPIC,
    time: now.toISOString(),
    correlation_id: event.correlation_id,
    tenant_id: event.tenant_id ?? null,
    user_id: event.user_id ?? null,
    session_id: event.session_id ?? null,
    trace_id: event.trace_id ?? null,
    parent_event_id: event.id,
    platform_tenant_id: failed.tenant,
    data: {
      event,
      group: failed.group,
      topic: failed.topic,
      attempts: failed.attempts,
      last_error: { ...failed.lastError },
      trace_id: event.trace_id ?? null,
      dead_lettered_at: now.toISOString(),
    },
  });
}

/**
 * Build the failure notice that tells a requester its `action-requests` event will never be handled:
 * `<type>.failed` on the event's `response_topic` (default `action-results`) with its correlation, tenant, user
 * and trace. Returns `undefined` for events of other topics, and when `<type>.failed` would break the event
 * type rule (longer than allowed).
 */
export function buildFailureNotice(failed: FailedEvent): EventEnvelope | undefined {
  if (failed.topic !== EventTopic.ACTION_REQUESTS) return undefined;
  const { event } = failed;
  const parsed = EventEnvelopeSchema.safeParse({
    id: derivedEventId("failure-notice", failed),
    source: GATEWAY_SOURCE,
    type: `${event.type}.failed`,
    topic: event.response_topic ?? EventTopic.ACTION_RESULTS,
    time: (failed.now ?? new Date()).toISOString(),
    correlation_id: event.correlation_id,
    tenant_id: event.tenant_id ?? null,
    user_id: event.user_id ?? null,
    session_id: event.session_id ?? null,
    trace_id: event.trace_id ?? null,
    parent_event_id: event.id,
    platform_tenant_id: failed.tenant,
    data: {
      error: { ...failed.lastError },
      attempts: failed.attempts,
      failed_event_id: event.id,
      group: failed.group,
    },
  });
  return parsed.success ? parsed.data : undefined;
}
