import { randomUUID } from "node:crypto";
import { type EventEnvelope, EventEnvelopeSchema, type TopicName, ValidationError } from "@soorma/common";

/**
 * Options of every publish. Field names are the wire names (snake_case), as in the Python SDK, so code and events
 * read the same in both languages.
 */
export interface PublishOptions {
  /** Event type, e.g. `order.placed`. */
  event_type: string;
  /** Topic to publish on. */
  topic: TopicName;
  /** Payload: a JSON object, or null. */
  data?: Record<string, unknown> | null;
  /** Idempotency key. @default a random UUID, kept across buffered retries */
  id?: string;
  /** Producer. @default the agent name, else the agent id */
  source?: string;
  /** @default a random UUID (set by the envelope schema) */
  correlation_id?: string | null;
  subject?: string | null;
  tenant_id?: string | null;
  user_id?: string | null;
  session_id?: string | null;
  goal_id?: string | null;
  plan_id?: string | null;
  /** Event type the requester expects as the answer. */
  response_event?: string | null;
  /** Topic the requester listens on for the answer. */
  response_topic?: string | null;
  response_schema_name?: string | null;
  trace_id?: string | null;
  parent_event_id?: string | null;
  payload_schema_name?: string | null;
}

/** Answer to a publish: the gateway stored the event. */
export interface PublishResult {
  /** Id of the stored event. */
  event_id: string;
  /** True when an event with this id was already stored (a retry); it was not stored twice. */
  duplicate: boolean;
}

/** Per-call options of every request the client makes. */
export interface CallOptions {
  /** Deadline in ms. @default the client's requestTimeoutMs */
  timeout?: number;
  /** Give up when this aborts; the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Envelope fields copied verbatim from {@link PublishOptions}. */
const PASS_THROUGH_FIELDS = [
  "data",
  "correlation_id",
  "subject",
  "tenant_id",
  "user_id",
  "session_id",
  "goal_id",
  "plan_id",
  "response_event",
  "response_topic",
  "response_schema_name",
  "trace_id",
  "parent_event_id",
  "payload_schema_name",
] as const satisfies readonly (keyof PublishOptions)[];

/**
 * Build and validate the envelope a publish sends. Done once per publish, so the `id`, `time` and
 * `correlation_id` defaults stay the same when a buffered publish is re-sent.
 *
 * @param defaultSource `source` when the options name none (the agent name, else the agent id).
 * @throws ValidationError `SOORMA_ERR_TOPIC_INVALID` for a bad topic or response topic, else
 * `SOORMA_ERR_ENVELOPE_INVALID`; invalid events never leave the process.
 */
export function buildEnvelope(options: PublishOptions, defaultSource: string): EventEnvelope {
  const input: Record<string, unknown> = {
    id: options.id ?? randomUUID(),
    source: options.source ?? defaultSource,
    type: options.event_type,
    topic: options.topic,
  };
  for (const field of PASS_THROUGH_FIELDS) {
    const value = options[field];
    if (value !== undefined) input[field] = value;
  }
  const parsed = EventEnvelopeSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  const summary = details.map((d) => `${d.path || "(event)"}: ${d.message}`).join("; ");
  const topicIssue = parsed.error.issues.some((issue) => {
    const last = issue.path.at(-1);
    return last === "topic" || last === "response_topic";
  });
  if (topicIssue) {
    return throwValidation("SOORMA_ERR_TOPIC_INVALID", `invalid topic: ${summary}`, details);
  }
  return throwValidation("SOORMA_ERR_ENVELOPE_INVALID", `invalid event: ${summary}`, details);
}

function throwValidation(
  code: "SOORMA_ERR_TOPIC_INVALID" | "SOORMA_ERR_ENVELOPE_INVALID",
  message: string,
  details: unknown,
): never {
  throw new ValidationError(code, message, { details });
}
