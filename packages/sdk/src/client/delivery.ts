import type { ClientFrameInput, DeliveryFrame, EventEnvelope } from "@soorma/common";
import type { Logger } from "../logger.js";

/** Options of {@link Delivery.nack}. */
export interface NackOptions {
  /** Redeliver after this long. @default the gateway's backoff */
  delayMs?: number;
  /** Why the handler failed; kept with the event if it is dead-lettered. */
  error?: { message: string; code?: string };
}

/** A delivery handed to a raw subscriber. Settle it exactly once with ack() or nack(). */
export interface Delivery {
  /** Server-issued handle of this delivery. */
  readonly deliveryId: string;
  readonly topic: string;
  /** 1 on first delivery, +1 per redelivery. */
  readonly attempt: number;
  /** Deliveries before the event is dead-lettered. */
  readonly maxAttempts: number;
  /** The delivery goes to another member unless settled or renewed (inProgress) within this time. */
  readonly leaseMs: number;
  readonly event: EventEnvelope;
  /** The event is handled: remove it from the group's inbox. */
  ack(): void;
  /** The handler failed: redeliver later, or dead-letter after maxAttempts. */
  nack(options?: NackOptions): void;
  /** Still working: renew the lease. */
  inProgress(): void;
  /** Aborted when the connection this delivery came on is lost (it will be redelivered elsewhere). */
  readonly signal: AbortSignal;
}

/** The connection a delivery came on, as the delivery sees it. */
export interface DeliveryChannel {
  /** Aborted when the connection ends. */
  readonly signal: AbortSignal;
  /** Send a frame on this very connection (never on a later one: delivery ids are per connection). */
  send(frame: ClientFrameInput): void;
}

type NackFrameInput = Extract<ClientFrameInput, { type: "nack" }>;

/** Wire limits of the nack frame (protocol.ts). */
const MAX_NACK_DELAY_MS = 86_400_000;
const MAX_ERROR_MESSAGE = 4096;
const MAX_ERROR_CODE = 128;

/**
 * Wrap a delivery frame. Settling twice is ignored with a warning; settling after the connection dropped is
 * dropped silently (debug log) because the gateway has already handed the event to another member.
 */
export function createDelivery(frame: DeliveryFrame, channel: DeliveryChannel, logger: Logger): Delivery {
  let settled = false;
  const fields = { delivery_id: frame.delivery_id, event_id: frame.event.id, topic: frame.topic };

  const settle = (kind: "ack" | "nack", build: () => ClientFrameInput): void => {
    if (settled) {
      logger.warn(`${kind} ignored: delivery already settled`, fields);
      return;
    }
    settled = true;
    if (channel.signal.aborted) {
      logger.debug(
        `${kind} dropped: the connection of this delivery is gone; the gateway redelivers it`,
        fields,
      );
      return;
    }
    channel.send(build());
  };

  return {
    deliveryId: frame.delivery_id,
    topic: frame.topic,
    attempt: frame.attempt,
    maxAttempts: frame.max_attempts,
    leaseMs: frame.lease_ms,
    event: frame.event,
    signal: channel.signal,
    ack: () => settle("ack", () => ({ type: "ack", delivery_id: frame.delivery_id })),
    nack: (options = {}) =>
      settle("nack", () => {
        const nack: NackFrameInput = { type: "nack", delivery_id: frame.delivery_id };
        if (options.delayMs !== undefined) {
          nack.delay_ms = Math.min(MAX_NACK_DELAY_MS, Math.max(0, Math.round(options.delayMs)));
        }
        if (options.error !== undefined) {
          const error: { message: string; code?: string } = {
            message: options.error.message.slice(0, MAX_ERROR_MESSAGE),
          };
          if (options.error.code !== undefined) error.code = options.error.code.slice(0, MAX_ERROR_CODE);
          nack.error = error;
        }
        return nack;
      }),
    inProgress: () => {
      if (settled || channel.signal.aborted) return;
      channel.send({ type: "in_progress", delivery_id: frame.delivery_id });
    },
  };
}
