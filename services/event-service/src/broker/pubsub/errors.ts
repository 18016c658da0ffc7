import { BrokerUnavailableError, SoormaError } from "@soorma/common";

/**
 * gRPC status codes the adapter branches on (the numbers are fixed by gRPC; `google-gax` is not a direct
 * dependency, so they are spelled out here).
 */
export const GrpcStatus = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  UNAVAILABLE: 14,
} as const;

/**
 * The gRPC status code of an error thrown by the Pub/Sub client, if it carries one; errors this adapter wrapped
 * (see {@link toBrokerError}) are looked through to their cause.
 */
export function grpcCodeOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; depth < 5; depth++) {
    if (typeof current !== "object" || current === null) return undefined;
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === "number") return code;
    current = cause;
  }
  return undefined;
}

/** True when the client says the resource does not exist. */
export function isNotFound(error: unknown): boolean {
  return grpcCodeOf(error) === GrpcStatus.NOT_FOUND;
}

/** True when a create call found the resource already there. */
export function isAlreadyExists(error: unknown): boolean {
  return grpcCodeOf(error) === GrpcStatus.ALREADY_EXISTS;
}

/** True when the call ran out of time (for a waiting pull: no message came). */
export function isDeadlineExceeded(error: unknown): boolean {
  return grpcCodeOf(error) === GrpcStatus.DEADLINE_EXCEEDED;
}

/** True when the caller lacks an IAM permission (the resource may still exist). */
export function isPermissionDenied(error: unknown): boolean {
  return grpcCodeOf(error) === GrpcStatus.PERMISSION_DENIED;
}

/**
 * Turn whatever a Pub/Sub call threw into the adapter contract's error: Soorma errors pass through, anything
 * else becomes `BrokerUnavailableError` (`SOORMA_ERR_BROKER_UNAVAILABLE`) with the original as `cause` and the
 * gRPC code in `details`.
 */
export function toBrokerError(error: unknown, what: string): SoormaError {
  if (error instanceof SoormaError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const grpcCode = grpcCodeOf(error);
  return new BrokerUnavailableError(`Pub/Sub: ${what} failed: ${detail}`, {
    cause: error,
    ...(grpcCode === undefined ? {} : { details: { grpcCode } }),
  });
}
