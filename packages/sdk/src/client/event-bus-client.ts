import {
  ClientClosedError,
  type DeliveryFrame,
  type ErrorFrame,
  encodeFrame,
  LimitError,
  PROTOCOL_VERSION,
  type ServerFrame,
  type SoormaError,
  type TopicName,
  type WelcomeFrame,
} from "@soorma/common";
import type { Logger } from "../logger.js";
import { SDK_CLIENT_NAME } from "../version.js";
import { backoffDelay } from "./backoff.js";
import { Connection, type ConnectionOutcome } from "./connection.js";
import { createDelivery, type Delivery } from "./delivery.js";
import { type EventBusClientOptions, type ResolvedClientOptions, resolveClientOptions } from "./options.js";
import { type PendingPublish, PublishBuffer } from "./publish-buffer.js";
import {
  buildEnvelope,
  type CallOptions,
  type PublishOptions,
  type PublishResult,
} from "./publish-options.js";
import { PublishWindow } from "./publish-window.js";
import {
  authFailureReason,
  isHelloTimeout,
  publishRefusalOf,
  remoteErrorFromFrame,
  TERMINAL_ERROR_CODES,
} from "./remote-error.js";
import { RequestTracker } from "./request-tracker.js";
import { type ClientStatus, type StatusChange, StatusTracker } from "./status.js";
import { assertTopicName, normaliseEventTypes, type Subscription } from "./subscriptions.js";

/** Options of {@link EventBusClient.close}. */
export interface CloseOptions {
  /** Wait at most this long for buffered publishes to be confirmed. @default 5000 */
  timeout?: number;
}

/** Default of {@link CloseOptions.timeout}. */
const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

/** Ping interval that detects a gateway that vanished without closing the socket. */
const KEEPALIVE_INTERVAL_MS = 15_000;

/**
 * Reconnecting WebSocket client of the Soorma Event Service.
 *
 * After connect() it stays connected: when the connection drops it reconnects forever with exponential backoff
 * and jitter, says hello again, re-subscribes every topic and re-sends every unconfirmed publish (same event
 * id, so the gateway stores it once). Publishes made while offline are buffered and sent, in order, once the
 * gateway is back. At most `maxInFlightPublishes` publish frames are unanswered at a time; a publish the gateway
 * refuses for now (too many pending, rate limited) is queued again in its place and sent later, never failed for
 * it. Only fatal errors that a retry cannot fix (bad credentials, unsupported protocol version) and close() end
 * it.
 *
 * @example
 * const client = new EventBusClient({ agentName: "billing" });
 * await client.connect();
 * await client.publish({ event_type: "invoice.sent", topic: EventTopic.BUSINESS_FACTS, data: { id: 7 } });
 * await client.close();
 */
export class EventBusClient {
  /** Unique id of this member. */
  readonly agentId: string;
  /** Consumer group; undefined means the gateway uses the agent id. */
  readonly agentName: string | undefined;

  readonly #options: ResolvedClientOptions;
  readonly #log: Logger;
  readonly #status: StatusTracker;
  readonly #requests = new RequestTracker();
  readonly #publishes: PublishBuffer;
  readonly #publishWindow: PublishWindow;
  readonly #subscriptions = new Map<string, Subscription>();
  /** Callers of connect() waiting for a `welcome`. */
  readonly #connectWaiters = new RequestTracker();
  readonly #bufferEmptyWaiters = new Set<() => void>();

  #connection: Connection | undefined;
  #welcome: WelcomeFrame | undefined;
  #connectionSeq = 0;
  #requestSeq = 0;
  /** Failed connection attempts since the last `welcome`; drives the backoff. */
  #failedAttempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Ends the pause in sending publishes after the gateway refused one for now. */
  #publishResumeTimer: NodeJS.Timeout | undefined;
  /** True from connect() until close() or a fatal error: the client keeps (re)connecting. */
  #running = false;
  #everConnected = false;
  #closing = false;
  #closePromise: Promise<void> | undefined;
  #fatalError: SoormaError | undefined;

  /** @throws ValidationError / ConfigError for invalid options (see {@link EventBusClientOptions}). */
  constructor(options: EventBusClientOptions = {}) {
    this.#options = resolveClientOptions(options);
    this.agentId = this.#options.agentId;
    this.agentName = this.#options.agentName;
    this.#log = this.#options.logger;
    this.#publishes = new PublishBuffer(this.#options.maxBufferedPublishes);
    this.#publishWindow = new PublishWindow(this.#options.maxInFlightPublishes);
    this.#status = new StatusTracker((error) => this.#log.error("status listener threw", { error }));
  }

  /** Current connection status. */
  get status(): ClientStatus {
    return this.#status.current;
  }

  /** The `welcome` of the current connection (lease, max attempts, limits), while connected. */
  get session(): WelcomeFrame | undefined {
    return this.#welcome;
  }

  /**
   * Connect and resolve at the first `welcome`; from then on the client reconnects by itself. Failed attempts
   * are retried with backoff until the deadline.
   *
   * @throws TimeoutError when no connection was welcomed in time (the client goes back to `idle`);
   * AuthError / RemoteError for fatal refusals (`SOORMA_ERR_UNAUTHENTICATED`, `SOORMA_ERR_PROTOCOL_VERSION` …),
   * after which the client is closed; ClientClosedError after close(); `signal.reason` when aborted.
   */
  connect(options: CallOptions = {}): Promise<void> {
    const unusable = this.#unusableError();
    if (unusable !== undefined) return Promise.reject(unusable);
    if (this.#welcome !== undefined) return Promise.resolve();
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const timeoutMs = options.timeout ?? this.#options.requestTimeoutMs;
    const connected = this.#connectWaiters.track<void>(this.#nextRequestId("c"), {
      timeoutMs,
      signal: options.signal,
      what: `connection to ${this.#options.url}`,
      onCancel: () => this.#stopIfNobodyWaits(),
    });
    if (!this.#running) {
      this.#running = true;
      this.#status.set(this.#everConnected ? "reconnecting" : "connecting");
      void this.#openConnection();
    }
    return connected;
  }

  /**
   * Publish an event and resolve once the gateway stored it. While offline the publish is buffered and sent after
   * reconnecting; a publish whose connection dropped before the answer is re-sent with the same id, so the gateway
   * stores it once. Publishes go out in the order they were made, at most `maxInFlightPublishes` unanswered at a
   * time; one the gateway refuses for now (`SOORMA_ERR_LIMIT_EXCEEDED`, `SOORMA_ERR_RATE_LIMITED`) is sent again.
   *
   * @throws ValidationError for an invalid envelope or topic (nothing is sent); LimitError
   * `SOORMA_ERR_LIMIT_EXCEEDED` when maxBufferedPublishes publishes already wait; TimeoutError when not confirmed in
   * time (it counts while buffered and while refused for now); RemoteError with the gateway's code when it refused
   * the event for good;
   * ClientClosedError when the client closed first.
   */
  async publish(options: PublishOptions, call: CallOptions = {}): Promise<PublishResult> {
    const unusable = this.#unusableError();
    if (unusable !== undefined) throw unusable;
    const event = buildEnvelope(options, this.agentName ?? this.agentId);
    const reqId = this.#nextRequestId("p");
    this.#publishes.add(reqId, event);
    const result = this.#requests.track<PublishResult>(reqId, {
      timeoutMs: call.timeout ?? this.#options.requestTimeoutMs,
      signal: call.signal,
      what: `publish of ${event.type} (${event.id}) on ${event.topic}`,
      onCancel: () => this.#forgetPublish(reqId),
    });
    this.#sendWaitingPublishes();
    return result;
  }

  /**
   * Receive `topic`'s events of the given types (or `"*"` for all) and resolve once the gateway confirmed the
   * subscription, i.e. the group's inbox exists and events are kept for it from now on. The subscription is
   * renewed on every reconnect. Subscribing a topic again replaces its event types and callback.
   *
   * @throws ValidationError for an invalid topic or event type; TimeoutError; RemoteError with the gateway's code.
   */
  async subscribe(
    topic: TopicName,
    eventTypes: readonly string[] | "*",
    onDelivery: (delivery: Delivery) => void,
    call: CallOptions = {},
  ): Promise<void> {
    const unusable = this.#unusableError();
    if (unusable !== undefined) throw unusable;
    assertTopicName(topic);
    const types = normaliseEventTypes(eventTypes);
    const reqId = this.#nextRequestId("s");
    const subscription: Subscription = { topic, eventTypes: types, onDelivery, pendingReqId: reqId };
    this.#subscriptions.set(topic, subscription);
    const confirmed = this.#requests.track<void>(reqId, {
      timeoutMs: call.timeout ?? this.#options.requestTimeoutMs,
      signal: call.signal,
      what: `subscribe to ${topic}`,
      onCancel: () => this.#abandonSubscription(subscription),
    });
    if (this.#canSendNow()) this.#sendSubscribe(this.#connection!, subscription, reqId);
    await confirmed;
  }

  /**
   * Stop receiving `topic` on this connection (the group's inbox is kept: events keep arriving for the other
   * members, or wait for the next one). Resolves at once when offline or not subscribed.
   */
  async unsubscribe(topic: TopicName, call: CallOptions = {}): Promise<void> {
    const subscription = this.#subscriptions.get(topic);
    if (subscription === undefined) return;
    this.#subscriptions.delete(topic);
    const connection = this.#connection;
    if (this.#welcome === undefined || connection === undefined || !connection.isOpen) return;
    const reqId = this.#nextRequestId("u");
    const done = this.#requests.track<void>(reqId, {
      timeoutMs: call.timeout ?? this.#options.requestTimeoutMs,
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

  /** Call `listener` on every status change; returns the function that removes it. */
  onStatus(listener: (change: StatusChange) => void): () => void {
    return this.#status.onChange(listener);
  }

  /**
   * Status changes from now on, as an async iterable; it ends after `closed`, or when `signal` aborts.
   * @example
   * for await (const change of client.statuses()) console.log(change.previous, "->", change.status);
   */
  statuses(options: { signal?: AbortSignal } = {}): AsyncIterable<StatusChange> {
    return this.#status.changes(options);
  }

  /**
   * Close the client. Waits up to `timeout` for buffered publishes to be confirmed, then rejects whatever is still
   * pending with ClientClosedError and closes the socket (queued acks go out first). Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closePromise ??= this.#close(options.timeout ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closePromise;
  }

  /** Same as close(), for `await using client = new EventBusClient(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Connection lifecycle
  // -------------------------------------------------------------------------------------------------------------

  async #openConnection(): Promise<void> {
    this.#retryTimer = undefined;
    let headers: Record<string, string>;
    try {
      headers = await this.#upgradeHeaders();
    } catch (error) {
      this.#log.warn("could not obtain an auth token; retrying", { error });
      this.#scheduleReconnect();
      return;
    }
    // Stopped while the token was fetched, or a concurrent attempt got there first.
    if (!this.#running || this.#connection !== undefined) return;
    const seq = ++this.#connectionSeq;
    const hello = {
      type: "hello" as const,
      protocol: PROTOCOL_VERSION,
      agent_id: this.agentId,
      prefetch: this.#options.prefetch,
      client: SDK_CLIENT_NAME,
      ...(this.agentName === undefined ? {} : { agent_name: this.agentName }),
    };
    this.#log.debug("connecting", { url: this.#options.url, connection: seq });
    const connection = Connection.open({
      url: this.#options.url,
      seq,
      headers,
      hello,
      welcomeTimeoutMs: this.#options.requestTimeoutMs,
      keepaliveMs: KEEPALIVE_INTERVAL_MS,
      logger: this.#log,
      onFrame: (frame) => {
        if (this.#connection === connection) this.#onFrame(connection, frame);
      },
      onClose: (outcome) => {
        if (this.#connection === connection) this.#onConnectionClosed(outcome);
      },
    });
    this.#connection = connection;
  }

  async #upgradeHeaders(): Promise<Record<string, string>> {
    const auth = this.#options.auth;
    const token = typeof auth?.token === "function" ? await auth.token() : (auth?.token ?? auth?.apiKey);
    return token === undefined || token === "" ? {} : { Authorization: `Bearer ${token}` };
  }

  #onConnectionClosed(outcome: ConnectionOutcome): void {
    const wasWelcomed = this.#welcome !== undefined;
    this.#connection = undefined;
    this.#welcome = undefined;
    this.#resetPublishWindow();
    if (outcome.error !== undefined && this.#isTerminal(outcome.error)) {
      this.#fail(outcome.error);
      return;
    }
    // While close() waits for buffered publishes, reconnecting is still wanted; #running ends it.
    if (!this.#running) return;
    if (outcome.error !== undefined) {
      this.#log.warn("the gateway refused the connection; retrying", { error: outcome.error });
    } else if (wasWelcomed) {
      this.#log.warn("connection to the gateway lost; reconnecting", {
        code: outcome.code,
        reason: outcome.reason,
      });
    }
    this.#status.set(this.#everConnected ? "reconnecting" : "connecting", outcome.error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (!this.#running) return;
    this.#failedAttempts += 1;
    const delay = backoffDelay(this.#failedAttempts, this.#options.reconnect);
    this.#log.debug("reconnect scheduled", { attempt: this.#failedAttempts, delay_ms: delay });
    this.#retryTimer = setTimeout(() => void this.#openConnection(), delay);
  }

  /**
   * True when reconnecting cannot help, so the client must stop. Expired credentials are the exception when the
   * `token` option is a function: it is called again for the next connection and may return a fresh token. A
   * `hello` that came too late is retried too.
   */
  #isTerminal(error: SoormaError): boolean {
    if (!TERMINAL_ERROR_CODES.has(error.code)) return false;
    if (isHelloTimeout(error)) return false;
    const refreshable = typeof this.#options.auth?.token === "function";
    return !(refreshable && authFailureReason(error) === "expired");
  }

  /** A connect() that gave up before the first welcome stops the attempts it started: nobody wants them. */
  #stopIfNobodyWaits(): void {
    if (this.#everConnected || this.#connectWaiters.size > 0 || !this.#running) return;
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#connection?.terminate();
    this.#connection = undefined;
    this.#failedAttempts = 0;
    this.#status.set("idle");
  }

  /** A fatal error: nothing more will work, so fail everything now instead of letting it time out. */
  #fail(error: SoormaError): void {
    if (this.#fatalError !== undefined || this.#status.current === "closed") return;
    this.#log.error("fatal error from the gateway; client closed", { error });
    this.#fatalError = error;
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#connectWaiters.rejectAll(error);
    this.#requests.rejectAll(error);
    this.#publishes.clear();
    this.#resetPublishWindow();
    this.#notifyIfBufferEmpty();
    this.#subscriptions.clear();
    void this.#connection?.close(1000, "fatal error");
    this.#connection = undefined;
    this.#welcome = undefined;
    this.#status.set("closed", error);
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    if (this.#status.current === "closed") return;
    if (this.#running && this.#publishes.size > 0) await this.#waitForEmptyBuffer(timeoutMs);
    this.#running = false;
    clearTimeout(this.#retryTimer);
    const closed = new ClientClosedError();
    this.#connectWaiters.rejectAll(closed);
    this.#requests.rejectAll(closed);
    this.#publishes.clear();
    this.#resetPublishWindow();
    this.#notifyIfBufferEmpty();
    this.#subscriptions.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#welcome = undefined;
    this.#status.set("closed");
    await connection?.close();
  }

  #waitForEmptyBuffer(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#bufferEmptyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#log.warn("closing with unconfirmed publishes", { pending: this.#publishes.size });
        done();
      }, timeoutMs);
      this.#bufferEmptyWaiters.add(done);
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Frames
  // -------------------------------------------------------------------------------------------------------------

  #onFrame(connection: Connection, frame: ServerFrame): void {
    switch (frame.type) {
      case "welcome":
        this.#onWelcome(connection, frame);
        return;
      case "subscribed": {
        const subscription = [...this.#subscriptions.values()].find((s) => s.pendingReqId === frame.req_id);
        if (subscription !== undefined) subscription.pendingReqId = undefined;
        this.#requests.resolve(frame.req_id, undefined);
        return;
      }
      case "unsubscribed":
        this.#requests.resolve(frame.req_id, undefined);
        return;
      case "published":
        this.#publishWindow.confirmed(frame.req_id);
        this.#forgetPublish(frame.req_id);
        this.#requests.resolve(frame.req_id, { event_id: frame.event_id, duplicate: frame.duplicate });
        this.#sendWaitingPublishes();
        return;
      case "delivery":
        this.#onDelivery(connection, frame);
        return;
      case "error":
        this.#onErrorFrame(frame);
        return;
      case "draining":
        this.#log.info("the gateway is draining; will reconnect once it closes", {
          deadline_ms: frame.deadline_ms,
        });
        this.#status.set("draining");
        return;
    }
  }

  #onWelcome(connection: Connection, welcome: WelcomeFrame): void {
    this.#welcome = welcome;
    this.#failedAttempts = 0;
    this.#everConnected = true;
    this.#log.debug("connected", {
      connection: connection.seq,
      connection_id: welcome.connection_id,
      group: welcome.group,
      server_version: welcome.server_version,
    });
    this.#status.set("connected");
    this.#connectWaiters.resolveAll(undefined);
    // Subscriptions first, then publishes oldest first: the order the caller made them in. Whatever was sent on
    // the last connection without an answer goes out again (same id, so the broker stores it once).
    for (const subscription of this.#subscriptions.values()) this.#resubscribe(connection, subscription);
    this.#resetPublishWindow();
    this.#publishes.requeueAll();
    this.#sendWaitingPublishes();
  }

  #onDelivery(connection: Connection, frame: DeliveryFrame): void {
    const delivery = createDelivery(frame, connection, this.#log);
    const subscription = this.#subscriptions.get(frame.topic);
    if (subscription === undefined) {
      // Arrived after unsubscribe: hand it back at once so another member gets it.
      this.#log.debug("delivery for a topic no longer subscribed; returned", { topic: frame.topic });
      delivery.nack({ delayMs: 0 });
      return;
    }
    try {
      subscription.onDelivery(delivery);
    } catch (error) {
      this.#log.error("delivery callback threw; delivery nacked", { topic: frame.topic, error });
      delivery.nack({ error: { message: error instanceof Error ? error.message : String(error) } });
    }
  }

  #onErrorFrame(frame: ErrorFrame): void {
    const error = remoteErrorFromFrame(frame);
    if (frame.req_id !== undefined) this.#failRequest(frame.req_id, error);
    else if (frame.delivery_id !== undefined) {
      this.#log.debug("the gateway refused a settlement", { delivery_id: frame.delivery_id, error });
    } else if (!frame.fatal && !TERMINAL_ERROR_CODES.has(error.code)) {
      this.#log.warn("error from the gateway", { error });
    }
    // Before `welcome` a terminal code answers the hello itself, fatal flag or not: saying the same hello again
    // cannot succeed, so waiting for a welcome that never comes would only hide the cause.
    const refusesHello =
      this.#welcome === undefined && frame.req_id === undefined && frame.delivery_id === undefined;
    if (this.#isTerminal(error) && (frame.fatal || refusesHello)) {
      this.#fail(error);
      return;
    }
    if (!frame.fatal) return;
    if (authFailureReason(error) === "expired") {
      this.#log.info("credentials expired; reconnecting with a fresh token", { code: error.code });
      return;
    }
    // The gateway closes the socket after a fatal frame; the close handler reconnects.
    this.#log.warn("fatal error from the gateway; reconnecting", { error });
  }

  #failRequest(reqId: string, error: SoormaError): void {
    if (this.#publishWindow.has(reqId) || this.#publishes.get(reqId) !== undefined) {
      this.#onPublishError(reqId, error);
      return;
    }
    const subscription = [...this.#subscriptions.values()].find((s) => s.pendingReqId === reqId);
    if (subscription !== undefined) {
      // While draining the subscription is simply sent again on the next connection.
      if (error.code === "SOORMA_ERR_DRAINING") return;
      this.#subscriptions.delete(subscription.topic);
    }
    if (!this.#requests.reject(reqId, error)) {
      this.#log.warn("the gateway refused a request", { req_id: reqId, error });
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------------------------------------------

  /** New work goes out only on a welcomed connection that is not draining (a draining gateway refuses it). */
  #canSendNow(): boolean {
    return (
      this.#welcome !== undefined && this.#status.current === "connected" && this.#connection?.isOpen === true
    );
  }

  /**
   * Send waiting publishes, oldest first, while the window has room. Called whenever room may have appeared: a
   * new publish, a confirmation, a new connection, the end of a pause after a refusal.
   */
  #sendWaitingPublishes(): void {
    if (!this.#canSendNow()) return;
    const connection = this.#connection!;
    while (this.#publishWindow.canSend()) {
      const entry = this.#publishes.next();
      if (entry === undefined) return;
      this.#sendPublish(connection, entry);
    }
  }

  /**
   * The gateway answered a publish with an error. A refusal for now (too many pending, rate limited) puts it back
   * in the queue, in its place by age, and pauses sending for a while; its deadline keeps running. Draining
   * stores nothing either: the next connection sends it again. Anything else fails the publish.
   */
  #onPublishError(reqId: string, error: SoormaError): void {
    const refusal = publishRefusalOf(error);
    if (refusal !== undefined) {
      const pauseMs = this.#publishWindow.refused(reqId, refusal);
      this.#publishes.requeue(reqId);
      this.#log.debug("publish refused for now; queued again", {
        req_id: reqId,
        code: error.code,
        pause_ms: pauseMs,
        in_flight: this.#publishWindow.inFlight,
        window: this.#publishWindow.limit,
      });
      this.#schedulePublishResume(pauseMs);
      return;
    }
    this.#publishWindow.failed(reqId);
    if (error.code === "SOORMA_ERR_DRAINING") {
      this.#publishes.requeue(reqId);
      return;
    }
    this.#forgetPublish(reqId);
    this.#requests.reject(reqId, error);
    this.#sendWaitingPublishes();
  }

  #schedulePublishResume(delayMs: number): void {
    clearTimeout(this.#publishResumeTimer);
    this.#publishResumeTimer = setTimeout(() => {
      this.#publishResumeTimer = undefined;
      this.#publishWindow.resume();
      this.#sendWaitingPublishes();
    }, delayMs);
  }

  /** Nothing is in flight on a new (or no) connection, and no pause from the last one applies. */
  #resetPublishWindow(): void {
    clearTimeout(this.#publishResumeTimer);
    this.#publishResumeTimer = undefined;
    this.#publishWindow.reset();
  }

  #sendPublish(connection: Connection, entry: PendingPublish): void {
    const text = encodeFrame({ type: "publish", req_id: entry.reqId, event: entry.event });
    const limit = this.#welcome?.max_message_bytes;
    if (limit !== undefined && Buffer.byteLength(text) > limit) {
      this.#forgetPublish(entry.reqId);
      this.#requests.reject(
        entry.reqId,
        new LimitError("SOORMA_ERR_MESSAGE_TOO_LARGE", `publish frame exceeds the gateway's ${limit} bytes`, {
          details: { max_message_bytes: limit, event_id: entry.event.id },
        }),
      );
      return;
    }
    connection.sendText(text, "publish");
    this.#publishWindow.sent(entry.reqId);
  }

  #sendSubscribe(connection: Connection, subscription: Subscription, reqId: string): void {
    connection.send({
      type: "subscribe",
      req_id: reqId,
      topic: subscription.topic,
      event_types: [...subscription.eventTypes],
    });
  }

  /** Renew a subscription on a new connection; a caller still waiting keeps its request id. */
  #resubscribe(connection: Connection, subscription: Subscription): void {
    if (subscription.pendingReqId !== undefined) {
      this.#sendSubscribe(connection, subscription, subscription.pendingReqId);
      return;
    }
    const reqId = this.#nextRequestId("s");
    this.#requests
      .track<void>(reqId, {
        timeoutMs: this.#options.requestTimeoutMs,
        what: `re-subscribe to ${subscription.topic}`,
      })
      .catch((error: unknown) => {
        if (error instanceof ClientClosedError) return;
        this.#log.error("re-subscribe failed; retried on the next connection", {
          topic: subscription.topic,
          error,
        });
      });
    this.#sendSubscribe(connection, subscription, reqId);
  }

  /** A subscribe the caller gave up on: forget it, and tell the gateway in case it got through. */
  #abandonSubscription(subscription: Subscription): void {
    if (this.#subscriptions.get(subscription.topic) !== subscription) return;
    this.#subscriptions.delete(subscription.topic);
    if (this.#canSendNow()) {
      const reqId = this.#nextRequestId("u");
      this.#requests
        .track<void>(reqId, {
          timeoutMs: this.#options.requestTimeoutMs,
          what: `unsubscribe ${subscription.topic}`,
        })
        .catch(() => {});
      this.#connection!.send({ type: "unsubscribe", req_id: reqId, topic: subscription.topic });
    }
  }

  #forgetPublish(reqId: string): void {
    if (this.#publishes.remove(reqId)) this.#notifyIfBufferEmpty();
  }

  #notifyIfBufferEmpty(): void {
    if (this.#publishes.size > 0) return;
    for (const waiter of [...this.#bufferEmptyWaiters]) waiter();
  }

  #nextRequestId(prefix: string): string {
    this.#requestSeq += 1;
    return `${prefix}${this.#requestSeq}`;
  }

  #unusableError(): SoormaError | undefined {
    if (this.#fatalError !== undefined) {
      return new ClientClosedError(`client closed after a fatal error: ${this.#fatalError.message}`, {
        cause: this.#fatalError,
      });
    }
    if (this.#closing) return new ClientClosedError();
    return undefined;
  }
}
