import { ConfigError, MAX_PREFETCH } from "@soorma/common";
import { z } from "zod";
import { type Env, readInt } from "../auth/env-values.js";

/**
 * The `limits` section of the gateway config: what one connection or tenant may consume. Every limit has a
 * stable error code (see docs/security.md). Embed as `limits: LimitsConfigSchema.prefault({})`.
 */
export const LimitsConfigSchema = z.strictObject({
  /**
   * Sustained frames per second one connection may send (`SOORMA_MAX_FRAMES_PER_SECOND`). Every frame counts,
   * acks included (a worker sends one per event it handles, a publisher one per event): the default leaves
   * room for one connection to carry what one gateway core can, and stops a client that floods the socket in a
   * loop. @default 20000
   */
  maxFramesPerSecond: z.number().int().min(1).max(1_000_000).default(20_000),
  /** Frames a connection may send in a burst above the sustained rate (`SOORMA_FRAME_BURST`). @default 40000 */
  frameBurst: z.number().int().min(1).max(1_000_000).default(40_000),
  /**
   * Rate-limited frames in a row after which the connection is closed, so a client that ignores
   * `SOORMA_ERR_RATE_LIMITED` cannot keep the gateway busy answering it
   * (`SOORMA_RATE_LIMITED_FRAMES_BEFORE_CLOSE`). @default 100
   */
  rateLimitedFramesBeforeClose: z.number().int().min(1).default(100),
  /** Topics one connection may subscribe to (`SOORMA_MAX_SUBSCRIPTIONS_PER_CONNECTION`). @default 100 */
  maxSubscriptionsPerConnection: z.number().int().min(1).default(100),
  /** Open WebSocket connections per platform tenant (`SOORMA_MAX_CONNECTIONS_PER_TENANT`). @default 1000 */
  maxConnectionsPerTenant: z.number().int().min(1).default(1000),
  /**
   * Most un-acked deliveries one member may hold (`SOORMA_MAX_PREFETCH`). A larger `hello.prefetch` is lowered
   * to this and `welcome.prefetch` says what was granted. @default 1000 (the protocol maximum)
   */
  maxPrefetch: z.number().int().min(1).max(MAX_PREFETCH).default(MAX_PREFETCH),
  /**
   * Publishes of one connection waiting for the broker's confirmation
   * (`SOORMA_MAX_PENDING_PUBLISHES_PER_CONNECTION`). Bounds gateway memory when the broker is slower than the
   * client. @default 256
   */
  maxPendingPublishesPerConnection: z.number().int().min(1).default(256),
  /**
   * Bytes queued for one socket that the client has not read yet (`SOORMA_MAX_BUFFERED_BYTES_PER_CONNECTION`).
   * Above it the member gets no new deliveries; the backlog stays in the broker. @default 8388608 (8 MiB)
   */
  maxBufferedBytesPerConnection: z
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
  /**
   * How long a socket may stay above `maxBufferedBytesPerConnection` before it is closed as a slow consumer
   * and its deliveries go to other members (`SOORMA_SLOW_CONSUMER_GRACE_MS`). @default 30000
   */
  slowConsumerGraceMs: z.number().int().min(0).default(30_000),
  /** Time a new connection has to send `hello` (`SOORMA_HELLO_TIMEOUT_MS`). @default 10000 */
  helloTimeoutMs: z.number().int().min(100).default(10_000),
});

/** Validated `limits` config with defaults filled. */
export type LimitsConfig = z.output<typeof LimitsConfigSchema>;
/** What a caller may write for the `limits` config (defaults may be omitted). */
export type LimitsConfigInput = z.input<typeof LimitsConfigSchema>;

/** Environment variable of each limit. */
export const LIMITS_ENV_VARS = {
  SOORMA_MAX_FRAMES_PER_SECOND: "maxFramesPerSecond",
  SOORMA_FRAME_BURST: "frameBurst",
  SOORMA_RATE_LIMITED_FRAMES_BEFORE_CLOSE: "rateLimitedFramesBeforeClose",
  SOORMA_MAX_SUBSCRIPTIONS_PER_CONNECTION: "maxSubscriptionsPerConnection",
  SOORMA_MAX_CONNECTIONS_PER_TENANT: "maxConnectionsPerTenant",
  SOORMA_MAX_PREFETCH: "maxPrefetch",
  SOORMA_MAX_PENDING_PUBLISHES_PER_CONNECTION: "maxPendingPublishesPerConnection",
  SOORMA_MAX_BUFFERED_BYTES_PER_CONNECTION: "maxBufferedBytesPerConnection",
  SOORMA_SLOW_CONSUMER_GRACE_MS: "slowConsumerGraceMs",
  SOORMA_HELLO_TIMEOUT_MS: "helloTimeoutMs",
} as const satisfies Record<string, keyof LimitsConfig>;

/** The `limits` section as the environment gives it; unset variables are left out so defaults apply. */
export function limitsConfigInputFromEnv(env: Env): LimitsConfigInput {
  const input: Record<string, number> = {};
  for (const [name, field] of Object.entries(LIMITS_ENV_VARS)) {
    const value = readInt(env, name);
    if (value !== undefined) input[field] = value;
  }
  return input;
}

/** Validate a `limits` section, filling defaults; `ConfigError` listing every bad field. */
export function parseLimitsConfig(input: unknown): LimitsConfig {
  const parsed = LimitsConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const summary = parsed.error.issues
    .map((issue) => `limits.${issue.path.map(String).join(".")}: ${issue.message}`)
    .join("; ");
  throw new ConfigError(`invalid limits config: ${summary}`, { details: parsed.error.issues });
}

/** The `limits` section read from the environment and validated. */
export function loadLimitsConfig(env: Env = process.env): LimitsConfig {
  return parseLimitsConfig(limitsConfigInputFromEnv(env));
}
