import { AuthError } from "@soorma/common";

/**
 * Why authentication failed, sent to the client as `details.reason`. Coarse on purpose: it tells an honest
 * client what to fix (e.g. refresh an expired token) without telling an attacker which part of a forged
 * credential was close.
 */
export type AuthFailureReason =
  /** No credential was presented. */
  | "missing"
  /** More than one credential was presented (header and `hello.auth`, or both fields of `hello.auth`). */
  | "ambiguous"
  /** The credential is not shaped like an API key or a token. */
  | "malformed"
  /** Unknown API key, bad signature, unknown signing key, disallowed algorithm. */
  | "invalid"
  /** The credential was valid once and has expired. */
  | "expired"
  /** The token verified but its claims are unacceptable (issuer, audience, tenant, role, topics). */
  | "claims";

/**
 * An `SOORMA_ERR_UNAUTHENTICATED` error with a message safe to send to the client: it never contains the
 * credential, and `cause` (kept for server logs only) holds the underlying library error.
 */
export function unauthenticated(message: string, reason: AuthFailureReason, cause?: unknown): AuthError {
  return new AuthError("SOORMA_ERR_UNAUTHENTICATED", message, { details: { reason }, cause });
}

/** An `SOORMA_ERR_FORBIDDEN` error: the caller is known but may not do this. */
export function forbidden(message: string, details?: Record<string, unknown>): AuthError {
  return new AuthError("SOORMA_ERR_FORBIDDEN", message, { details });
}
