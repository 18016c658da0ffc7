import { type EventEnvelope, EventEnvelopeSchema, ValidationError } from "@soorma/common";

/**
 * Validate the body of `POST /v1/events/publish` (`{ "event": EventEnvelopeInput }`) and complete the envelope's
 * defaults. Same codes as a WebSocket `publish` frame: a bad `topic` / `response_topic` is
 * `SOORMA_ERR_TOPIC_INVALID`, anything else `SOORMA_ERR_ENVELOPE_INVALID`; `details` lists each issue.
 *
 * @throws ValidationError
 */
export function parsePublishBody(body: unknown): EventEnvelope {
  if (typeof body !== "object" || body === null || Array.isArray(body) || !("event" in body)) {
    throw new ValidationError(
      "SOORMA_ERR_ENVELOPE_INVALID",
      'the body must be a JSON object { "event": { ...envelope } }',
    );
  }
  const parsed = EventEnvelopeSchema.safeParse((body as { event: unknown }).event);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({
    path: ["event", ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  const summary = details.map((d) => `${d.path}: ${d.message}`).join("; ");
  const topicIssue = parsed.error.issues.some((issue) => {
    const last = issue.path.at(-1);
    return last === "topic" || last === "response_topic";
  });
  return topicIssue
    ? throwValidation("SOORMA_ERR_TOPIC_INVALID", `invalid topic: ${summary}`, details)
    : throwValidation("SOORMA_ERR_ENVELOPE_INVALID", `invalid event envelope: ${summary}`, details);
}

function throwValidation(
  code: "SOORMA_ERR_TOPIC_INVALID" | "SOORMA_ERR_ENVELOPE_INVALID",
  message: string,
  details: unknown,
): never {
  throw new ValidationError(code, message, { details });
}
