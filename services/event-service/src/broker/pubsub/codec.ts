import type { EventEnvelope } from "@soorma/common";
import { EventEnvelopeSchema, ValidationError } from "@soorma/common";
import type { InboxKey } from "../adapter.js";

/**
 * How an event is stored in Pub/Sub: the JSON envelope as the message data, plus attributes that let operators
 * and other services filter or inspect messages without parsing the body (documented in
 * docs/adapters/pubsub.md).
 */
export const EventAttribute = {
  ID: "soorma-id",
  TYPE: "soorma-type",
  TENANT: "soorma-tenant",
  TOPIC: "soorma-topic",
} as const;

/** Largest message Pub/Sub accepts (data plus attributes), in bytes. */
export const PUBSUB_MAX_MESSAGE_BYTES = 10_000_000;

/** What a publish sends. */
export interface EncodedEvent {
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
}

/**
 * Encode `event` of `tenant` for publishing.
 *
 * @throws ValidationError (`SOORMA_ERR_MESSAGE_TOO_LARGE`) when the message would exceed Pub/Sub's size limit
 */
export function encodeEvent(event: EventEnvelope, tenant: string): EncodedEvent {
  const data = Buffer.from(JSON.stringify(event), "utf8");
  const attributes: Record<string, string> = {
    [EventAttribute.ID]: event.id,
    [EventAttribute.TYPE]: event.type,
    [EventAttribute.TENANT]: tenant,
    [EventAttribute.TOPIC]: event.topic,
  };
  const attributeBytes = Object.entries(attributes).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
  if (data.length + attributeBytes > PUBSUB_MAX_MESSAGE_BYTES) {
    throw new ValidationError(
      "SOORMA_ERR_MESSAGE_TOO_LARGE",
      `event ${event.id} is ${data.length} bytes; Pub/Sub stores at most ${PUBSUB_MAX_MESSAGE_BYTES} bytes per message`,
    );
  }
  return { data, attributes };
}

/** The parts of a pulled Pub/Sub message the decoder reads. */
export interface PulledMessage {
  readonly data: Uint8Array | string | null | undefined;
  readonly attributes: Readonly<Record<string, string>> | null | undefined;
  readonly messageId: string | null | undefined;
  /** Publish time as the client library returns it (`seconds` may be a string, number or Long). */
  readonly publishTime: { seconds?: unknown; nanos?: number | null } | null | undefined;
}

/** Outcome of decoding a pulled message: an envelope, or why the message can never become one. */
export type DecodeResult =
  | { readonly ok: true; readonly envelope: EventEnvelope }
  | { readonly ok: false; readonly reason: string };

/**
 * Turn a message pulled from inbox `key` into an envelope.
 *
 * Messages this adapter published carry a complete envelope. Other services may publish straight into the
 * topic, so the inbox's tenant and topic are authoritative (they are what routed the message here) and the
 * attributes fill in what the body lacks. Defaults that would otherwise change on every redelivery are pinned
 * to the stored message: a missing `id` becomes the `soorma-id` attribute or the Pub/Sub message id, a missing
 * `time` the publish time, a missing `correlation_id` the id.
 */
export function decodeEvent(key: InboxKey, message: PulledMessage): DecodeResult {
  let body: unknown;
  try {
    const text =
      typeof message.data === "string"
        ? Buffer.from(message.data, "base64").toString("utf8")
        : Buffer.from(message.data ?? new Uint8Array()).toString("utf8");
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: "data is not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, reason: "data is not a JSON object" };
  }
  const fields = body as Record<string, unknown>;
  const attributes = message.attributes ?? {};
  const id = fields.id ?? attributes[EventAttribute.ID] ?? message.messageId;
  const candidate = {
    ...fields,
    id,
    correlation_id: fields.correlation_id ?? id,
    time: fields.time ?? publishTimeIso(message.publishTime),
    type: fields.type ?? attributes[EventAttribute.TYPE],
    topic: key.topic,
    platform_tenant_id: key.tenant,
  };
  const parsed = EventEnvelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    return { ok: false, reason: `not a valid event envelope (${issues})` };
  }
  return { ok: true, envelope: parsed.data };
}

function publishTimeIso(publishTime: PulledMessage["publishTime"]): string | undefined {
  if (publishTime === null || publishTime === undefined) return undefined;
  const seconds = Number(String(publishTime.seconds ?? ""));
  if (!Number.isFinite(seconds)) return undefined;
  return new Date(seconds * 1000 + Math.floor((publishTime.nanos ?? 0) / 1_000_000)).toISOString();
}
