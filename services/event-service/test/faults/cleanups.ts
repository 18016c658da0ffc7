import { afterEach } from "vitest";

/** Something a test undoes afterwards: stop a process, close a client. */
export type Cleanup = () => Promise<unknown>;

/**
 * Register an `afterEach` (call it inside `describe`) that runs what the test pushed onto the returned list, last
 * pushed first, ignoring failures: a fault test leaves processes already dead, and stopping them again must not
 * fail it or skip the cleanups after.
 */
export function cleanupAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  return cleanups;
}
