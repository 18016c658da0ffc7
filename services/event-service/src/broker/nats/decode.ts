import type { EventEnvelope } from "@soorma/common";
import { EventEnvelopeSchema } from "@soorma/common";
import type { DeliveryInfo } from "./delivery-info.js";
import { parseEventSubject } from "./subjects.js";

/** Outcome of decoding a stored message: an envelope, or why the message can never become one. */
export type DecodeResult =
  | { readonly ok: true; readonly envelope: EventEnvelope }
  | { readonly ok: false; readonly reason: string };

/** What {@link decodeEnvelope} reads from a stored message. */
export interface StoredMessage {
  /** Subject it was stored under. */
  readonly subject: string;
  readonly data: Uint8Array;
  /** Value of the `Nats-Msg-Id` header, when the publisher set one. */
  readonly msgId: string | undefined;
  readonly info: DeliveryInfo;
}

const decoder = new TextDecoder();

/**
 * Turn a stored message into an envelope.
 *
 * Messages this adapter published carry a complete envelope. Other services may publish straight into the
 * stream (docs/adapters/nats.md), so the subject is authoritative for tenant and topic (it is what routed the
 * message into this inbox) and fills the event type when the body has none. Defaults that would otherwise
 * change on every redelivery are pinned to the stored message: a missing `id` becomes the publisher's
 * `Nats-Msg-Id` or `<stream>-<sequence>`, a missing `time` the time the broker stored it, a missing
 * `correlation_id` the id.
 */
export function decodeEnvelope(prefix: string, message: StoredMessage): DecodeResult {
  const parts = parseEventSubject(prefix, message.subject);
  if (parts === undefined)
    return { ok: false, reason: `subject ${message.subject} is not <prefix>.<tenant>.<topic>.<type>` };
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(message.data));
  } catch {
    return { ok: false, reason: "body is not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, reason: "body is not a JSON object" };
  }
  const fields = body as Record<string, unknown>;
  const id = fields.id ?? message.msgId ?? `${message.info.stream}-${message.info.streamSequence}`;
  const candidate = {
    ...fields,
    id,
    correlation_id: fields.correlation_id ?? id,
    time: fields.time ?? new Date(message.info.storedAtMs).toISOString(),
    type: fields.type ?? parts.type,
    topic: parts.topic,
    platform_tenant_id: parts.tenant,
  };
  const parsed = EventEnvelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    return { ok: false, reason: `not a valid event envelope (${issues})` };
  }
  return { ok: true, envelope: parsed.data };
}
