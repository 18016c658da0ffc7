import type { WelcomeFrame } from "@soorma/common";
import type { Logger } from "../logger.js";
import type { Connection } from "./connection.js";
import { RequestTracker } from "./request-tracker.js";
import type { StatusTracker } from "./status.js";

/** Parameters of a {@link ClientContext}. */
export interface ClientContextParams {
  log: Logger;
  /** Deadline of a request whose caller named none. */
  requestTimeoutMs: number;
  status: StatusTracker;
  /** The current connection, welcomed or not; only the client's reconnect loop replaces it. */
  connection(): Connection | undefined;
}

/**
 * The state an {@link EventBusClient} shares with its parts (publish pipeline, subscription registry): one request
 * tracker and one request id sequence, so every `req_id` on a connection is unique and every answer finds its
 * caller, and the `welcome` of the current connection, which decides where new work may go.
 */
export class ClientContext {
  /** Requests waiting for the gateway's answer, by `req_id`. */
  readonly requests = new RequestTracker();
  readonly log: Logger;
  /** Deadline of a request whose caller named none. */
  readonly requestTimeoutMs: number;
  /** The `welcome` of the current connection, while it is welcomed; set and cleared by the client. */
  welcome: WelcomeFrame | undefined;
  readonly #params: ClientContextParams;
  #requestSeq = 0;

  constructor(params: ClientContextParams) {
    this.#params = params;
    this.log = params.log;
    this.requestTimeoutMs = params.requestTimeoutMs;
  }

  /** A `req_id` not used before by this client; `prefix` says what kind of request it is, for the logs. */
  nextRequestId(prefix: string): string {
    this.#requestSeq += 1;
    return `${prefix}${this.#requestSeq}`;
  }

  /** The welcomed connection while it is open, draining or not (it still answers what it already has). */
  welcomedConnection(): Connection | undefined {
    const connection = this.#params.connection();
    return this.welcome !== undefined && connection?.isOpen === true ? connection : undefined;
  }

  /** The connection new work may go out on: welcomed, open and not draining (a draining gateway refuses it). */
  connectionForNewWork(): Connection | undefined {
    return this.#params.status.current === "connected" ? this.welcomedConnection() : undefined;
  }
}
