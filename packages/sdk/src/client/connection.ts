import { setMaxListeners } from "node:events";
import {
  AuthError,
  type ClientFrameInput,
  decodeServerFrame,
  encodeFrame,
  isErrorCode,
  RemoteError,
  type ServerFrame,
  type SoormaError,
} from "@soorma/common";
import WebSocket from "ws";
import type { Logger } from "../logger.js";

/** How a connection ended. */
export interface ConnectionOutcome {
  /** WebSocket close code (1006 when the socket never opened or died). */
  code: number;
  reason: string;
  /** Set when the gateway refused the upgrade with an HTTP error (e.g. 401). */
  error?: SoormaError;
}

/** Parameters of {@link Connection.open}. */
export interface ConnectionParams {
  url: string;
  /** Sequence number of this connection within its client, for logs and resend bookkeeping. */
  seq: number;
  headers: Record<string, string>;
  /** First frame, sent as soon as the socket opens. */
  hello: ClientFrameInput;
  /** Give up (and close) when the socket has not opened and been welcomed within this time. */
  welcomeTimeoutMs: number;
  /** Ping this often; a connection that missed the previous pong is dead and terminated. */
  keepaliveMs: number;
  logger: Logger;
  onFrame(frame: ServerFrame): void;
  onClose(outcome: ConnectionOutcome): void;
}

/** Longest HTTP error body read from a refused upgrade. */
const MAX_REJECTION_BODY = 16_384;

/**
 * One WebSocket connection to the gateway: opens it, says hello, decodes frames and reports exactly one close.
 * The client builds a new Connection per (re)connect; `signal` aborts when this one ends, which is how deliveries
 * learn that their connection is gone.
 */
export class Connection {
  readonly seq: number;
  readonly #socket: WebSocket;
  readonly #params: ConnectionParams;
  readonly #lifetime = new AbortController();
  #welcomed = false;
  #rejection: SoormaError | undefined;
  #welcomeTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  #closed: Promise<void>;

  private constructor(params: ConnectionParams) {
    this.seq = params.seq;
    this.#params = params;
    // Every running handler listens on this one signal (up to `prefetch` of them, two listeners each), so the
    // default limit of 10 would warn about a leak that is not one.
    setMaxListeners(0, this.#lifetime.signal);
    this.#socket = new WebSocket(params.url, {
      headers: params.headers,
      handshakeTimeout: params.welcomeTimeoutMs,
      // The gateway answers with its own size limit; compression buys little for small JSON frames.
      perMessageDeflate: false,
    });
    this.#closed = new Promise((resolve) => this.#socket.once("close", () => resolve()));
    this.#welcomeTimer = setTimeout(() => {
      params.logger.warn("no welcome from the gateway in time; reconnecting", {
        connection: this.seq,
        timeout_ms: params.welcomeTimeoutMs,
      });
      this.#socket.terminate();
    }, params.welcomeTimeoutMs);
    this.#wireSocket();
  }

  /** Open a connection; progress and the end are reported through the callbacks in `params`. */
  static open(params: ConnectionParams): Connection {
    return new Connection(params);
  }

  /** Aborted when this connection has ended. */
  get signal(): AbortSignal {
    return this.#lifetime.signal;
  }

  /** True while frames can be sent. */
  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /** Send a frame; dropped (debug log) when the socket is no longer open, since nothing sent then could arrive. */
  send(frame: ClientFrameInput): void {
    this.sendText(encodeFrame(frame), frame.type);
  }

  /** Send an already encoded frame (the client measures publish sizes before sending). */
  sendText(text: string, kind: string): void {
    if (!this.isOpen) {
      this.#params.logger.debug("frame dropped: connection not open", { connection: this.seq, frame: kind });
      return;
    }
    this.#socket.send(text);
  }

  /**
   * Close gracefully (frames already queued, such as acks, go out first) and resolve once the socket has
   * closed, or terminate it after `timeoutMs`.
   */
  async close(code = 1000, reason = "client closing", timeoutMs = 2000): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return;
    if (this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.terminate();
    } else {
      this.#socket.close(code, reason);
    }
    const timer = setTimeout(() => this.#socket.terminate(), timeoutMs);
    try {
      await this.#closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drop the connection at once (no closing handshake). */
  terminate(): void {
    this.#socket.terminate();
  }

  #wireSocket(): void {
    const socket = this.#socket;
    const { logger } = this.#params;
    socket.on("open", () => {
      this.send(this.#params.hello);
      this.#startKeepalive();
    });
    socket.on("message", (data, isBinary) => {
      if (isBinary) {
        logger.warn("binary frame from the gateway ignored", { connection: this.seq });
        return;
      }
      const decoded = decodeServerFrame(rawToString(data));
      if (!decoded.ok) {
        logger.warn("undecodable frame from the gateway ignored", {
          connection: this.seq,
          error: decoded.error,
        });
        return;
      }
      if (decoded.frame.type === "welcome") {
        this.#welcomed = true;
        clearTimeout(this.#welcomeTimer);
      }
      this.#params.onFrame(decoded.frame);
    });
    socket.on("pong", () => {
      this.#awaitingPong = false;
    });
    socket.on("unexpected-response", (_request, response) => {
      // Registering this listener makes ws leave the failed upgrade to us: read the error body, then abort.
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_REJECTION_BODY) chunks.push(chunk);
      });
      response.on("end", () => {
        this.#rejection = rejectionError(response.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"));
        socket.terminate();
      });
      response.on("error", () => socket.terminate());
    });
    socket.on("error", (error) => {
      // Always followed by "close", which reports the outcome; here we only keep the detail for the logs.
      logger.debug("connection error", { connection: this.seq, error: error.message });
    });
    socket.on("close", (code, reasonBuffer) => {
      clearTimeout(this.#welcomeTimer);
      clearInterval(this.#keepaliveTimer);
      this.#lifetime.abort();
      const outcome: ConnectionOutcome = { code, reason: reasonBuffer.toString("utf8") };
      if (this.#rejection !== undefined) outcome.error = this.#rejection;
      logger.debug("connection closed", { connection: this.seq, code, welcomed: this.#welcomed });
      this.#params.onClose(outcome);
    });
  }

  #startKeepalive(): void {
    this.#keepaliveTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this.#params.logger.warn("gateway missed a keepalive pong; reconnecting", { connection: this.seq });
        this.#socket.terminate();
        return;
      }
      this.#awaitingPong = true;
      this.#socket.ping();
    }, this.#params.keepaliveMs);
    this.#keepaliveTimer.unref();
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

/** Rebuild the error of a refused upgrade from its HTTP status and (Soorma-shaped) JSON body. */
export function rejectionError(status: number, body: string): SoormaError {
  let code: unknown;
  let reason: unknown;
  let message = `the gateway refused the WebSocket upgrade with HTTP ${status}`;
  try {
    const parsed = JSON.parse(body) as {
      error?: { code?: unknown; message?: unknown; details?: { reason?: unknown } };
    };
    code = parsed.error?.code;
    reason = parsed.error?.details?.reason;
    if (typeof parsed.error?.message === "string") message = parsed.error.message;
  } catch {
    // Not JSON: fall back to the status code below.
  }
  if (status === 401 || code === "SOORMA_ERR_UNAUTHENTICATED") {
    // `reason` (e.g. "expired") tells the client whether fresh credentials could help.
    const details = typeof reason === "string" ? { status, reason } : { status };
    return new AuthError("SOORMA_ERR_UNAUTHENTICATED", message, { details });
  }
  if (status === 403 || code === "SOORMA_ERR_FORBIDDEN") {
    return new AuthError("SOORMA_ERR_FORBIDDEN", message, { details: { status } });
  }
  if (isErrorCode(code)) return new RemoteError(code, message, { details: { status } });
  const fallback = status === 503 ? "SOORMA_ERR_BROKER_UNAVAILABLE" : "SOORMA_ERR_INTERNAL";
  return new RemoteError(fallback, message, { details: { status, body: body.slice(0, 512) } });
}
