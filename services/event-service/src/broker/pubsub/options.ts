import { ConfigError } from "@soorma/common";
import { assertValidPrefix, DEFAULT_PUBSUB_PREFIX } from "./naming.js";

/** Project id used with an emulator when none is configured (the emulator accepts any). */
export const EMULATOR_PROJECT_ID = "soorma-local";

/** Defaults of {@link GooglePubSubAdapterOptions}. */
export const GOOGLE_PUBSUB_DEFAULTS = Object.freeze({
  prefix: DEFAULT_PUBSUB_PREFIX,
  ackDeadlineSeconds: 30,
  maxDeliveryAttempts: 100,
  messageRetentionSeconds: 604_800,
  dedupeWindowMs: 120_000,
  dedupeMaxEntries: 100_000,
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  probeIntervalMs: 5_000,
});

/** Options of {@link createGooglePubSubAdapter}. */
export interface GooglePubSubAdapterOptions {
  /**
   * Google Cloud project that holds the topics and subscriptions. Required for Google Cloud; with an emulator
   * any id works.
   * @default "soorma-local" when an emulator is used, else required
   */
  readonly projectId?: string;
  /**
   * `host:port` of a Pub/Sub emulator or another endpoint. Leave it unset to let the client library read
   * `PUBSUB_EMULATOR_HOST` (the emulator) or use Google's endpoint.
   * @default process.env.PUBSUB_EMULATOR_HOST, else pubsub.googleapis.com
   */
  readonly apiEndpoint?: string;
  /**
   * First segment of every topic and subscription id, so several deployments can share one project.
   * @default "soorma"
   */
  readonly prefix?: string;
  /**
   * Ack deadline of the subscriptions the adapter creates (10..600 s); consumers still lease for their own
   * `leaseMs`. The gateway passes its `leaseMs` rounded up.
   * @default 30
   */
  readonly ackDeadlineSeconds?: number;
  /**
   * Pub/Sub's own delivery limit (5..100): after that many deliveries Pub/Sub moves a message to the tenant's
   * undeliverable topic. A backstop only: the core dead-letters after its `maxAttempts`, which must stay below.
   * @default 100
   */
  readonly maxDeliveryAttempts?: number;
  /**
   * How long an inbox keeps an event nobody acknowledged (600..604800 s), e.g. while no member is connected.
   * @default 604800 (7 days, Pub/Sub's maximum)
   */
  readonly messageRetentionSeconds?: number;
  /**
   * How long this process remembers a published event id; a second publish of the same id (same tenant)
   * within the window is answered `duplicate: true` and not stored. Per process: see docs/adapters/pubsub.md.
   * @default 120000
   */
  readonly dedupeWindowMs?: number;
  /**
   * Most event ids remembered for dedupe; the oldest are forgotten first.
   * @default 100000
   */
  readonly dedupeMaxEntries?: number;
  /**
   * Deadline of each publish, ack, lease and admin call, retries included.
   * @default 10000
   */
  readonly requestTimeoutMs?: number;
  /**
   * How long `connect()` tries to reach Pub/Sub.
   * @default 10000
   */
  readonly connectTimeoutMs?: number;
  /**
   * While no other call told how Pub/Sub is doing for this long, a cheap admin call checks it, so `status()`
   * (and `/ready`) turns "reconnecting" when Pub/Sub becomes unreachable even on an idle gateway. 0 disables.
   * @default 5000
   */
  readonly probeIntervalMs?: number;
}

/** {@link GooglePubSubAdapterOptions} with every default filled in and every range checked. */
export type ResolvedSettings = Required<Omit<GooglePubSubAdapterOptions, "projectId" | "apiEndpoint">> & {
  readonly projectId: string | undefined;
};

export function resolveSettings(options: GooglePubSubAdapterOptions): ResolvedSettings {
  const settings: ResolvedSettings = {
    projectId: options.projectId === "" ? undefined : options.projectId,
    prefix: options.prefix ?? GOOGLE_PUBSUB_DEFAULTS.prefix,
    ackDeadlineSeconds: options.ackDeadlineSeconds ?? GOOGLE_PUBSUB_DEFAULTS.ackDeadlineSeconds,
    maxDeliveryAttempts: options.maxDeliveryAttempts ?? GOOGLE_PUBSUB_DEFAULTS.maxDeliveryAttempts,
    messageRetentionSeconds:
      options.messageRetentionSeconds ?? GOOGLE_PUBSUB_DEFAULTS.messageRetentionSeconds,
    dedupeWindowMs: options.dedupeWindowMs ?? GOOGLE_PUBSUB_DEFAULTS.dedupeWindowMs,
    dedupeMaxEntries: options.dedupeMaxEntries ?? GOOGLE_PUBSUB_DEFAULTS.dedupeMaxEntries,
    requestTimeoutMs: options.requestTimeoutMs ?? GOOGLE_PUBSUB_DEFAULTS.requestTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? GOOGLE_PUBSUB_DEFAULTS.connectTimeoutMs,
    probeIntervalMs: options.probeIntervalMs ?? GOOGLE_PUBSUB_DEFAULTS.probeIntervalMs,
  };
  assertValidPrefix(settings.prefix);
  assertRange("ackDeadlineSeconds", settings.ackDeadlineSeconds, 10, 600);
  assertRange("maxDeliveryAttempts", settings.maxDeliveryAttempts, 5, 100);
  assertRange("messageRetentionSeconds", settings.messageRetentionSeconds, 600, 604_800);
  assertRange("dedupeWindowMs", settings.dedupeWindowMs, 0, Number.MAX_SAFE_INTEGER);
  assertRange("dedupeMaxEntries", settings.dedupeMaxEntries, 1, Number.MAX_SAFE_INTEGER);
  assertRange("requestTimeoutMs", settings.requestTimeoutMs, 100, Number.MAX_SAFE_INTEGER);
  assertRange("connectTimeoutMs", settings.connectTimeoutMs, 100, Number.MAX_SAFE_INTEGER);
  assertRange("probeIntervalMs", settings.probeIntervalMs, 0, Number.MAX_SAFE_INTEGER);
  return settings;
}

function assertRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `Pub/Sub adapter option ${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
}
