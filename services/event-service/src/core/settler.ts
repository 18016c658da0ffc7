import type { BrokerAdapter, BrokerMessage, InboxKey } from "../broker/adapter.js";
import { buildDeadLetter, buildFailureNotice, type FailedEvent, type LastError } from "./dead-letter.js";
import type { CoreLogger } from "./logger.js";
import type { RetryPolicy } from "./retry-policy.js";

/** How many last-error entries are remembered for dead letters of events whose member vanished. */
const LAST_ERROR_CAPACITY = 10_000;

/** Options of {@link Settler}. */
export interface SettlerOptions {
  readonly adapter: BrokerAdapter;
  readonly policy: RetryPolicy;
  readonly logger: CoreLogger;
}

/** What a nack asks for. */
export interface RetryRequest {
  /** Wait this long before redelivery instead of the policy's backoff. */
  readonly delayMs?: number;
  /** Why the handler failed; kept for the dead letter. */
  readonly error?: LastError;
}

/**
 * Settles broker messages: ack, retry with backoff, or dead-letter. Broker failures here are logged, never
 * thrown, because nobody could act on them: a message whose ack or nack failed stays leased in the broker and is
 * redelivered when its lease expires (at-least-once).
 */
export class Settler {
  private readonly adapter: BrokerAdapter;
  private readonly policy: RetryPolicy;
  private readonly logger: CoreLogger;
  // Last failure per event, so that an event dead-lettered after its member vanished still says why it failed.
  private readonly lastErrors = new Map<string, LastError>();

  constructor(options: SettlerOptions) {
    this.adapter = options.adapter;
    this.policy = options.policy;
    this.logger = options.logger;
  }

  /** The member handled it: remove it from the inbox. */
  async ack(message: BrokerMessage, key: InboxKey): Promise<void> {
    this.lastErrors.delete(errorKey(key, message));
    await this.attempt("ack", message, key, () => message.ack());
  }

  /**
   * Give the message back for immediate redelivery (member left, lease expired, gateway draining). `reason`
   * becomes the dead letter's `last_error` should this turn out to have been the last attempt.
   */
  async release(message: BrokerMessage, key: InboxKey, reason: LastError): Promise<void> {
    this.remember(key, message, reason);
    await this.attempt("nack", message, key, () => message.nack(0));
  }

  /** Extend the broker-side lease while the member keeps working. */
  async touch(message: BrokerMessage, key: InboxKey): Promise<void> {
    await this.attempt("touch", message, key, () => message.touch());
  }

  /** The member's handler failed: retry after a delay, or dead-letter on the last attempt. */
  async retry(message: BrokerMessage, key: InboxKey, request: RetryRequest): Promise<void> {
    const lastError = request.error ?? { message: "handler failed (no error given)" };
    if (this.policy.isFinalAttempt(message.attempt)) {
      await this.deadLetter(message, key, lastError);
      return;
    }
    this.remember(key, message, lastError);
    const delayMs = request.delayMs ?? this.policy.backoffMs(message.attempt);
    await this.attempt("nack", message, key, () => message.nack(delayMs));
  }

  /** A pulled event that nobody in the group handles: acknowledged without delivery, never retried. */
  async ackUnhandled(message: BrokerMessage, key: InboxKey): Promise<void> {
    this.logger.debug(
      { ...key, eventId: message.envelope.id, eventType: message.envelope.type },
      "no member of the group handles this event type; acknowledged without delivery",
    );
    await this.ack(message, key);
  }

  /**
   * Publish the dead letter (and, for `action-requests`, the requester's failure notice), then ack the
   * original. When the broker refuses, the original is nacked with backoff so it comes back and is
   * dead-lettered again; the derived ids make the second try a duplicate, not a second dead letter.
   *
   * @param attempts - deliveries made: `message.attempt` after a failed delivery, `message.attempt − 1` for a
   *   message pulled past the limit (that pull is not a delivery)
   */
  async deadLetter(
    message: BrokerMessage,
    key: InboxKey,
    lastError?: LastError,
    attempts: number = message.attempt,
  ): Promise<void> {
    const failed: FailedEvent = {
      event: message.envelope,
      tenant: key.tenant,
      group: key.group,
      topic: key.topic,
      attempts,
      lastError: lastError ??
        this.lastErrors.get(errorKey(key, message)) ?? {
          message: "delivery attempts exhausted without a result",
        },
    };
    try {
      await this.adapter.publish(buildDeadLetter(failed));
      const notice = buildFailureNotice(failed);
      if (notice !== undefined) await this.adapter.publish(notice);
    } catch (error) {
      this.logger.error(
        { ...key, eventId: message.envelope.id, err: error },
        "could not publish dead letter; the event will be retried",
      );
      await this.attempt("nack", message, key, () => message.nack(this.policy.backoffMs(message.attempt)));
      return;
    }
    this.logger.warn(
      { ...key, eventId: message.envelope.id, attempts: message.attempt, lastError: failed.lastError },
      "event dead-lettered",
    );
    await this.ack(message, key);
  }

  private remember(key: InboxKey, message: BrokerMessage, error: LastError): void {
    const id = errorKey(key, message);
    this.lastErrors.delete(id);
    this.lastErrors.set(id, error);
    if (this.lastErrors.size > LAST_ERROR_CAPACITY) {
      const oldest = this.lastErrors.keys().next();
      if (!oldest.done) this.lastErrors.delete(oldest.value);
    }
  }

  private async attempt(
    operation: string,
    message: BrokerMessage,
    key: InboxKey,
    run: () => Promise<void>,
  ): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.logger.warn(
        { ...key, eventId: message.envelope.id, operation, err: error },
        "broker refused to settle a message; its lease will expire and it will be redelivered",
      );
    }
  }
}

function errorKey(key: InboxKey, message: BrokerMessage): string {
  return [key.tenant, key.group, key.topic, message.envelope.id].join("\u0000");
}
