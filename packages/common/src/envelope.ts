import { randomUUID } from "node:crypto";
import { z } from "zod";
import { TopicNameSchema } from "./topics.js";

/**
 * Event types are dotted words such as `order.placed` or `heavy.task.requested`. Each word becomes a token of
 * a NATS subject, so wildcards, spaces and empty words are refused.
 */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** Longest accepted event type. */
export const EVENT_TYPE_MAX_LENGTH = 200;

/** Schema of an event type name. */
export const EventTypeSchema = z
  .string()
  .min(1)
  .max(EVENT_TYPE_MAX_LENGTH)
  .regex(EVENT_TYPE_PATTERN, { message: "event types are dotted words, e.g. 'order.placed'" });

/** Identifier fields (tenant, user, session …) are short opaque strings; `null` is accepted for Python interop. */
const optionalId = z.string().min(1).max(256).nullish();

/**
 * The Soorma event envelope (CloudEvents-shaped, snake_case as in the Python ecosystem).
 *
 * Parsing fills the defaults: `id` (UUID), `specversion` ("1.0"), `time` (now, ISO-8601) and
 * `correlation_id` (a fresh UUID). Unknown fields are dropped.
 */
export const EventEnvelopeSchema = z.object({
  /** Unique id; also the idempotency key of a publish. */
  id: z
    .string()
    .min(1)
    .max(128)
    .default(() => randomUUID()),
  /** Who produced the event, usually the agent name. */
  source: z.string().min(1).max(256),
  specversion: z.literal("1.0").default("1.0"),
  /** Event type, e.g. `order.placed`. */
  type: EventTypeSchema,
  /** Production time (ISO-8601). */
  time: z.iso.datetime({ offset: true, local: true }).default(() => new Date().toISOString()),
  /** Payload: a JSON object, or null. */
  data: z.record(z.string(), z.unknown()).nullish(),
  /** Ties requests, results and follow-ups of one conversation together. */
  correlation_id: z
    .string()
    .min(1)
    .max(256)
    .default(() => randomUUID()),
  /** Topic the event is published on. */
  topic: TopicNameSchema,
  subject: z.string().max(1024).nullish(),
  tenant_id: optionalId,
  user_id: optionalId,
  /** Set by the gateway from the authenticated caller; whatever a client sends here is replaced. */
  platform_tenant_id: optionalId,
  session_id: optionalId,
  goal_id: optionalId,
  plan_id: optionalId,
  /** Event type the requester expects as the answer. */
  response_event: EventTypeSchema.nullish(),
  /** Topic the requester listens on for the answer. */
  response_topic: TopicNameSchema.nullish(),
  response_schema_name: z.string().max(256).nullish(),
  trace_id: optionalId,
  parent_event_id: optionalId,
  payload_schema_name: z.string().max(256).nullish(),
});

/** A parsed event envelope with every default filled. */
export type EventEnvelope = z.output<typeof EventEnvelopeSchema>;

/** What a producer may hand in: defaults (`id`, `time`, …) may be omitted. */
export type EventEnvelopeInput = z.input<typeof EventEnvelopeSchema>;

/**
 * Parse and complete an envelope, throwing a `ZodError` when it is invalid. Boundaries that need a Soorma error
 * code use `decodeClientFrame` or the gateway's HTTP validation instead.
 */
export function createEnvelope(input: EventEnvelopeInput): EventEnvelope {
  return EventEnvelopeSchema.parse(input);
}
