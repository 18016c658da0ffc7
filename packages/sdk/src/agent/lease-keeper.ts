import type { Delivery } from "../client/delivery.js";

/** Shortest renewal interval, so a tiny lease cannot turn into a busy loop. */
const MIN_RENEW_INTERVAL_MS = 10;

/** How often a running handler renews its lease: a third of it, leaving two renewals of slack. */
export function leaseRenewInterval(leaseMs: number): number {
  return Math.max(MIN_RENEW_INTERVAL_MS, Math.floor(leaseMs / 3));
}

/**
 * Send `in_progress` for `delivery` every `leaseMs / 3` until the returned function is called, so a long
 * handler keeps its delivery instead of having it handed to another member. Stops by itself when the
 * delivery's connection is lost (the lease is gone with it).
 */
export function startLeaseKeeper(delivery: Pick<Delivery, "leaseMs" | "inProgress" | "signal">): () => void {
  const timer = setInterval(() => delivery.inProgress(), leaseRenewInterval(delivery.leaseMs));
  // A handler keeps the process alive by itself; the renewal timer must not.
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    delivery.signal.removeEventListener("abort", stop);
  };
  delivery.signal.addEventListener("abort", stop, { once: true });
  return stop;
}
