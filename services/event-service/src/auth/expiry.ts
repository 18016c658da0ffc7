import type { AuthError } from "@soorma/common";
import { forbidden, unauthenticated } from "./auth-errors.js";
import type { Principal } from "./principal.js";

/**
 * WebSocket close code used when a connection's credentials expire (4000–4999 is the application range;
 * 4401 echoes HTTP 401). It is sent after a fatal `error` frame with `SOORMA_ERR_UNAUTHENTICATED` and
 * `details.reason = "expired"`, so a client knows to fetch a fresh token before reconnecting.
 */
export const CREDENTIALS_EXPIRED_CLOSE_CODE = 4401;

/** Longest delay `setTimeout` honours; longer ones fire at once, so long expiries are waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** Options of {@link watchExpiry}. */
export interface WatchExpiryOptions {
  /** Clock (ms since the epoch). @default Date.now */
  now?: () => number;
}

/**
 * Call `onExpire` once when `principal.expiresAt` passes (on the next tick if it already has). Returns a function that
 * stops watching; call it when the connection closes or the principal is replaced after re-authentication.
 * Principals without `expiresAt` are never expired.
 */
export function watchExpiry(
  principal: Principal,
  onExpire: () => void,
  options: WatchExpiryOptions = {},
): () => void {
  const { expiresAt } = principal;
  if (expiresAt === undefined) return () => {};
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    const remaining = expiresAt - now();
    timer = setTimeout(fire, Math.min(Math.max(remaining, 0), MAX_TIMER_MS));
    // An expiry timer alone must not keep the process alive during shutdown.
    timer.unref();
  };
  const fire = () => {
    if (stopped) return;
    if (expiresAt > now()) return schedule();
    stopped = true;
    onExpire();
  };
  // Even an already expired principal is reported from a timer, never during this call, so the caller has
  // finished setting up before `onExpire` runs.
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** The error sent (fatal) to a connection whose credentials just expired. */
export function credentialsExpiredError(): AuthError {
  return unauthenticated("credentials expired; reconnect with a fresh token", "expired");
}

/**
 * Check a re-authentication on a live connection: the new credential must belong to the same platform tenant,
 * because the connection's subscriptions and in-flight deliveries are in that tenant's namespace. Throws
 * `AuthError` `SOORMA_ERR_FORBIDDEN` otherwise.
 */
export function assertSameTenant(current: Principal, next: Principal): void {
  if (current.tenant !== next.tenant) {
    throw forbidden("re-authentication must keep the connection's platform tenant");
  }
}
