import type { EventEnvelope } from "@soorma/common";
import type { BrokerMessage } from "../adapter.js";

/** How a local broker settles one lease. Each call is made at most once per message, never after a settle. */
export interface LeaseOperations {
  ack(): void;
  nack(delayMs: number): void;
  touch(): void;
}

/**
 * Wrap one lease of a local inbox (memory, SQLite) as a {@link BrokerMessage}. The first `ack`/`nack` settles
 * it; later calls on the same message resolve without effect, so a caller that settles twice (e.g. a member
 * disconnecting while its ack is in flight) cannot ack a lease that was since handed to someone else.
 * Operations run synchronously; a thrown error becomes a rejected promise.
 */
export function createLeasedMessage(
  envelope: EventEnvelope,
  attempt: number,
  operations: LeaseOperations,
): BrokerMessage {
  let settled = false;
  return {
    envelope,
    attempt,
    async ack() {
      if (settled) return;
      operations.ack();
      settled = true;
    },
    async nack(delayMs: number) {
      if (settled) return;
      operations.nack(Math.max(0, delayMs));
      settled = true;
    },
    async touch() {
      if (settled) return;
      operations.touch();
    },
  };
}
