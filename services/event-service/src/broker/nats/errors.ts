import { BrokerUnavailableError, SoormaError } from "@soorma/common";

/**
 * Turn whatever a NATS call threw into the adapter contract's error: Soorma errors pass through, anything else
 * becomes `BrokerUnavailableError` (`SOORMA_ERR_BROKER_UNAVAILABLE`) with the original as `cause`.
 */
export function toBrokerError(error: unknown, what: string): SoormaError {
  if (error instanceof SoormaError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new BrokerUnavailableError(`NATS: ${what} failed: ${detail}`, { cause: error });
}

/**
 * Race `promise` against a deadline. The error is created before waiting so its stack names the caller.
 */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const error = new BrokerUnavailableError(`NATS: ${what} did not finish within ${timeoutMs} ms`);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(error), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
