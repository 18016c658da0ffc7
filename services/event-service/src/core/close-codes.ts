import type { ErrorCode } from "@soorma/common";
import { CREDENTIALS_EXPIRED_CLOSE_CODE } from "../auth/expiry.js";

/**
 * WebSocket close codes the gateway sends. Codes 4000–4999 belong to the application; ours echo the HTTP status
 * of the error that ended the connection, so a client can tell "fix your credentials" from "slow down" from the
 * close code alone. The fatal `error` frame sent just before the close carries the exact `code` and `details`.
 */
export const CLOSE_CODES = {
  /** The server drains and goes away (standard code). */
  goingAway: 1001,
  /** An unexpected server error, e.g. token signing keys could not be fetched (standard code). */
  internalError: 1011,
  /** `SOORMA_ERR_UNAUTHENTICATED`: credentials missing, invalid, or expired on the live connection. */
  unauthenticated: CREDENTIALS_EXPIRED_CLOSE_CODE,
  /** `SOORMA_ERR_FORBIDDEN`: the credentials may not use this agent name. */
  forbidden: 4403,
  /** `SOORMA_ERR_HELLO_REQUIRED`: no `hello` within the hello timeout. */
  helloTimeout: 4408,
  /** `SOORMA_ERR_RATE_LIMITED` / `SOORMA_ERR_LIMIT_EXCEEDED`: a limit ended the connection. */
  limit: 4429,
} as const;

/** The close code that goes with a fatal error of `code`. */
export function closeCodeFor(code: ErrorCode): number {
  switch (code) {
    case "SOORMA_ERR_UNAUTHENTICATED":
      return CLOSE_CODES.unauthenticated;
    case "SOORMA_ERR_FORBIDDEN":
      return CLOSE_CODES.forbidden;
    case "SOORMA_ERR_HELLO_REQUIRED":
      return CLOSE_CODES.helloTimeout;
    case "SOORMA_ERR_RATE_LIMITED":
    case "SOORMA_ERR_LIMIT_EXCEEDED":
      return CLOSE_CODES.limit;
    default:
      return CLOSE_CODES.internalError;
  }
}
