/** Longest request or delivery id echoed back from a frame that failed to decode. */
const MAX_ECHOED_ID_LENGTH = 128;

/** How much of a frame {@link peekIds} looks at: encoders put the ids before the (large) event. */
const PEEK_CHARS = 512;

const REQ_ID = /"req_id"\s*:\s*"([^"\\]{1,128})"/;
const DELIVERY_ID = /"delivery_id"\s*:\s*"([^"\\]{1,128})"/;

/** Ids to echo in an error frame so the client can tell which request failed. */
export interface ErrorContext {
  reqId?: string | undefined;
  deliveryId?: string | undefined;
}

/** Best-effort `req_id` / `delivery_id` of a small frame that failed to decode (parses it as JSON). */
export function idsOf(text: string): ErrorContext {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof raw !== "object" || raw === null) return {};
  const record = raw as Record<string, unknown>;
  return { reqId: shortString(record.req_id), deliveryId: shortString(record.delivery_id) };
}

/**
 * Best-effort ids of a frame that is refused without being decoded (too large, over the rate limit): a scan of
 * its first characters only, so that answering a refused frame costs little whatever its size. Ids with
 * escapes or beyond the first few hundred characters are not found; the error then carries no id.
 */
export function peekIds(text: string): ErrorContext {
  const head = text.slice(0, PEEK_CHARS);
  return { reqId: REQ_ID.exec(head)?.[1], deliveryId: DELIVERY_ID.exec(head)?.[1] };
}

function shortString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ECHOED_ID_LENGTH
    ? value
    : undefined;
}
