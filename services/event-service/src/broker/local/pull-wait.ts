import type { PullOptions } from "../adapter.js";
import type { WakeNotifier } from "./wake-notifier.js";

/** What one attempt to lease messages from a local inbox found. */
export interface LeaseAttempt<T> {
  /** Messages leased by this attempt, oldest first. */
  readonly messages: T[];
  /**
   * Earliest time (ms since epoch) at which a message that is leased or delayed now becomes visible, or
   * `undefined` when there is none. Only read when `messages` is empty.
   */
  readonly nextVisibleAt: number | undefined;
}

/**
 * The waiting half of `InboxConsumer.pull` for brokers that live in this process (memory, SQLite): try to
 * lease; if nothing is visible, park on the inbox's notifier until a publish or nack wakes it, the earliest
 * lease expiry or delay passes, the wait times out, or `options.signal` / `stop` aborts; then try again.
 * Resolves `[]` on timeout or abort. An error thrown by `tryLease` rejects the pull.
 */
export async function pullWithWait<T>(
  tryLease: () => LeaseAttempt<T>,
  notifier: WakeNotifier,
  options: PullOptions,
  stop: AbortSignal,
): Promise<T[]> {
  const deadline = Date.now() + Math.max(0, options.waitMs);
  // One local signal for "stop waiting", fed by both sources. (AbortSignal.any would do, but a long-lived
  // `stop` would then keep a dependent signal per pull alive on some Node 20 releases.)
  const stopWaiting = new AbortController();
  const abort = (): void => stopWaiting.abort();
  const callerSignal = options.signal;
  if (stop.aborted || callerSignal?.aborted) return [];
  stop.addEventListener("abort", abort, { once: true });
  callerSignal?.addEventListener("abort", abort, { once: true });
  try {
    for (;;) {
      // An aborted pull must not lease: nobody would be there to settle what it took.
      if (stopWaiting.signal.aborted) return [];
      const attempt = tryLease();
      if (attempt.messages.length > 0) return attempt.messages;
      const now = Date.now();
      if (now >= deadline) return [];
      const wakeAt =
        attempt.nextVisibleAt === undefined ? deadline : Math.min(deadline, attempt.nextVisibleAt);
      await notifier.wait(wakeAt, stopWaiting.signal);
    }
  } finally {
    stop.removeEventListener("abort", abort);
    callerSignal?.removeEventListener("abort", abort);
  }
}
