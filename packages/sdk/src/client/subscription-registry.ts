import { ClientClosedError, type DeliveryFrame, type SoormaError, type TopicName } from "@soorma/common";
import type { ClientContext } from "./client-context.js";
import type { Connection } from "./connection.js";
import { createDelivery, type Delivery } from "./delivery.js";
import type { CallOptions } from "./publish-options.js";
import { assertTopicName, normaliseEventTypes, type Subscription } from "./subscriptions.js";

/**
 * The topics a client receives, by topic: subscribing and unsubscribing, the gateway's answers to both, renewing
 * every subscription on a new connection, and routing each delivery to its topic's callback.
 */
export class SubscriptionRegistry {
  readonly #context: ClientContext;
  readonly #byTopic = new Map<string, Subscription>();

  constructor(context: ClientContext) {
    this.#context = context;
  }

  /**
   * Register `topic` (replacing an earlier subscription of it), send the subscribe now if a connection can take
   * it (otherwise the next welcome does), and resolve once the gateway confirmed it.
   * @throws ValidationError for an invalid topic or event type; TimeoutError; RemoteError with the gateway's code.
   */
  async subscribe(
    topic: TopicName,
    eventTypes: readonly string[] | "*",
    onDelivery: (delivery: Delivery) => void,
    call: CallOptions,
  ): Promise<void> {
    assertTopicName(topic);
    const types = normaliseEventTypes(eventTypes);
    const reqId = this.#context.nextRequestId("s");
    const subscription: Subscription = { topic, eventTypes: types, onDelivery, pendingReqId: reqId };
    this.#byTopic.set(topic, subscription);
    const confirmed = this.#context.requests.track<void>(reqId, {
      timeoutMs: call.timeout ?? this.#context.requestTimeoutMs,
      signal: call.signal,
      what: `subscribe to ${topic}`,
      onCancel: () => this.#abandon(subscription),
    });
    const connection = this.#context.connectionForNewWork();
    if (connection !== undefined) sendSubscribe(connection, subscription, reqId);
    await confirmed;
  }

  /** Forget `topic` and tell the gateway, if a welcomed connection is open; see EventBusClient.unsubscribe. */
  async unsubscribe(topic: TopicName, call: CallOptions): Promise<void> {
    if (!this.#byTopic.delete(topic)) return;
    const connection = this.#context.welcomedConnection();
    if (connection === undefined) return;
    const reqId = this.#context.nextRequestId("u");
    const done = this.#context.requests.track<void>(reqId, {
      timeoutMs: call.timeout ?? this.#context.requestTimeoutMs,
      signal: call.signal,
      what: `unsubscribe from ${topic}`,
    });
    connection.send({ type: "unsubscribe", req_id: reqId, topic });
    try {
      await done;
    } catch (error) {
      // Either way the topic is no longer received here; only a real failure is worth reporting.
      const code = (error as SoormaError).code;
      if (code === "SOORMA_ERR_NOT_SUBSCRIBED" || code === "SOORMA_ERR_DRAINING") return;
      throw error;
    }
  }

  /** The gateway answered `subscribed` to `reqId`: the subscription is in place and its caller is settled. */
  confirmed(reqId: string): void {
    const subscription = this.#pendingWith(reqId);
    if (subscription !== undefined) subscription.pendingReqId = undefined;
    this.#context.requests.resolve(reqId, undefined);
  }

  /**
   * The gateway refused request `reqId`. When it was a pending subscribe refused for draining, the refusal is
   * absorbed (true): the next connection sends the subscribe again and its caller keeps waiting. A subscribe
   * refused for another reason is forgotten; the caller (false) then fails the request.
   */
  absorbsRefusal(reqId: string, error: SoormaError): boolean {
    const subscription = this.#pendingWith(reqId);
    if (subscription === undefined) return false;
    if (error.code === "SOORMA_ERR_DRAINING") return true;
    this.#byTopic.delete(subscription.topic);
    return false;
  }

  /** Renew every subscription on a newly welcomed connection, in the order they were made. */
  resubscribeAll(connection: Connection): void {
    for (const subscription of this.#byTopic.values()) this.#resubscribe(connection, subscription);
  }

  /** Hand a delivery to its topic's callback; one nobody takes goes back to the gateway at once. */
  dispatch(connection: Connection, frame: DeliveryFrame): void {
    const { log } = this.#context;
    const delivery = createDelivery(frame, connection, log);
    const subscription = this.#byTopic.get(frame.topic);
    if (subscription === undefined) {
      // Arrived after unsubscribe: hand it back at once so another member gets it.
      log.debug("delivery for a topic no longer subscribed; returned", { topic: frame.topic });
      delivery.nack({ delayMs: 0 });
      return;
    }
    try {
      subscription.onDelivery(delivery);
    } catch (error) {
      log.error("delivery callback threw; delivery nacked", { topic: frame.topic, error });
      delivery.nack({ error: { message: error instanceof Error ? error.message : String(error) } });
    }
  }

  /** Forget every subscription (the client closed or failed). */
  clear(): void {
    this.#byTopic.clear();
  }

  #pendingWith(reqId: string): Subscription | undefined {
    return [...this.#byTopic.values()].find((s) => s.pendingReqId === reqId);
  }

  /** Renew a subscription on a new connection; a caller still waiting keeps its request id. */
  #resubscribe(connection: Connection, subscription: Subscription): void {
    if (subscription.pendingReqId !== undefined) {
      sendSubscribe(connection, subscription, subscription.pendingReqId);
      return;
    }
    const { requests, log, requestTimeoutMs } = this.#context;
    const reqId = this.#context.nextRequestId("s");
    requests
      .track<void>(reqId, { timeoutMs: requestTimeoutMs, what: `re-subscribe to ${subscription.topic}` })
      .catch((error: unknown) => {
        if (error instanceof ClientClosedError) return;
        log.error("re-subscribe failed; retried on the next connection", {
          topic: subscription.topic,
          error,
        });
      });
    sendSubscribe(connection, subscription, reqId);
  }

  /** A subscribe the caller gave up on: forget it, and tell the gateway in case it got through. */
  #abandon(subscription: Subscription): void {
    if (this.#byTopic.get(subscription.topic) !== subscription) return;
    this.#byTopic.delete(subscription.topic);
    const connection = this.#context.connectionForNewWork();
    if (connection === undefined) return;
    const reqId = this.#context.nextRequestId("u");
    this.#context.requests
      .track<void>(reqId, {
        timeoutMs: this.#context.requestTimeoutMs,
        what: `unsubscribe ${subscription.topic}`,
      })
      .catch(() => {});
    connection.send({ type: "unsubscribe", req_id: reqId, topic: subscription.topic });
  }
}

function sendSubscribe(connection: Connection, subscription: Subscription, reqId: string): void {
  connection.send({
    type: "subscribe",
    req_id: reqId,
    topic: subscription.topic,
    event_types: [...subscription.eventTypes],
  });
}
