/**
 * Every stable error code of the Soorma Event Service, with the HTTP status it maps to and what it means.
 * Codes never change meaning once released; callers branch on them, never on message text. The same codes
 * travel in WebSocket `error` frames and HTTP error bodies, and `docs/protocol.md` documents each one
 * (a test keeps the two in step).
 */
export const ERROR_CODES = {
  SOORMA_ERR_BAD_JSON: { status: 400, description: "The frame or body is not valid JSON." },
  SOORMA_ERR_FRAME_UNKNOWN_TYPE: {
    status: 400,
    description: "The frame's `type` is not one this protocol knows.",
  },
  SOORMA_ERR_FRAME_INVALID: { status: 400, description: "The frame does not match its schema." },
  SOORMA_ERR_HELLO_REQUIRED: {
    status: 400,
    description: "A frame other than `hello` arrived before `hello`.",
  },
  SOORMA_ERR_HELLO_REPEATED: { status: 400, description: "`hello` was sent twice on one connection." },
  SOORMA_ERR_PROTOCOL_VERSION: {
    status: 400,
    description: "The client speaks a protocol version the server does not support.",
  },
  SOORMA_ERR_ENVELOPE_INVALID: { status: 422, description: "The event envelope failed validation." },
  SOORMA_ERR_TOPIC_INVALID: { status: 422, description: "The topic name breaks the topic naming rule." },
  SOORMA_ERR_AGENT_NAME_INVALID: { status: 422, description: "The agent name or id breaks the naming rule." },
  SOORMA_ERR_MESSAGE_TOO_LARGE: {
    status: 413,
    description: "The frame or body exceeds the configured size limit.",
  },
  SOORMA_ERR_DELIVERY_UNKNOWN: {
    status: 404,
    description:
      "ack/nack/in_progress named a delivery this connection does not hold (already settled, expired or never sent).",
  },
  SOORMA_ERR_NOT_SUBSCRIBED: {
    status: 404,
    description: "unsubscribe named a topic this connection is not subscribed to.",
  },
  SOORMA_ERR_BROKER_UNAVAILABLE: {
    status: 503,
    description: "The broker could not store or serve the request; nothing was accepted, retry later.",
  },
  SOORMA_ERR_DRAINING: { status: 503, description: "The server is shutting down and takes no new work." },
  SOORMA_ERR_TIMEOUT: { status: 504, description: "An operation did not finish before its deadline." },
  SOORMA_ERR_CLIENT_CLOSED: {
    status: 499,
    description: "The client was closed before the operation finished.",
  },
  SOORMA_ERR_CONFIG_INVALID: { status: 500, description: "Configuration is missing or invalid." },
  SOORMA_ERR_NOT_FOUND: { status: 404, description: "No such route or resource." },
  SOORMA_ERR_UNAUTHENTICATED: { status: 401, description: "Credentials are missing, invalid or expired." },
  SOORMA_ERR_FORBIDDEN: {
    status: 403,
    description: "The caller is authenticated but not allowed to do this.",
  },
  SOORMA_ERR_RATE_LIMITED: { status: 429, description: "Too many frames or requests in a short time." },
  SOORMA_ERR_LIMIT_EXCEEDED: {
    status: 429,
    description: "A configured limit (subscriptions, connections, in-flight) was reached.",
  },
  SOORMA_ERR_INTERNAL: {
    status: 500,
    description: "An unexpected server error; the request may be retried.",
  },
} as const satisfies Record<string, { status: number; description: string }>;

/** A stable Soorma error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Every error code, for documentation and exhaustiveness checks. */
export const ALL_ERROR_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** Options common to every Soorma error. */
export interface SoormaErrorOptions {
  /** The underlying error, kept for logs and `error.cause` chains. */
  cause?: unknown;
  /** Structured detail safe to send to the client (e.g. zod issues). */
  details?: unknown;
}

/**
 * Base class of every error the Soorma packages throw. Branch on {@link SoormaError.code} or `instanceof`.
 */
export class SoormaError extends Error {
  override readonly name: string = "SoormaError";
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** HTTP status the code maps to. */
  readonly statusCode: number;
  /** Structured detail safe to show the client. */
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: SoormaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
    this.details = options.details;
  }
}

/** The client broke the wire protocol (bad JSON, unknown frame, frame before hello …). */
export class ProtocolError extends SoormaError {
  override readonly name = "ProtocolError";
}

/** An envelope, topic or name failed validation. */
export class ValidationError extends SoormaError {
  override readonly name = "ValidationError";
}

/** The broker could not store or serve a request. */
export class BrokerUnavailableError extends SoormaError {
  override readonly name = "BrokerUnavailableError";
  constructor(message: string, options: SoormaErrorOptions = {}) {
    super("SOORMA_ERR_BROKER_UNAVAILABLE", message, options);
  }
}

/** An operation missed its deadline. Create it when the timer starts so the stack shows the caller. */
export class TimeoutError extends SoormaError {
  override readonly name = "TimeoutError";
  constructor(message: string, options: SoormaErrorOptions = {}) {
    super("SOORMA_ERR_TIMEOUT", message, options);
  }
}

/** The client (or worker) was closed before the operation finished. */
export class ClientClosedError extends SoormaError {
  override readonly name = "ClientClosedError";
  constructor(message = "client closed", options: SoormaErrorOptions = {}) {
    super("SOORMA_ERR_CLIENT_CLOSED", message, options);
  }
}

/** Configuration is missing or invalid. */
export class ConfigError extends SoormaError {
  override readonly name = "ConfigError";
  constructor(message: string, options: SoormaErrorOptions = {}) {
    super("SOORMA_ERR_CONFIG_INVALID", message, options);
  }
}

/** Authentication or authorization failed. */
export class AuthError extends SoormaError {
  override readonly name = "AuthError";
}

/** A configured limit was hit. */
export class LimitError extends SoormaError {
  override readonly name = "LimitError";
}

/** The error a server sent in an `error` frame or HTTP body, rebuilt on the client side. */
export class RemoteError extends SoormaError {
  override readonly name = "RemoteError";
}

/** True when `value` is a known error code (e.g. one read off the wire). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
