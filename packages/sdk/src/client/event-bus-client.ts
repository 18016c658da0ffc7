import {
  ClientClosedError,
  type ErrorFrame,
  type ServerFrame,
  type SoormaError,
  type TopicName,
  type WelcomeFrame,
} from "@soorma/common";
import type { Logger } from "../logger.js";
import { ClientContext } from "./client-context.js";
import type { Connection, ConnectionOutcome } from "./connection.js";
import type { Delivery } from "./delivery.js";
import { errorFrameEndsClient } from "./error-frames.js";
import { isTerminalError } from "./handshake.js";
import { type EventBusClientOptions, type ResolvedClientOptions, resolveClientOptions } from "./options.js";
import {
  buildEnvelope,
  type CallOptions,
  type PublishOptions,
  type PublishResult,
} from "./publish-options.js";
import { PublishPipeline } from "./publish-pipeline.js";
import { ReconnectLoop } from "./reconnect-loop.js";
import { remoteErrorFromFrame } from "./remote-error.js";
import { type ClientStatus, type StatusChange, StatusTracker } from "./status.js";
import { SubscriptionRegistry } from "./subscription-registry.js";

/** Options of {@link EventBusClient.close}. */
export interface CloseOptions {
  /** Wait at most this long for buffered publishes to be confirmed. @default 5000 */
  timeout?: number;
}

/** Default of {@link CloseOptions.timeout}. */
const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

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
  /** Request tracking, request ids and the current `welcome`, shared with the publishes and subscriptions. */
  readonly #shared: ClientContext;
  readonly #publishes: PublishPipeline;
  readonly #subscriptions: SubscriptionRegistry;
  /** Runs from connect() until close() or a fatal error: the client keeps (re)connecting. */
  readonly #loop: ReconnectLoop;
  #closing = false;
  #closePromise: Promise<void> | undefined;
  #fatalError: SoormaError | undefined;

  /** @throws ValidationError / ConfigError for invalid options (see {@link EventBusClientOptions}). */
  constructor(options: EventBusClientOptions = {}) {
    this.#options = resolveClientOptions(options);
    this.agentId = this.#options.agentId;
    this.agentName = this.#options.agentName;
    this.#log = this.#options.logger;
    this.#status = new StatusTracker((error) => this.#log.error("status listener threw", { error }));
    this.#loop = new ReconnectLoop({
      options: this.#options,
      onFrame: (connection, frame) => this.#onFrame(connection, frame),
      onClose: (outcome) => this.#onConnectionClosed(outcome),
      onAbandoned: () => this.#status.set("idle"),
    });
    this.#shared = new ClientContext({
      log: this.#log,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      status: this.#status,
      connection: () => this.#loop.connection,
    });
    this.#publishes = new PublishPipeline(
      { maxBuffered: this.#options.maxBufferedPublishes, maxInFlight: this.#options.maxInFlightPublishes },
      this.#shared,
    );
    this.#subscriptions = new SubscriptionRegistry(this.#shared);
  }

  /** Current connection status. */
  get status(): ClientStatus {
    return this.#status.current;
  }

  /** The `welcome` of the current connection (lease, max attempts, limits), while connected. */
  get session(): WelcomeFrame | undefined {
    return this.#shared.welcome;
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
    if (this.#shared.welcome !== undefined) return Promise.resolve();
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const timeoutMs = options.timeout ?? this.#options.requestTimeoutMs;
    const connected = this.#loop.waitForWelcome(this.#shared.nextRequestId("c"), {
      timeoutMs,
      signal: options.signal,
      what: `connection to ${this.#options.url}`,
    });
    if (!this.#loop.running) {
      this.#loop.start(() => this.#status.set(this.#loop.everWelcomed ? "reconnecting" : "connecting"));
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
    return this.#publishes.publish(this.#shared.nextRequestId("p"), event, {
      timeoutMs: call.timeout ?? this.#options.requestTimeoutMs,
      signal: call.signal,
    });
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
    await this.#subscriptions.subscribe(topic, eventTypes, onDelivery, call);
  }

  /**
   * Stop receiving `topic` on this connection (the group's inbox is kept: events keep arriving for the other
   * members, or wait for the next one). Resolves at once when offline or not subscribed.
   */
  async unsubscribe(topic: TopicName, call: CallOptions = {}): Promise<void> {
    await this.#subscriptions.unsubscribe(topic, call);
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

  #onConnectionClosed(outcome: ConnectionOutcome): void {
    const wasWelcomed = this.#shared.welcome !== undefined;
    this.#shared.welcome = undefined;
    this.#publishes.resetWindow();
    if (outcome.error !== undefined && isTerminalError(outcome.error, this.#options.auth)) {
      this.#fail(outcome.error);
      return;
    }
    // While close() waits for buffered publishes, reconnecting is still wanted; stopping the loop ends it.
    if (!this.#loop.running) return;
    if (outcome.error !== undefined) {
      this.#log.warn("the gateway refused the connection; retrying", { error: outcome.error });
    } else if (wasWelcomed) {
      this.#log.warn("connection to the gateway lost; reconnecting", {
        code: outcome.code,
        reason: outcome.reason,
      });
    }
    this.#status.set(this.#loop.everWelcomed ? "reconnecting" : "connecting", outcome.error);
    this.#loop.retryLater();
  }

  /** A fatal error: nothing more will work, so fail everything now instead of letting it time out. */
  #fail(error: SoormaError): void {
    if (this.#fatalError !== undefined || this.#status.current === "closed") return;
    this.#log.error("fatal error from the gateway; client closed", { error });
    this.#fatalError = error;
    void this.#stop(error)?.close(1000, "fatal error");
    this.#status.set("closed", error);
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    if (this.#status.current === "closed") return;
    if (this.#loop.running && this.#publishes.size > 0) await this.#publishes.waitUntilEmpty(timeoutMs);
    const connection = this.#stop(new ClientClosedError());
    this.#status.set("closed");
    await connection?.close();
  }

  /**
   * Stop reconnecting, settle every waiting caller with `error` and forget all state: shared by close() and a
   * fatal error. Returns the connection, no longer the client's, for the caller to close its own way.
   */
  #stop(error: SoormaError): Connection | undefined {
    this.#loop.stop(error);
    this.#shared.requests.rejectAll(error);
    this.#publishes.clear();
    this.#subscriptions.clear();
    this.#shared.welcome = undefined;
    return this.#loop.detach();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Frames
  // -------------------------------------------------------------------------------------------------------------

  #onFrame(connection: Connection, frame: ServerFrame): void {
    switch (frame.type) {
      case "welcome":
        this.#onWelcome(connection, frame);
        return;
      case "subscribed":
        this.#subscriptions.confirmed(frame.req_id);
        return;
      case "unsubscribed":
        this.#shared.requests.resolve(frame.req_id, undefined);
        return;
      case "published":
        this.#publishes.confirmed(frame);
        return;
      case "delivery":
        this.#subscriptions.dispatch(connection, frame);
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
    this.#shared.welcome = welcome;
    this.#loop.welcomed();
    this.#log.debug("connected", {
      connection: connection.seq,
      connection_id: welcome.connection_id,
      group: welcome.group,
      server_version: welcome.server_version,
    });
    this.#status.set("connected");
    this.#loop.resolveWelcomeWaiters();
    // Subscriptions first, then publishes oldest first: the order the caller made them in.
    this.#subscriptions.resubscribeAll(connection);
    this.#publishes.resendAll();
  }

  #onErrorFrame(frame: ErrorFrame): void {
    const error = remoteErrorFromFrame(frame);
    if (frame.req_id !== undefined) this.#failRequest(frame.req_id, error);
    const welcomed = this.#shared.welcome !== undefined;
    if (errorFrameEndsClient(frame, error, welcomed, this.#options)) this.#fail(error);
  }

  #failRequest(reqId: string, error: SoormaError): void {
    if (this.#publishes.owns(reqId)) {
      this.#publishes.failed(reqId, error);
      return;
    }
    if (this.#subscriptions.absorbsRefusal(reqId, error)) return;
    if (!this.#shared.requests.reject(reqId, error)) {
      this.#log.warn("the gateway refused a request", { req_id: reqId, error });
    }
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
