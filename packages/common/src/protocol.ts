import { z } from "zod";
import { EventEnvelopeSchema, EventTypeSchema } from "./envelope.js";
import { ProtocolError, type SoormaError, ValidationError } from "./errors.js";
import { TopicNameSchema } from "./topics.js";

/**
 * Version of the WebSocket protocol described here. A client states it in `hello`; the server refuses versions
 * it does not speak with `SOORMA_ERR_PROTOCOL_VERSION`. Bumped only for incompatible changes: adding an
 * optional field or a new frame type is compatible.
 */
export const PROTOCOL_VERSION = 1;

/** Path of the WebSocket endpoint. */
export const WS_PATH = "/v1/events/ws";

/** Default gateway port. */
export const DEFAULT_PORT = 8082;

/** Default service URL the SDK uses when neither an option nor `SOORMA_EVENT_SERVICE_URL` is set. */
export const DEFAULT_SERVICE_URL = `ws://127.0.0.1:${DEFAULT_PORT}`;

/** Default number of un-acked deliveries a member may hold. */
export const DEFAULT_PREFETCH = 16;

/** Highest prefetch a member may ask for. */
export const MAX_PREFETCH = 1000;

/**
 * Agent names and ids: letters, digits, `_` and `-`, starting with a letter or digit, at most 128 characters.
 * The name is the consumer group and becomes part of broker durable names, which reject dots and wildcards.
 */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Schema of an agent name or id. */
export const AgentNameSchema = z.string().regex(AGENT_NAME_PATTERN, {
  message: "agent names are letters, digits, '_' and '-', at most 128 characters",
});

/** A client-chosen request id that the server echoes in the matching reply. */
const RequestId = z.string().min(1).max(128);

/** Opaque delivery handle the server issues per delivery. */
const DeliveryId = z.string().min(1).max(128);

/** Wildcard entry of `event_types`: every event type of the topic. */
export const ALL_EVENT_TYPES = "*";

// ---------------------------------------------------------------------------------------------------------------
// Client → server frames
// ---------------------------------------------------------------------------------------------------------------

/** First frame of every connection: who the member is and how many deliveries it can hold at once. */
export const HelloFrameSchema = z.object({
  type: z.literal("hello"),
  protocol: z.number().int(),
  /** Unique per process/instance. */
  agent_id: AgentNameSchema,
  /** Consumer group; members with the same name share events. Falls back to `agent_id`. */
  agent_name: AgentNameSchema.optional(),
  /** Max un-acked deliveries this member holds. */
  prefetch: z.number().int().min(1).max(MAX_PREFETCH).default(DEFAULT_PREFETCH),
  /** Credentials, when not given in the `Authorization` header of the upgrade request. */
  auth: z
    .object({
      api_key: z.string().min(1).max(4096).optional(),
      token: z.string().min(1).max(16384).optional(),
    })
    .optional(),
  /** Free-form client description for logs, e.g. `@soorma/sdk/0.1.0`. */
  client: z.string().max(256).optional(),
});

/** Start receiving a topic's events (all of them, or only the listed types). */
export const SubscribeFrameSchema = z.object({
  type: z.literal("subscribe"),
  req_id: RequestId,
  topic: TopicNameSchema,
  /**
   * Event types this member handles; `["*"]` for all. Events of the topic that no connected member of the group
   * handles are acknowledged without delivery.
   */
  event_types: z
    .array(z.union([EventTypeSchema, z.literal(ALL_EVENT_TYPES)]))
    .min(1)
    .max(1000)
    .default([ALL_EVENT_TYPES]),
});

/** Stop receiving a topic on this connection (the group's inbox is kept). */
export const UnsubscribeFrameSchema = z.object({
  type: z.literal("unsubscribe"),
  req_id: RequestId,
  topic: TopicNameSchema,
});

/** Publish an event; answered with `published` once the broker stored it. */
export const PublishFrameSchema = z.object({
  type: z.literal("publish"),
  req_id: RequestId,
  event: EventEnvelopeSchema,
});

/** The delivery was handled: remove it from the inbox. */
export const AckFrameSchema = z.object({
  type: z.literal("ack"),
  delivery_id: DeliveryId,
});

/** The handler failed: redeliver later (after `delay_ms`, else the server's backoff) or dead-letter. */
export const NackFrameSchema = z.object({
  type: z.literal("nack"),
  delivery_id: DeliveryId,
  delay_ms: z.number().int().min(0).max(86_400_000).optional(),
  error: z.object({ message: z.string().max(4096), code: z.string().max(128).optional() }).optional(),
});

/** The handler is still working: extend the delivery's lease. */
export const InProgressFrameSchema = z.object({
  type: z.literal("in_progress"),
  delivery_id: DeliveryId,
});

/** Every frame a client may send. */
export const ClientFrameSchema = z.discriminatedUnion("type", [
  HelloFrameSchema,
  SubscribeFrameSchema,
  UnsubscribeFrameSchema,
  PublishFrameSchema,
  AckFrameSchema,
  NackFrameSchema,
  InProgressFrameSchema,
]);

// ---------------------------------------------------------------------------------------------------------------
// Server → client frames
// ---------------------------------------------------------------------------------------------------------------

/** Answer to `hello`: the session is open and these are its terms. */
export const WelcomeFrameSchema = z.object({
  type: z.literal("welcome"),
  protocol: z.number().int(),
  connection_id: z.string(),
  agent_id: z.string(),
  /** Consumer group this member joined. */
  group: z.string(),
  prefetch: z.number().int(),
  /** A delivery not acked, nacked or renewed (`in_progress`) within this time goes to another member. */
  lease_ms: z.number().int(),
  /** Deliveries of one event before it is dead-lettered. */
  max_attempts: z.number().int(),
  max_message_bytes: z.number().int(),
  server_version: z.string(),
});

/** The subscription is in place; the group's inbox for the topic exists. */
export const SubscribedFrameSchema = z.object({
  type: z.literal("subscribed"),
  req_id: RequestId,
  topic: z.string(),
  group: z.string(),
});

/** The connection no longer receives the topic. */
export const UnsubscribedFrameSchema = z.object({
  type: z.literal("unsubscribed"),
  req_id: RequestId,
  topic: z.string(),
});

/** The event is durably stored. `duplicate` is true when the id was already stored (idempotent retry). */
export const PublishedFrameSchema = z.object({
  type: z.literal("published"),
  req_id: RequestId,
  event_id: z.string(),
  duplicate: z.boolean().default(false),
});

/** An event for this member. Settle it with `ack`, `nack`, or keep it alive with `in_progress`. */
export const DeliveryFrameSchema = z.object({
  type: z.literal("delivery"),
  delivery_id: DeliveryId,
  topic: z.string(),
  /** 1 on first delivery, +1 per redelivery. */
  attempt: z.number().int().min(1),
  max_attempts: z.number().int().min(1),
  lease_ms: z.number().int(),
  event: EventEnvelopeSchema,
});

/** Something went wrong. `fatal` errors are followed by the server closing the connection. */
export const ErrorFrameSchema = z.object({
  type: z.literal("error"),
  code: z.string(),
  message: z.string(),
  req_id: z.string().optional(),
  delivery_id: z.string().optional(),
  details: z.unknown().optional(),
  fatal: z.boolean().default(false),
});

/** The server is shutting down: finish in-flight work within `deadline_ms`, then reconnect elsewhere. */
export const DrainingFrameSchema = z.object({
  type: z.literal("draining"),
  deadline_ms: z.number().int(),
});

/** Every frame a server may send. */
export const ServerFrameSchema = z.discriminatedUnion("type", [
  WelcomeFrameSchema,
  SubscribedFrameSchema,
  UnsubscribedFrameSchema,
  PublishedFrameSchema,
  DeliveryFrameSchema,
  ErrorFrameSchema,
  DrainingFrameSchema,
]);

export type HelloFrame = z.output<typeof HelloFrameSchema>;
export type SubscribeFrame = z.output<typeof SubscribeFrameSchema>;
export type UnsubscribeFrame = z.output<typeof UnsubscribeFrameSchema>;
export type PublishFrame = z.output<typeof PublishFrameSchema>;
export type AckFrame = z.output<typeof AckFrameSchema>;
export type NackFrame = z.output<typeof NackFrameSchema>;
export type InProgressFrame = z.output<typeof InProgressFrameSchema>;
export type ClientFrame = z.output<typeof ClientFrameSchema>;
/** A client frame as a sender writes it (defaults may be omitted). */
export type ClientFrameInput = z.input<typeof ClientFrameSchema>;

export type WelcomeFrame = z.output<typeof WelcomeFrameSchema>;
export type SubscribedFrame = z.output<typeof SubscribedFrameSchema>;
export type UnsubscribedFrame = z.output<typeof UnsubscribedFrameSchema>;
export type PublishedFrame = z.output<typeof PublishedFrameSchema>;
export type DeliveryFrame = z.output<typeof DeliveryFrameSchema>;
export type ErrorFrame = z.output<typeof ErrorFrameSchema>;
export type DrainingFrame = z.output<typeof DrainingFrameSchema>;
export type ServerFrame = z.output<typeof ServerFrameSchema>;
/** A server frame as a sender writes it (defaults may be omitted). */
export type ServerFrameInput = z.input<typeof ServerFrameSchema>;

const CLIENT_FRAME_TYPES: ReadonlySet<string> = new Set(
  ClientFrameSchema.options.map((o) => o.shape.type.value),
);
const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set(
  ServerFrameSchema.options.map((o) => o.shape.type.value),
);

/** Outcome of decoding a frame: the frame, or a Soorma error with the code to answer with. */
export type DecodeResult<T> = { ok: true; frame: T } | { ok: false; error: SoormaError; reqId?: string };

/**
 * Decode one client frame from its wire text. Never throws: the error carries the stable code a server answers
 * with (`SOORMA_ERR_BAD_JSON`, `SOORMA_ERR_FRAME_UNKNOWN_TYPE`, `SOORMA_ERR_FRAME_INVALID`,
 * `SOORMA_ERR_ENVELOPE_INVALID`, `SOORMA_ERR_TOPIC_INVALID`, `SOORMA_ERR_AGENT_NAME_INVALID`).
 */
export function decodeClientFrame(text: string): DecodeResult<ClientFrame> {
  return decodeFrame(text, CLIENT_FRAME_TYPES, ClientFrameSchema);
}

/** Decode one server frame (used by the SDK); same error codes as {@link decodeClientFrame}. */
export function decodeServerFrame(text: string): DecodeResult<ServerFrame> {
  return decodeFrame(text, SERVER_FRAME_TYPES, ServerFrameSchema);
}

/** Encode a frame for the wire. */
export function encodeFrame(frame: ClientFrameInput | ServerFrameInput): string {
  return JSON.stringify(frame);
}

function decodeFrame<T>(
  text: string,
  knownTypes: ReadonlySet<string>,
  schema: z.ZodType<T>,
): DecodeResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    return {
      ok: false,
      error: new ProtocolError("SOORMA_ERR_BAD_JSON", "frame is not valid JSON", { cause }),
    };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, error: new ProtocolError("SOORMA_ERR_FRAME_INVALID", "a frame is a JSON object") };
  }
  const record = raw as Record<string, unknown>;
  const reqId = typeof record.req_id === "string" ? record.req_id : undefined;
  const type = record.type;
  if (typeof type !== "string" || !knownTypes.has(type)) {
    return {
      ok: false,
      reqId,
      error: new ProtocolError(
        "SOORMA_ERR_FRAME_UNKNOWN_TYPE",
        `unknown frame type ${JSON.stringify(type)}`,
        {
          details: { known: [...knownTypes] },
        },
      ),
    };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, frame: parsed.data };
  return { ok: false, reqId, error: validationErrorFromIssues(type, parsed.error.issues) };
}

/**
 * Pick the most specific code for a schema failure: a bad topic beats a bad envelope, which beats a bad frame,
 * so clients can tell "you named a topic wrongly" from "your frame is malformed".
 */
function validationErrorFromIssues(frameType: string, issues: readonly z.core.$ZodIssue[]): SoormaError {
  const details = issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
  const paths = issues.map((issue) => issue.path.map(String));
  const summary = details.map((d) => `${d.path || "(frame)"}: ${d.message}`).join("; ");
  if (paths.some((p) => p.at(-1) === "topic" || p.at(-1) === "response_topic")) {
    return new ValidationError("SOORMA_ERR_TOPIC_INVALID", `invalid topic: ${summary}`, { details });
  }
  if (paths.some((p) => p[0] === "agent_id" || p[0] === "agent_name")) {
    return new ValidationError("SOORMA_ERR_AGENT_NAME_INVALID", `invalid agent name: ${summary}`, {
      details,
    });
  }
  if (frameType === "publish" && paths.some((p) => p[0] === "event")) {
    return new ValidationError("SOORMA_ERR_ENVELOPE_INVALID", `invalid event envelope: ${summary}`, {
      details,
    });
  }
  return new ProtocolError("SOORMA_ERR_FRAME_INVALID", `invalid ${frameType} frame: ${summary}`, { details });
}
