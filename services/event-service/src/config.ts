import { ConfigError, DEFAULT_PORT } from "@soorma/common";
import { z } from "zod";
import { type AuthConfigInput, AuthConfigSchema, authConfigInputFromEnv } from "./auth/config.js";
import {
  LIMITS_ENV_VARS,
  type LimitsConfigInput,
  LimitsConfigSchema,
  limitsConfigInputFromEnv,
} from "./limits/config.js";

/** Platform tenant ids follow the rule the broker adapters rely on for inbox names. */
const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Adapters a config may name; `broker/factory.ts` turns the name into an adapter. */
export const BROKER_KINDS = ["sqlite", "memory", "nats", "pubsub"] as const;

/** An integer setting: env vars and flags arrive as strings, so values are coerced before range checks. */
function integer(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

/** Optional text setting: an empty value counts as unset. */
const optionalText = z.string().min(1).optional();

/**
 * Settings of the NATS JetStream adapter (`broker: "nats"`); docs/adapters/nats.md explains each one.
 */
export const NatsConfigSchema = z
  .object({
    /** Server URL, or several comma-separated URLs of one cluster. @default "nats://127.0.0.1:4222" */
    url: z.string().min(1).default("nats://127.0.0.1:4222"),
    /** Stream that stores every event. @default "SOORMA_EVENTS" */
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,255}$/, { message: "stream names are letters, digits, '_' and '-'" })
      .default("SOORMA_EVENTS"),
    /** First subject token(s): subjects are `<prefix>.<tenant>.<topic>.<event type>`. @default "soorma" */
    subjectPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/, {
        message: "dot-separated words of letters, digits, '_', '-'",
      })
      .default("soorma"),
    /** `interest`: keep an event until every inbox acked it; `limits`: keep it until age/size limits. @default "interest" */
    retention: z.enum(["interest", "limits"]).default("interest"),
    /** `file` survives a server restart, `memory` does not. @default "file" */
    storage: z.enum(["file", "memory"]).default("file"),
    /** Oldest event the stream keeps, in ms; 0 = no age limit. @default 604800000 (7 days) */
    maxAgeMs: integer(0, Number.MAX_SAFE_INTEGER).default(604_800_000),
    /** Most bytes the stream keeps; -1 = no limit. @default 1073741824 (1 GiB) */
    maxBytes: integer(-1, Number.MAX_SAFE_INTEGER).default(1_073_741_824),
    /** A repeated event id within this window is a duplicate and not stored again. @default 120000 */
    duplicateWindowMs: integer(100, 86_400_000).default(120_000),
    /** Copies of the stream in a JetStream cluster. @default 1 */
    replicas: integer(1, 5).default(1),
    /** How long connecting at start-up may take. @default 5000 */
    connectTimeoutMs: integer(100, 600_000).default(5_000),
    /** Deadline of each JetStream request (publish ack, ack confirmation, stream and consumer calls). @default 5000 */
    requestTimeoutMs: integer(100, 600_000).default(5_000),
    /** Pause between reconnect attempts; the gateway retries for ever. @default 1000 */
    reconnectWaitMs: integer(10, 600_000).default(1_000),
    /** User name (with `password`). */
    user: optionalText,
    /** Password of `user`. */
    password: optionalText,
    /** Authentication token. */
    token: optionalText,
    /** Path of a `.creds` file (JWT and NKey seed). */
    credsFile: optionalText,
  })
  .refine((nats) => nats.maxAgeMs === 0 || nats.duplicateWindowMs <= nats.maxAgeMs, {
    message: "the duplicate window cannot be longer than the stream's max age",
    path: ["duplicateWindowMs"],
  });

/**
 * Settings of the Google Cloud Pub/Sub adapter (`broker: "pubsub"`); docs/adapters/pubsub.md explains each one.
 * The emulator's address is not a setting here: the client library reads `PUBSUB_EMULATOR_HOST` itself.
 */
export const PubSubConfigSchema = z.object({
  /** Google Cloud project of the topics and subscriptions; required unless `PUBSUB_EMULATOR_HOST` is set. */
  projectId: optionalText,
  /** First segment of every topic and subscription id (`<prefix>.<tenant>.<topic>[.<group>]`). @default "soorma" */
  prefix: z
    .string()
    .regex(/^(?!goog)[A-Za-z][A-Za-z0-9_-]{0,31}$/i, {
      message: "a letter, then letters, digits, '_' or '-', at most 32 characters, not starting with 'goog'",
    })
    .default("soorma"),
  /** Pub/Sub's own delivery limit before it moves a message to the tenant's undeliverable topic. @default 100 */
  maxDeliveryAttempts: integer(5, 100).default(100),
  /** How long an inbox keeps an unacknowledged event, in ms (10 minutes to 7 days). @default 604800000 */
  retentionMs: integer(600_000, 604_800_000).default(604_800_000),
  /** A repeated event id within this window is answered as a duplicate (per gateway process). @default 120000 */
  dedupeWindowMs: integer(0, 86_400_000).default(120_000),
  /** Deadline of each publish, ack, lease and admin call. @default 10000 */
  requestTimeoutMs: integer(100, 600_000).default(10_000),
  /** How long connecting at start-up may take. @default 10000 */
  connectTimeoutMs: integer(100, 600_000).default(10_000),
  /** An idle gateway checks that Pub/Sub is reachable this often (for `/ready`); 0 disables. @default 5000 */
  probeIntervalMs: integer(0, 600_000).default(5_000),
});

/**
 * The gateway configuration. Every field has a default, so `GatewayConfigSchema.parse({})` is a working
 * configuration (embedded SQLite in `./.data`, port 8082 on loopback).
 */
export const GatewayConfigSchema = z
  .object({
    /** Interface to listen on. @default "127.0.0.1" */
    host: z.string().min(1).default("127.0.0.1"),
    /** TCP port; 0 picks a free one. @default 8082 */
    port: integer(0, 65_535).default(DEFAULT_PORT),
    /** Which broker adapter stores events. @default "sqlite" */
    broker: z.enum(BROKER_KINDS).default("sqlite"),
    /** Directory of on-disk state (the SQLite file `events.db`); created when missing. @default "./.data" */
    dataDir: z.string().min(1).default("./.data"),
    /** Largest accepted WebSocket frame or HTTP body, in bytes. @default 1048576 */
    maxMessageBytes: integer(1024, 64 * 1024 * 1024).default(1_048_576),
    /** A delivery not settled or renewed within this time goes to another member. @default 30000 */
    leaseMs: integer(100, 86_400_000).default(30_000),
    /** Deliveries of one event before it is dead-lettered. @default 5 */
    maxAttempts: integer(1, 1000).default(5),
    /** First retry delay after a nack; doubles per attempt (full jitter). @default 1000 */
    retryBaseMs: integer(0, 86_400_000).default(1000),
    /** Cap of the retry delay. @default 60000 */
    retryMaxMs: integer(0, 86_400_000).default(60_000),
    /** How long a graceful drain waits for in-flight deliveries to settle. @default 15000 */
    drainTimeoutMs: integer(0, 3_600_000).default(15_000),
    /** WebSocket ping interval; a peer that misses one pong is disconnected. 0 disables. @default 30000 */
    pingIntervalMs: integer(0, 3_600_000).default(30_000),
    /** pino log level. @default "info" */
    logLevel: z.enum(LOG_LEVELS).default("info"),
    /** Platform tenant of every connection while authentication is not configured. @default "default" */
    defaultTenant: z
      .string()
      .regex(TENANT_PATTERN, { message: "tenant ids are letters, digits, '_' and '-', at most 64" })
      .default("default"),
    /** NATS JetStream adapter settings. */
    nats: NatsConfigSchema.prefault({}),
    /** Google Cloud Pub/Sub adapter settings. */
    pubsub: PubSubConfigSchema.prefault({}),
    /**
     * Authentication (API keys, JWT) and the open dev mode; see docs/security.md. Read from `SOORMA_AUTH_*`,
     * `SOORMA_API_KEYS*` and `SOORMA_JWT_*` only: there are no flags, so secrets never show in a process list.
     */
    auth: AuthConfigSchema.prefault({}),
    /** Per-connection and per-tenant limits; see docs/security.md. Read from their `SOORMA_*` variables. */
    limits: LimitsConfigSchema.prefault({}),
  })
  .refine((config) => config.retryMaxMs >= config.retryBaseMs, {
    message: "retryMaxMs must be at least retryBaseMs",
    path: ["retryMaxMs"],
  });

/** The validated gateway configuration. */
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

/**
 * A programmatic configuration (`buildApp({ config })`): any field may be left out and takes its default; the
 * nested sections may be given in part too.
 */
export type GatewayConfigInput = Partial<Omit<GatewayConfig, "auth" | "limits" | "nats" | "pubsub">> & {
  auth?: AuthConfigInput;
  limits?: LimitsConfigInput;
  nats?: Partial<GatewayConfig["nats"]>;
  pubsub?: Partial<GatewayConfig["pubsub"]>;
};

/** Where one setting comes from outside the program. */
export interface SettingSource {
  /** Property path inside {@link GatewayConfig}, e.g. `["port"]` or `["nats", "url"]`. */
  readonly path: readonly string[];
  /** Environment variable, e.g. `SOORMA_PORT`. */
  readonly env: string;
  /** Command-line flag without dashes, e.g. `port` for `--port 9000`. */
  readonly flag: string;
}

/**
 * Every setting that can be given by environment variable or flag. Adapters add their rows here (with the
 * `nats` / `pubsub` path prefix); `docs/configuration.md` lists the same rows.
 */
export const SETTINGS: readonly SettingSource[] = [
  { path: ["host"], env: "SOORMA_HOST", flag: "host" },
  { path: ["port"], env: "SOORMA_PORT", flag: "port" },
  { path: ["broker"], env: "SOORMA_BROKER", flag: "broker" },
  { path: ["dataDir"], env: "SOORMA_DATA_DIR", flag: "data-dir" },
  { path: ["maxMessageBytes"], env: "SOORMA_MAX_MESSAGE_BYTES", flag: "max-message-bytes" },
  { path: ["leaseMs"], env: "SOORMA_LEASE_MS", flag: "lease-ms" },
  { path: ["maxAttempts"], env: "SOORMA_MAX_ATTEMPTS", flag: "max-attempts" },
  { path: ["retryBaseMs"], env: "SOORMA_RETRY_BASE_MS", flag: "retry-base-ms" },
  { path: ["retryMaxMs"], env: "SOORMA_RETRY_MAX_MS", flag: "retry-max-ms" },
  { path: ["drainTimeoutMs"], env: "SOORMA_DRAIN_TIMEOUT_MS", flag: "drain-timeout-ms" },
  { path: ["pingIntervalMs"], env: "SOORMA_PING_INTERVAL_MS", flag: "ping-interval-ms" },
  { path: ["logLevel"], env: "SOORMA_LOG_LEVEL", flag: "log-level" },
  { path: ["defaultTenant"], env: "SOORMA_DEFAULT_TENANT", flag: "default-tenant" },
  { path: ["nats", "url"], env: "SOORMA_NATS_URL", flag: "nats-url" },
  { path: ["nats", "stream"], env: "SOORMA_NATS_STREAM", flag: "nats-stream" },
  { path: ["nats", "subjectPrefix"], env: "SOORMA_NATS_SUBJECT_PREFIX", flag: "nats-subject-prefix" },
  { path: ["nats", "retention"], env: "SOORMA_NATS_RETENTION", flag: "nats-retention" },
  { path: ["nats", "storage"], env: "SOORMA_NATS_STORAGE", flag: "nats-storage" },
  { path: ["nats", "maxAgeMs"], env: "SOORMA_NATS_STREAM_MAX_AGE", flag: "nats-stream-max-age" },
  { path: ["nats", "maxBytes"], env: "SOORMA_NATS_STREAM_MAX_BYTES", flag: "nats-stream-max-bytes" },
  {
    path: ["nats", "duplicateWindowMs"],
    env: "SOORMA_NATS_DUPLICATE_WINDOW_MS",
    flag: "nats-duplicate-window-ms",
  },
  { path: ["nats", "replicas"], env: "SOORMA_NATS_REPLICAS", flag: "nats-replicas" },
  {
    path: ["nats", "connectTimeoutMs"],
    env: "SOORMA_NATS_CONNECT_TIMEOUT_MS",
    flag: "nats-connect-timeout-ms",
  },
  {
    path: ["nats", "requestTimeoutMs"],
    env: "SOORMA_NATS_REQUEST_TIMEOUT_MS",
    flag: "nats-request-timeout-ms",
  },
  { path: ["nats", "reconnectWaitMs"], env: "SOORMA_NATS_RECONNECT_WAIT_MS", flag: "nats-reconnect-wait-ms" },
  { path: ["nats", "user"], env: "SOORMA_NATS_USER", flag: "nats-user" },
  { path: ["nats", "password"], env: "SOORMA_NATS_PASSWORD", flag: "nats-password" },
  { path: ["nats", "token"], env: "SOORMA_NATS_TOKEN", flag: "nats-token" },
  { path: ["nats", "credsFile"], env: "SOORMA_NATS_CREDS_FILE", flag: "nats-creds-file" },
  { path: ["pubsub", "projectId"], env: "SOORMA_PUBSUB_PROJECT_ID", flag: "pubsub-project-id" },
  { path: ["pubsub", "prefix"], env: "SOORMA_PUBSUB_PREFIX", flag: "pubsub-prefix" },
  {
    path: ["pubsub", "maxDeliveryAttempts"],
    env: "SOORMA_PUBSUB_MAX_DELIVERY_ATTEMPTS",
    flag: "pubsub-max-delivery-attempts",
  },
  { path: ["pubsub", "retentionMs"], env: "SOORMA_PUBSUB_RETENTION_MS", flag: "pubsub-retention-ms" },
  {
    path: ["pubsub", "dedupeWindowMs"],
    env: "SOORMA_PUBSUB_DEDUPE_WINDOW_MS",
    flag: "pubsub-dedupe-window-ms",
  },
  {
    path: ["pubsub", "requestTimeoutMs"],
    env: "SOORMA_PUBSUB_REQUEST_TIMEOUT_MS",
    flag: "pubsub-request-timeout-ms",
  },
  {
    path: ["pubsub", "connectTimeoutMs"],
    env: "SOORMA_PUBSUB_CONNECT_TIMEOUT_MS",
    flag: "pubsub-connect-timeout-ms",
  },
  {
    path: ["pubsub", "probeIntervalMs"],
    env: "SOORMA_PUBSUB_PROBE_INTERVAL_MS",
    flag: "pubsub-probe-interval-ms",
  },
];

/**
 * Validate a programmatic configuration: missing fields take their defaults, the environment is not read.
 * Throws {@link ConfigError} (`SOORMA_ERR_CONFIG_INVALID`) naming every bad field.
 */
export function resolveConfig(input: GatewayConfigInput = {}): GatewayConfig {
  const parsed = GatewayConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw configErrorFromIssues(parsed.error.issues, (path) => path.join("."));
}

/**
 * Read the configuration from `SOORMA_*` environment variables and `--flag value` / `--flag=value` arguments
 * (flags win over env, env over defaults), then validate it.
 *
 * @param env - usually `process.env`; empty values count as unset
 * @param argv - arguments after the script name, usually `process.argv.slice(2)`
 * @throws ConfigError (`SOORMA_ERR_CONFIG_INVALID`) on an unknown flag, a flag without value or a bad value;
 *   the message names the env var and flag of each bad setting.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = [],
): GatewayConfig {
  const raw: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = env[setting.env];
    if (value !== undefined && value.trim() !== "") setPath(raw, setting.path, value.trim());
  }
  for (const [setting, value] of parseFlags(argv)) setPath(raw, setting.path, value);
  // The auth and limits sections have their own readers (env only); they throw ConfigError naming the variable.
  raw.auth = authConfigInputFromEnv(env);
  raw.limits = limitsConfigInputFromEnv(env);

  const parsed = GatewayConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw configErrorFromIssues(parsed.error.issues, describeSetting);
}

function parseFlags(argv: readonly string[]): Array<[SettingSource, string]> {
  const byFlag = new Map(SETTINGS.map((setting) => [setting.flag, setting]));
  const result: Array<[SettingSource, string]> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}; settings are given as --name value`);
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const setting = byFlag.get(name);
    if (setting === undefined) {
      throw new ConfigError(`unknown flag --${name}`, {
        details: { known: SETTINGS.map((s) => `--${s.flag}`) },
      });
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value.startsWith("--")) {
      throw new ConfigError(`flag --${name} needs a value`);
    }
    result.push([setting, value]);
  }
  return result;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const [index, segment] of path.entries()) {
    if (index === path.length - 1) {
      node[segment] = value;
      return;
    }
    const child = node[segment];
    if (typeof child === "object" && child !== null) node = child as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[segment] = created;
      node = created;
    }
  }
}

function describeSetting(path: readonly PropertyKey[]): string {
  const key = path.map(String).join(".");
  const setting = SETTINGS.find((s) => s.path.join(".") === key);
  if (setting !== undefined) return `${setting.env} / --${setting.flag}`;
  const limit = Object.entries(LIMITS_ENV_VARS).find(([, field]) => key === `limits.${field}`);
  return limit === undefined ? key : `${limit[0]} (${key})`;
}

function configErrorFromIssues(
  issues: readonly z.core.$ZodIssue[],
  describe: (path: readonly PropertyKey[]) => string,
): ConfigError {
  const details = issues.map((issue) => ({ setting: describe(issue.path), message: issue.message }));
  const summary = details.map((d) => `${d.setting}: ${d.message}`).join("; ");
  return new ConfigError(`invalid configuration: ${summary}`, { details });
}
