import {
  ClientClosedError,
  ConfigError,
  EventTopic,
  type SoormaError,
  TimeoutError,
  type TopicName,
} from "@soorma/common";
import type { Delivery } from "../client/delivery.js";
import { EventBusClient } from "../client/event-bus-client.js";
import type { EventBusClientOptions } from "../client/options.js";
import type { CallOptions, PublishOptions, PublishResult } from "../client/publish-options.js";
import { createConsoleLogger, type Logger, withLogFields } from "../logger.js";
import { createEventContext } from "./context.js";
import { type EventHandler, HandlerRegistry } from "./handler-registry.js";
import { InFlightHandlers } from "./in-flight.js";
import { startLeaseKeeper } from "./lease-keeper.js";
import { onShutdownSignals } from "./shutdown-signals.js";

/** Default of {@link AgentOptions.shutdownTimeoutMs}. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** Options of {@link Agent} and {@link Worker}. */
export interface AgentOptions extends Omit<EventBusClientOptions, "agentName"> {
  /** Agent name = consumer group: instances with the same name share events (AGENT_NAME_PATTERN). */
  name: string;
  /** How long stop() waits for in-flight handlers. @default 30000 */
  shutdownTimeoutMs?: number;
}

/** Options of {@link Agent.stop}. */
export interface StopOptions {
  /** Abort the ctx.signal of running handlers at once instead of waiting for them. @default false */
  force?: boolean;
  /** Wait at most this long for in-flight handlers. @default the agent's shutdownTimeoutMs */
  timeout?: number;
}

/**
 * An agent: named handlers for events, run with at-least-once delivery. The name is the consumer group, so
 * running several instances with one name shares the work and different names each get every event.
 *
 * The SDK acks an event after its handler resolves and nacks it (the gateway retries with backoff, then
 * dead-letters) when the handler throws. While a handler runs its lease is renewed, so long handlers are not
 * handed to another member. Events of a subscribed topic that no handler takes are acked at once.
 *
 * @example
 * const agent = new Agent({ name: "audit-logger" });
 * agent.onEvent("order.placed", async (event, ctx) => ctx.log.info("order", { data: event.data }));
 * await agent.run();
 */
export class Agent {
  /** Agent name (consumer group). */
  readonly name: string;
  /** Unique id of this instance. */
  readonly id: string;
  /** The underlying client, for raw subscriptions and status. */
  readonly client: EventBusClient;

  readonly #log: Logger;
  readonly #shutdownTimeoutMs: number;
  readonly #registry: HandlerRegistry;
  readonly #inFlight = new InFlightHandlers();
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #stopping = false;
  /** Aborted by a forced stop: ends every wait for handlers. */
  readonly #forced = new AbortController();
  #resolveStopped!: () => void;
  readonly #stopped = new Promise<void>((resolve) => {
    this.#resolveStopped = resolve;
  });

  /** @throws ValidationError `SOORMA_ERR_AGENT_NAME_INVALID` for a bad name; ConfigError for other bad options. */
  constructor(options: AgentOptions) {
    const { name, shutdownTimeoutMs, ...clientOptions } = options;
    this.#log = options.logger ?? createConsoleLogger();
    this.client = new EventBusClient({ ...clientOptions, agentName: name, logger: this.#log });
    this.name = name;
    this.id = this.client.agentId;
    this.#shutdownTimeoutMs = shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    if (!(this.#shutdownTimeoutMs >= 0)) throw new ConfigError("shutdownTimeoutMs must be >= 0");
    this.#registry = new HandlerRegistry(this.defaultTopic);
  }

  /** Topic of handlers registered without one: `business-facts` for an Agent. */
  protected get defaultTopic(): TopicName {
    return EventTopic.BUSINESS_FACTS;
  }

  /**
   * Register a handler. eventType `"*"` = every type of the topic. Must be called before start(); chainable.
   * @throws ValidationError for an invalid topic; ConfigError for an invalid event type, a duplicate, or a call
   * after start().
   */
  onEvent(eventType: string, options: { topic?: TopicName }, handler: EventHandler): this;
  onEvent(eventType: string, handler: EventHandler): this;
  onEvent(
    eventType: string,
    optionsOrHandler: { topic?: TopicName } | EventHandler,
    maybeHandler?: EventHandler,
  ): this {
    const [options, handler] =
      typeof optionsOrHandler === "function" ? [{}, optionsOrHandler] : [optionsOrHandler, maybeHandler];
    this.#registry.add(eventType, options.topic, handler as EventHandler);
    return this;
  }

  /** Publish outside a handler (no propagation). */
  publish(options: PublishOptions, call?: CallOptions): Promise<PublishResult> {
    return this.client.publish(options, call);
  }

  /**
   * Connect and subscribe every topic that has handlers; resolves once every subscription is confirmed, so events
   * published afterwards are kept for this agent's group. `timeout` bounds the whole start.
   */
  start(options: CallOptions = {}): Promise<void> {
    if (this.#stopping) return Promise.reject(new ClientClosedError("agent stopped"));
    this.#startPromise ??= this.#start(options).catch((error: unknown) => {
      this.#startPromise = undefined;
      this.#registry.unlock();
      throw error;
    });
    return this.#startPromise;
  }

  /**
   * Stop taking deliveries (unsubscribe), wait for in-flight handlers (their ack/nack is sent), then close.
   * `force` aborts ctx.signal of running handlers at once and returns their deliveries to the gateway.
   * Idempotent: later calls return the first call's promise.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopPromise !== undefined) {
      // A forced stop during a graceful one cuts the wait short instead of being ignored.
      if (options.force) this.#abortHandlers();
      return this.#stopPromise;
    }
    this.#stopPromise = this.#stop(options);
    return this.#stopPromise;
  }

  /**
   * start(), then stop() on SIGINT/SIGTERM (a second signal forces the stop); resolves after the stop. When start
   * fails it logs the error, sets a non-zero `process.exitCode` and resolves, so the process can end.
   */
  async run(): Promise<void> {
    const removeSignalHandlers = onShutdownSignals((signal, count) => {
      const force = count > 1;
      this.#log.info(force ? "second signal: stopping now" : "signal received: stopping", { signal });
      void this.stop({ force }).catch((error: unknown) => this.#log.error("stop failed", { error }));
    });
    try {
      try {
        await this.start();
      } catch (error) {
        this.#log.error("agent failed to start", { agent: this.name, error });
        process.exitCode = 1;
        await this.stop({ force: true });
        return;
      }
      this.#log.info("agent running", { agent: this.name, id: this.id, topics: this.#registry.topics() });
      await this.#stopped;
    } finally {
      removeSignalHandlers();
    }
  }

  // -------------------------------------------------------------------------------------------------------------

  async #start(options: CallOptions): Promise<void> {
    this.#registry.lock();
    const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout;
    const remaining = (): CallOptions => {
      const call: CallOptions = {};
      if (options.signal !== undefined) call.signal = options.signal;
      if (deadline !== undefined) call.timeout = Math.max(1, deadline - Date.now());
      return call;
    };
    await this.client.connect(remaining());
    const subscriptions = this.#registry
      .topics()
      .map((topic) =>
        this.client.subscribe(
          topic,
          this.#registry.eventTypesFor(topic),
          (delivery) => this.#onDelivery(delivery),
          remaining(),
        ),
      );
    await Promise.all(subscriptions);
    this.#log.debug("agent started", { agent: this.name, topics: this.#registry.topics() });
  }

  async #stop(options: StopOptions): Promise<void> {
    this.#stopping = true;
    try {
      if (options.force) {
        this.#abortHandlers();
        await this.client.close({ timeout: 0 });
        return;
      }
      const timeoutMs = options.timeout ?? this.#shutdownTimeoutMs;
      const unsubscribes = this.#registry
        .topics()
        .map((topic) => this.client.unsubscribe(topic, { timeout: Math.max(1, timeoutMs) }));
      for (const outcome of await Promise.allSettled(unsubscribes)) {
        if (outcome.status === "rejected") {
          this.#log.debug("unsubscribe on stop failed", { error: outcome.reason });
        }
      }
      const idle = await this.#inFlight.waitForIdle(timeoutMs, this.#forced.signal);
      if (!idle && !this.#forced.signal.aborted) {
        this.#log.warn("handlers still running at the shutdown deadline; aborting them", {
          running: this.#inFlight.size,
          timeout_ms: timeoutMs,
        });
        this.#inFlight.abortAll(new TimeoutError(`handlers did not finish within ${timeoutMs} ms of stop()`));
      }
      // A forced stop meanwhile does not wait for buffered publishes either.
      await this.client.close(this.#forced.signal.aborted ? { timeout: 0 } : {});
    } finally {
      this.#resolveStopped();
    }
  }

  /** Abort running handlers, return their deliveries, and end any wait for them. */
  #abortHandlers(): void {
    this.#forced.abort();
    this.#inFlight.abortAll(new ClientClosedError("agent stopped with force"));
  }

  #onDelivery(delivery: Delivery): void {
    const { event } = delivery;
    if (this.#stopping) {
      // Raced with unsubscribe: hand it straight back so another member takes it.
      delivery.nack({ delayMs: 0 });
      return;
    }
    const handler = this.#registry.lookup(delivery.topic, event.type);
    if (handler === undefined) {
      this.#log.debug("no handler for event type; acked", { topic: delivery.topic, event_type: event.type });
      delivery.ack();
      return;
    }
    this.#runHandler(delivery, handler);
  }

  #runHandler(delivery: Delivery, handler: EventHandler): void {
    const { event } = delivery;
    const controller = new AbortController();
    const onConnectionLost = (): void => controller.abort(delivery.signal.reason);
    delivery.signal.addEventListener("abort", onConnectionLost, { once: true });
    let released = false;
    const log = withLogFields(this.#log, {
      agent: this.name,
      event_id: event.id,
      event_type: event.type,
      topic: delivery.topic,
      attempt: delivery.attempt,
    });
    const ctx = createEventContext({
      event,
      delivery: {
        id: delivery.deliveryId,
        attempt: delivery.attempt,
        maxAttempts: delivery.maxAttempts,
        topic: delivery.topic,
      },
      agent: { name: this.name, id: this.id },
      signal: controller.signal,
      log,
      publish: (options, call) => this.client.publish(options, call),
    });
    const stopLeaseKeeper = startLeaseKeeper(delivery);
    const done = (async () => {
      try {
        await handler(event, ctx);
        if (!released) delivery.ack();
      } catch (error) {
        if (released) return;
        log.warn("handler failed; event nacked for retry", { error, max_attempts: delivery.maxAttempts });
        delivery.nack({ error: describeHandlerError(error) });
      } finally {
        stopLeaseKeeper();
        delivery.signal.removeEventListener("abort", onConnectionLost);
      }
    })();
    this.#inFlight.add(delivery.deliveryId, {
      controller,
      done,
      release: () => {
        if (released) return;
        released = true;
        stopLeaseKeeper();
        // No error: the handler did not fail, it was cut short, so it should not look like a failure.
        delivery.nack({ delayMs: 0 });
      },
    });
  }
}

/** The `error` of a nack: the message, and the code when the error carries a string one (e.g. SoormaError). */
function describeHandlerError(error: unknown): { message: string; code?: string } {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const code = (error as Partial<SoormaError> | null)?.code;
  return typeof code === "string" ? { message, code } : { message };
}
