import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { ACK_SUBJECT_PREFIX } from "./delivery-info.js";

/** Why a pull request ended on the server's side. */
export type PullEnd =
  /** As many messages as asked for arrived. */
  | "filled"
  /** The server ended it without (more) messages: expired, nothing pending, or a limit. */
  | "expired"
  /** The consumer or stream does not exist (or JetStream is not answering yet). */
  | "missing";

/** Options of {@link PullRequest}. */
export interface PullRequestOptions {
  readonly nc: NatsConnection;
  /** `$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>` */
  readonly nextSubject: string;
  /** Most messages to receive. */
  readonly batch: number;
  /** How long the server keeps the request open; 0 asks for what is there now (`no_wait`). */
  readonly waitMs: number;
  /** Every message delivered for this request, including those that arrive while it is being cancelled. */
  readonly onMessage: (msg: Msg) => void;
}

// Status codes the server answers a pull request with (JetStream pull protocol).
const STATUS_HEARTBEAT = 100;
const STATUS_CONFLICT = 409;
const STATUS_NO_RESPONDERS = 503;

/**
 * One JetStream pull request (`CONSUMER.MSG.NEXT`) with its own reply subject.
 *
 * The own reply subject is what makes a request cancellable: the server drops a waiting pull request once its
 * reply subject has no interest. {@link cancel} drains the subscription (unsubscribe, then a ping round trip)
 * so that messages the server sent before it saw the unsubscribe still reach {@link PullRequestOptions.onMessage}
 * instead of being dropped and waiting out their lease.
 */
export class PullRequest {
  readonly #options: PullRequestOptions;
  readonly #subscription: Subscription;
  #received = 0;
  #end: PullEnd | undefined;
  #cancelled: Promise<void> | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(options: PullRequestOptions) {
    this.#options = options;
    this.#subscription = options.nc.subscribe(createInbox(), {
      callback: (_error, msg) => this.#onMsg(msg),
    });
    const request =
      options.waitMs > 0
        ? { batch: options.batch, expires: Math.round(options.waitMs) * 1_000_000 }
        : { batch: options.batch, no_wait: true };
    options.nc.publish(options.nextSubject, JSON.stringify(request), {
      reply: this.#subscription.getSubject(),
    });
  }

  /** Messages received so far. */
  get received(): number {
    return this.#received;
  }

  /** How the server ended the request, once it did. */
  get end(): PullEnd | undefined {
    return this.#end;
  }

  /** Call `listener` whenever a message arrives or the request ends. Returns the function that removes it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Stop the request: unsubscribe and collect what is still on the way. Without a connection there is nothing on
   * the way (the server forgets requests of a lost connection), so it only unsubscribes. Idempotent.
   */
  cancel(connected: boolean, timeoutMs: number): Promise<void> {
    this.#cancelled ??= this.#cancel(connected, timeoutMs);
    return this.#cancelled;
  }

  async #cancel(connected: boolean, timeoutMs: number): Promise<void> {
    if (this.#subscription.isClosed()) return;
    if (this.#end === undefined && connected) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          this.#subscription.drain(),
          new Promise((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
        // A drain that did not finish in time (connection lost meanwhile) falls through to unsubscribe.
      } catch {
        // The connection closed meanwhile: nothing more can arrive.
      } finally {
        clearTimeout(timer);
      }
    }
    if (!this.#subscription.isClosed() && !this.#subscription.isDraining()) {
      try {
        this.#subscription.unsubscribe();
      } catch {
        // Already gone with its connection.
      }
    }
  }

  #onMsg(msg: Msg): void {
    if (msg.reply?.startsWith(ACK_SUBJECT_PREFIX)) {
      this.#received += 1;
      this.#options.onMessage(msg);
      if (this.#received >= this.#options.batch) this.#finish("filled");
      this.#notify();
      return;
    }
    const code = msg.headers?.code ?? 0;
    if (code === 0 || code === STATUS_HEARTBEAT) return;
    if (code === STATUS_NO_RESPONDERS) this.#finish("missing");
    // 409 covers limits (max waiting, max batch) and "Consumer Deleted"; only the latter means missing.
    else if (code === STATUS_CONFLICT && /deleted/i.test(msg.headers?.description ?? ""))
      this.#finish("missing");
    else this.#finish("expired"); // 404 no messages, 408 request timeout, other 409s
    this.#notify();
  }

  #finish(end: PullEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    // Nothing more will come for this request; a plain unsubscribe is enough.
    if (!this.#subscription.isClosed() && !this.#subscription.isDraining()) this.#subscription.unsubscribe();
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
