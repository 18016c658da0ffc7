import type { protos, v1 } from "@google-cloud/pubsub";
import type { PublishBatcher } from "./publish-batcher.js";

/** Attribute naming why a message was moved to the undeliverable topic. */
export const REASON_ATTRIBUTE = "soorma-undeliverable-reason";

/** Attribute naming the subscription a message was moved out of. */
export const SOURCE_ATTRIBUTE = "soorma-source-subscription";

/** What {@link setAsideMessage} needs. */
export interface SetAsideContext {
  readonly batcher: PublishBatcher;
  readonly subscriber: v1.SubscriberClient;
  readonly requestTimeoutMs: number;
}

/**
 * Move a pulled message that can never become an event (not JSON, not an envelope) out of its inbox: publish
 * its data and attributes, plus why and where from, on the tenant's undeliverable topic, then acknowledge it.
 * The core never sees it, so it is neither delivered nor retried. Rejects (leaving the message in the inbox)
 * when either step fails.
 */
export async function setAsideMessage(
  context: SetAsideContext,
  undeliverableTopic: string,
  subscription: string,
  message: protos.google.pubsub.v1.IReceivedMessage,
  reason: string,
): Promise<void> {
  const data = message.message?.data;
  await context.batcher.publish(undeliverableTopic, {
    data: typeof data === "string" ? Buffer.from(data, "base64") : Buffer.from(data ?? new Uint8Array()),
    attributes: {
      ...(message.message?.attributes ?? {}),
      [REASON_ATTRIBUTE]: reason.slice(0, 1000),
      [SOURCE_ATTRIBUTE]: subscription,
    },
  });
  await context.subscriber.acknowledge(
    { subscription, ackIds: [message.ackId ?? ""] },
    { timeout: context.requestTimeoutMs },
  );
}
