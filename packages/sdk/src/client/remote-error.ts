import { type ErrorCode, type ErrorFrame, isErrorCode, RemoteError, type SoormaError } from "@soorma/common";
import type { PublishRefusal } from "./publish-window.js";

/**
 * Codes after which reconnecting cannot help: the credentials, the identity or the protocol version are wrong
 * and would be refused again. A fatal error frame with one of them closes the client for good.
 */
export const TERMINAL_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "SOORMA_ERR_UNAUTHENTICATED",
  "SOORMA_ERR_FORBIDDEN",
  "SOORMA_ERR_PROTOCOL_VERSION",
  "SOORMA_ERR_AGENT_NAME_INVALID",
  "SOORMA_ERR_HELLO_REQUIRED",
  "SOORMA_ERR_HELLO_REPEATED",
]);

/**
 * Rebuild the error an `error` frame carries, keeping the server's code so callers can branch on it. A code this
 * SDK version does not know becomes `SOORMA_ERR_INTERNAL`, with the original in `details.remote_code`.
 */
export function remoteErrorFromFrame(frame: ErrorFrame): RemoteError {
  const details: Record<string, unknown> = {};
  if (frame.details !== undefined) details.remote = frame.details;
  if (frame.req_id !== undefined) details.req_id = frame.req_id;
  if (frame.delivery_id !== undefined) details.delivery_id = frame.delivery_id;
  if (isErrorCode(frame.code)) return new RemoteError(frame.code, frame.message, { details });
  details.remote_code = frame.code;
  return new RemoteError("SOORMA_ERR_INTERNAL", frame.message, { details });
}

/**
 * The `details.reason` of an authentication failure (`"expired"`, `"invalid"` …), whether it came in an
 * `error` frame (`details.remote.reason`) or in the body of a refused upgrade (`details.reason`).
 */
export function authFailureReason(error: SoormaError): string | undefined {
  if (error.code !== "SOORMA_ERR_UNAUTHENTICATED") return undefined;
  const details = error.details as { reason?: unknown; remote?: { reason?: unknown } } | undefined;
  const reason = details?.reason ?? details?.remote?.reason;
  return typeof reason === "string" ? reason : undefined;
}

/**
 * True for the fatal `SOORMA_ERR_HELLO_REQUIRED` a gateway sends when no `hello` arrived in time: unlike a
 * frame sent before `hello` (a client bug), a late `hello` (a stalled process) is fixed by reconnecting.
 */
export function isHelloTimeout(error: SoormaError): boolean {
  if (error.code !== "SOORMA_ERR_HELLO_REQUIRED") return false;
  const remote = (error.details as { remote?: { limit?: unknown } } | undefined)?.remote;
  return remote?.limit === "helloTimeoutMs";
}

/**
 * The refusal an error answering a publish stands for when it only means "not now": too many publishes pending
 * on the connection (`SOORMA_ERR_LIMIT_EXCEEDED`) or too many frames (`SOORMA_ERR_RATE_LIMITED`). The gateway
 * stored nothing, so the publish is sent again rather than failed. Undefined for every other error.
 */
export function publishRefusalOf(error: SoormaError): PublishRefusal | undefined {
  let reason: PublishRefusal["reason"];
  if (error.code === "SOORMA_ERR_LIMIT_EXCEEDED") reason = "too-many-pending";
  else if (error.code === "SOORMA_ERR_RATE_LIMITED") reason = "rate-limited";
  else return undefined;
  const remote = (error.details as { remote?: { retry_after_ms?: unknown } } | undefined)?.remote;
  const retryAfter = remote?.retry_after_ms;
  return typeof retryAfter === "number" && retryAfter >= 0
    ? { reason, retryAfterMs: retryAfter }
    : { reason };
}
