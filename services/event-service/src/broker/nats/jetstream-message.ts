import type { EventEnvelope } from "@soorma/common";
import type { BrokerMessage } from "../adapter.js";
import type { AckChannel } from "./acks.js";

/**
 * Wrap one pulled JetStream message as a {@link BrokerMessage}. `attempt` is JetStream's delivery count. The
 * first successful `ack`/`nack` settles it; later calls resolve without effect, so a late second settle (a member
 * leaving while its ack is in flight) cannot touch a redelivery that went to someone else. A failed settle leaves
 * the message unsettled and may be retried.
 */
export function createJetStreamMessage(
  envelope: EventEnvelope,
  attempt: number,
  replySubject: string,
  acks: AckChannel,
): BrokerMessage {
  let settled = false;
  return {
    envelope,
    attempt,
    async ack() {
      if (settled) return;
      await acks.ack(replySubject);
      settled = true;
    },
    async nack(delayMs: number) {
      if (settled) return;
      await acks.nak(replySubject, delayMs);
      settled = true;
    },
    async touch() {
      if (settled) return;
      await acks.working(replySubject);
    },
  };
}
