import {
  type EventEnvelope,
  encodeFrame,
  LimitError,
  type PublishedFrame,
  type SoormaError,
} from "@soorma/common";
import type { ClientContext } from "./client-context.js";
import type { Connection } from "./connection.js";
import { type PendingPublish, PublishBuffer } from "./publish-buffer.js";
import type { PublishResult } from "./publish-options.js";
import { PublishWindow } from "./publish-window.js";
import { publishRefusalOf } from "./remote-error.js";

/** Limits of a {@link PublishPipeline}. */
export interface PublishPipelineLimits {
  /** Most unconfirmed publishes held at once (maxBufferedPublishes). */
  maxBuffered: number;
  /** Most publish frames sent and unanswered at once on one connection (maxInFlightPublishes). */
  maxInFlight: number;
}

/** Deadline and cancellation of one publish. */
export interface PublishCall {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Every publish of a client from publish() to its confirmation: the buffer that keeps it (and is the send queue),
 * the window that limits how many are unanswered, the pause after the gateway refused one for now, and the
 * callers waiting for the answer. The client tells it when connections come and go and hands it the answers; the
 * pipeline decides what to send and when.
 */
export class PublishPipeline {
  readonly #context: ClientContext;
  readonly #buffer: PublishBuffer;
  readonly #window: PublishWindow;
  readonly #emptyWaiters = new Set<() => void>();
  /** Ends the pause in sending publishes after the gateway refused one for now. */
  #resumeTimer: NodeJS.Timeout | undefined;

  constructor(limits: PublishPipelineLimits, context: ClientContext) {
    this.#context = context;
    this.#buffer = new PublishBuffer(limits.maxBuffered);
    this.#window = new PublishWindow(limits.maxInFlight);
  }

  /** Number of unconfirmed publishes, sent or waiting. */
  get size(): number {
    return this.#buffer.size;
  }

  /**
   * Keep `event` until the gateway confirms it, send it when its turn comes, and resolve with the confirmation.
   * @throws LimitError `SOORMA_ERR_LIMIT_EXCEEDED` (synchronously) when the buffer is full.
   */
  publish(reqId: string, event: EventEnvelope, call: PublishCall): Promise<PublishResult> {
    this.#buffer.add(reqId, event);
    const result = this.#context.requests.track<PublishResult>(reqId, {
      timeoutMs: call.timeoutMs,
      signal: call.signal,
      what: `publish of ${event.type} (${event.id}) on ${event.topic}`,
      onCancel: () => this.#forget(reqId),
    });
    this.sendWaiting();
    return result;
  }

  /** True when `reqId` is a publish of this pipeline still waiting for its answer. */
  owns(reqId: string): boolean {
    return this.#window.has(reqId) || this.#buffer.get(reqId) !== undefined;
  }

  /** The gateway stored a publish: settle its caller and use the freed slot. */
  confirmed(frame: PublishedFrame): void {
    this.#window.confirmed(frame.req_id);
    this.#forget(frame.req_id);
    this.#context.requests.resolve(frame.req_id, { event_id: frame.event_id, duplicate: frame.duplicate });
    this.sendWaiting();
  }

  /**
   * The gateway answered a publish with an error. A refusal for now (too many pending, rate limited) puts it back
   * in the queue, in its place by age, and pauses sending for a while; its deadline keeps running. Draining
   * stores nothing either: the next connection sends it again. Anything else fails the publish.
   */
  failed(reqId: string, error: SoormaError): void {
    const refusal = publishRefusalOf(error);
    if (refusal !== undefined) {
      const pauseMs = this.#window.refused(reqId, refusal);
      this.#buffer.requeue(reqId);
      this.#context.log.debug("publish refused for now; queued again", {
        req_id: reqId,
        code: error.code,
        pause_ms: pauseMs,
        in_flight: this.#window.inFlight,
        window: this.#window.limit,
      });
      this.#scheduleResume(pauseMs);
      return;
    }
    this.#window.failed(reqId);
    if (error.code === "SOORMA_ERR_DRAINING") {
      this.#buffer.requeue(reqId);
      return;
    }
    this.#forget(reqId);
    this.#context.requests.reject(reqId, error);
    this.sendWaiting();
  }

  /**
   * Send waiting publishes, oldest first, while the window has room. Called whenever room may have appeared: a
   * new publish, a confirmation, a new connection, the end of a pause after a refusal.
   */
  sendWaiting(): void {
    const connection = this.#context.connectionForNewWork();
    if (connection === undefined) return;
    while (this.#window.canSend()) {
      const entry = this.#buffer.next();
      if (entry === undefined) return;
      this.#send(connection, entry);
    }
  }

  /**
   * A new connection was welcomed. Whatever was sent on the last one without an answer goes out again, oldest
   * first (same id, so the broker stores it once).
   */
  resendAll(): void {
    this.resetWindow();
    this.#buffer.requeueAll();
    this.sendWaiting();
  }

  /** Nothing is in flight on a new (or no) connection, and no pause from the last one applies. */
  resetWindow(): void {
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
    this.#window.reset();
  }

  /** Drop every publish (the client closed or failed); their callers are settled by the client's tracker. */
  clear(): void {
    this.#buffer.clear();
    this.resetWindow();
    this.#notifyIfEmpty();
  }

  /** Resolve once every publish is confirmed or dropped, or after `timeoutMs` (logged): close() waits for this. */
  waitUntilEmpty(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#emptyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#context.log.warn("closing with unconfirmed publishes", { pending: this.#buffer.size });
        done();
      }, timeoutMs);
      this.#emptyWaiters.add(done);
    });
  }

  #scheduleResume(delayMs: number): void {
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined;
      this.#window.resume();
      this.sendWaiting();
    }, delayMs);
  }

  #send(connection: Connection, entry: PendingPublish): void {
    const text = encodeFrame({ type: "publish", req_id: entry.reqId, event: entry.event });
    const limit = this.#context.welcome?.max_message_bytes;
    if (limit !== undefined && Buffer.byteLength(text) > limit) {
      this.#forget(entry.reqId);
      this.#context.requests.reject(
        entry.reqId,
        new LimitError("SOORMA_ERR_MESSAGE_TOO_LARGE", `publish frame exceeds the gateway's ${limit} bytes`, {
          details: { max_message_bytes: limit, event_id: entry.event.id },
        }),
      );
      return;
    }
    connection.sendText(text, "publish");
    this.#window.sent(entry.reqId);
  }

  #forget(reqId: string): void {
    if (this.#buffer.remove(reqId)) this.#notifyIfEmpty();
  }

  #notifyIfEmpty(): void {
    if (this.#buffer.size > 0) return;
    for (const waiter of [...this.#emptyWaiters]) waiter();
  }
}
