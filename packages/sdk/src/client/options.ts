import { randomBytes } from "node:crypto";
import {
  AGENT_NAME_PATTERN,
  ConfigError,
  DEFAULT_PREFETCH,
  MAX_PREFETCH,
  ValidationError,
} from "@soorma/common";
import { createConsoleLogger, type Logger } from "../logger.js";
import { type ReconnectOptions, resolveReconnectOptions } from "./backoff.js";
import { resolveServiceUrl } from "./url.js";

/** Default deadline of a publish or subscribe confirmation, in ms (counts while buffered offline too). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Default number of publishes that may await confirmation at once before publish() refuses more. */
export const DEFAULT_MAX_BUFFERED_PUBLISHES = 10_000;

/**
 * Default number of publish frames one connection has sent and not yet seen answered; the rest wait in the
 * buffer. Below the gateway's default `SOORMA_MAX_PENDING_PUBLISHES_PER_CONNECTION` (256), so a client with the
 * defaults is never refused for having too many publishes pending.
 */
export const DEFAULT_MAX_IN_FLIGHT_PUBLISHES = 128;

/** Credentials sent as `Authorization: Bearer …` on the WebSocket upgrade, never in the URL. */
export interface AuthOptions {
  /** A static API key. */
  apiKey?: string;
  /** A token, or a function returning a fresh one; called on every (re)connect so expiring tokens work. Wins over apiKey. */
  token?: string | (() => string | Promise<string>);
}

/** Options of {@link EventBusClient}. */
export interface EventBusClientOptions {
  /**
   * Gateway URL. `http(s)://` is mapped to `ws(s)://`; `/v1/events/ws` is appended when the URL has no path.
   * @default process.env.SOORMA_EVENT_SERVICE_URL ?? "ws://127.0.0.1:8082"
   */
  url?: string;
  /** Consumer group: members with the same name share events. @default the agent id */
  agentName?: string;
  /** Unique id of this process/instance. @default `${agentName ?? "client"}-${8 random hex}` */
  agentId?: string;
  /** Most un-acked deliveries this member holds at once. @default DEFAULT_PREFETCH (16) */
  prefetch?: number;
  /** Credentials. @default none */
  auth?: AuthOptions;
  /** Reconnect timing. @default DEFAULT_RECONNECT */
  reconnect?: ReconnectOptions;
  /** Deadline of publish and subscribe confirmations and of connect(). @default DEFAULT_REQUEST_TIMEOUT_MS (30000) */
  requestTimeoutMs?: number;
  /** Most publishes awaiting confirmation; beyond it publish() rejects with `SOORMA_ERR_LIMIT_EXCEEDED`. @default DEFAULT_MAX_BUFFERED_PUBLISHES (10000) */
  maxBufferedPublishes?: number;
  /**
   * Most publish frames sent on one connection and not yet answered; later publishes wait in the buffer, in
   * order, and go out as confirmations arrive. Keep it at or below the gateway's
   * `SOORMA_MAX_PENDING_PUBLISHES_PER_CONNECTION`: publishes the gateway refuses for that reason are not lost
   * (they are sent again), but each refusal costs a round trip.
   * @default DEFAULT_MAX_IN_FLIGHT_PUBLISHES (128)
   */
  maxInFlightPublishes?: number;
  /** Where the client logs. @default createConsoleLogger() */
  logger?: Logger;
}

/** Options with every default filled and checked. */
export interface ResolvedClientOptions {
  url: string;
  agentName: string | undefined;
  agentId: string;
  prefetch: number;
  auth: AuthOptions | undefined;
  reconnect: Required<ReconnectOptions>;
  requestTimeoutMs: number;
  maxBufferedPublishes: number;
  maxInFlightPublishes: number;
  logger: Logger;
}

/** Longest agent name or id (AGENT_NAME_PATTERN). */
const AGENT_NAME_MAX = 128;

/**
 * Fill defaults and validate client options, so mistakes fail at construction rather than on the wire.
 * @throws ValidationError `SOORMA_ERR_AGENT_NAME_INVALID` for a bad agent name or id; ConfigError for other bad values.
 */
export function resolveClientOptions(options: EventBusClientOptions = {}): ResolvedClientOptions {
  const agentName = options.agentName;
  if (agentName !== undefined) assertAgentName("agentName", agentName);
  const agentId = options.agentId ?? defaultAgentId(agentName);
  assertAgentName("agentId", agentId);
  const prefetch = options.prefetch ?? DEFAULT_PREFETCH;
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > MAX_PREFETCH) {
    throw new ConfigError(`prefetch must be an integer in 1..${MAX_PREFETCH}, got ${prefetch}`);
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  assertPositive("requestTimeoutMs", requestTimeoutMs);
  const maxBufferedPublishes = options.maxBufferedPublishes ?? DEFAULT_MAX_BUFFERED_PUBLISHES;
  assertPositive("maxBufferedPublishes", maxBufferedPublishes);
  const maxInFlightPublishes = options.maxInFlightPublishes ?? DEFAULT_MAX_IN_FLIGHT_PUBLISHES;
  if (!Number.isInteger(maxInFlightPublishes) || maxInFlightPublishes < 1) {
    throw new ConfigError(`maxInFlightPublishes must be a positive integer, got ${maxInFlightPublishes}`);
  }
  return {
    url: resolveServiceUrl(options.url),
    agentName,
    agentId,
    prefetch,
    auth: options.auth,
    reconnect: resolveReconnectOptions(options.reconnect),
    requestTimeoutMs,
    maxBufferedPublishes,
    maxInFlightPublishes,
    logger: options.logger ?? createConsoleLogger(),
  };
}

/** `${agentName ?? "client"}-${8 hex}`, with the name shortened so the id stays within the naming rule. */
export function defaultAgentId(agentName: string | undefined): string {
  const suffix = randomBytes(4).toString("hex");
  const prefix = (agentName ?? "client").slice(0, AGENT_NAME_MAX - suffix.length - 1);
  return `${prefix}-${suffix}`;
}

function assertAgentName(option: string, value: string): void {
  if (!AGENT_NAME_PATTERN.test(value)) {
    throw new ValidationError(
      "SOORMA_ERR_AGENT_NAME_INVALID",
      `${option} ${JSON.stringify(value)} breaks the naming rule: letters, digits, '_' and '-', starting with a letter or digit, at most ${AGENT_NAME_MAX} characters`,
    );
  }
}

function assertPositive(option: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${option} must be a positive number, got ${value}`);
  }
}
