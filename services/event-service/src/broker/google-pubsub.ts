import { PubSub, type protos, v1 } from "@google-cloud/pubsub";
import type { EventEnvelope } from "@soorma/common";
import { BrokerUnavailableError, ConfigError } from "@soorma/common";
import type { GatewayConfig } from "../config.js";
import type {
  AdapterCapabilities,
  AdapterStatus,
  BrokerAdapter,
  InboxConsumer,
  InboxKey,
  InboxStats,
  OpenInboxOptions,
  PublishReceipt,
} from "./adapter.js";
import { tenantOf } from "./local/keys.js";
import { type EncodedEvent, encodeEvent } from "./pubsub/codec.js";
import { isNotFound, toBrokerError } from "./pubsub/errors.js";
import { isTransportFailure, PubSubHealth } from "./pubsub/health.js";
import { MAX_ACK_DEADLINE_SECONDS, PubSubInboxConsumer } from "./pubsub/inbox-consumer.js";
import {
  assertValidPrefix,
  DEFAULT_PUBSUB_PREFIX,
  type InboxResourcePaths,
  inboxResourcePaths,
} from "./pubsub/naming.js";
import { PublishBatcher } from "./pubsub/publish-batcher.js";
import { PublishDedupe } from "./pubsub/publish-dedupe.js";
import { PubSubResources } from "./pubsub/resources.js";

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
}

/** The Pub/Sub adapter: a {@link BrokerAdapter} plus what is specific to Pub/Sub. */
export interface GooglePubSubAdapter extends BrokerAdapter {
  readonly kind: "pubsub";
  /** Project the adapter works in. */
  readonly projectId: string;
  /** True when the client talks to an emulator (no state survives an emulator restart). */
  readonly usesEmulator: boolean;
  /** Resource names of inbox `key` (no call is made), e.g. for provisioning by hand. */
  resourcesOf(key: InboxKey): InboxResourcePaths;
}

/** Attribute naming why a message was moved to the undeliverable topic. */
const REASON_ATTRIBUTE = "soorma-undeliverable-reason";
/** Attribute naming the subscription a message was moved out of. */
const SOURCE_ATTRIBUTE = "soorma-source-subscription";

/**
 * Store events in Google Cloud Pub/Sub: one topic per (tenant, Soorma topic), one subscription per inbox
 * (tenant, group, topic), created on first use or ahead by provisioning (`ensureInbox`). Consumers pull with
 * unary `Pull` calls sized by the core's member credits, so several gateway replicas share a subscription.
 * See docs/adapters/pubsub.md for the guarantees and what differs from the other adapters.
 *
 * The process must run with `METADATA_SERVER_DETECTION=none` when no Google metadata server is wanted (tests,
 * the emulator), else the client library probes one.
 *
 * @throws ConfigError when an option is out of range, or no project id is given outside an emulator
 */
export function createGooglePubSubAdapter(options: GooglePubSubAdapterOptions = {}): GooglePubSubAdapter {
  const settings = resolveSettings(options);
  const pubsub = new PubSub({
    ...(settings.projectId === undefined ? {} : { projectId: settings.projectId }),
    ...(options.apiEndpoint === undefined ? {} : { apiEndpoint: options.apiEndpoint }),
  });
  const usesEmulator = pubsub.isEmulator;
  const projectId = settings.projectId ?? (usesEmulator ? EMULATOR_PROJECT_ID : undefined);
  if (projectId === undefined) {
    throw new ConfigError(
      "the Pub/Sub adapter needs a project id (SOORMA_PUBSUB_PROJECT_ID) unless PUBSUB_EMULATOR_HOST points at an emulator",
    );
  }
  pubsub.projectId = projectId;

  const capabilities: AdapterCapabilities = Object.freeze({
    durable: true,
    multiReplica: true,
    // The emulator keeps everything in memory; Pub/Sub itself keeps messages for the retention period.
    survivesBrokerRestart: !usesEmulator,
  });
  const health = new PubSubHealth();
  const dedupe = new PublishDedupe({ windowMs: settings.dedupeWindowMs, maxEntries: settings.dedupeMaxEntries });
  const consumers = new Set<PubSubInboxConsumer>();
  let clients:
    | {
        publisher: v1.PublisherClient;
        subscriber: v1.SubscriberClient;
        resources: PubSubResources;
        batcher: PublishBatcher;
      }
    | undefined;
  let closePromise: Promise<void> | undefined;

  function ready(): NonNullable<typeof clients> {
    if (health.closed) throw new BrokerUnavailableError("Pub/Sub adapter is closed");
    if (clients === undefined) {
      throw new BrokerUnavailableError("Pub/Sub adapter is not connected; call connect() first");
    }
    return clients;
  }

  /** Run an admin call, keeping the health status in step with what happened. */
  async function tracked<T>(operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      health.reached();
      return result;
    } catch (error) {
      health.failed(error);
      throw error;
    }
  }

  async function store(tenant: string, topic: string, encoded: EncodedEvent): Promise<void> {
    const { resources, batcher } = ready();
    const path = await tracked(() => resources.ensureTopic(tenant, topic));
    try {
      await tracked(() => batcher.publish(path, encoded));
    } catch (error) {
      if (!isNotFound(error)) throw toBrokerError(error, `publishing on ${path}`);
      // The topic vanished since this process created it (emulator restart, operator): create it and retry once.
      resources.forget();
      await tracked(() => resources.ensureTopic(tenant, topic));
      await tracked(() => batcher.publish(path, encoded)).catch((retryError: unknown) => {
        throw toBrokerError(retryError, `publishing on ${path}`);
      });
    }
  }

  /** Move a message that is not an event to its tenant's undeliverable topic, then ack it. */
  async function setAside(
    key: InboxKey,
    subscription: string,
    message: protos.google.pubsub.v1.IReceivedMessage,
    reason: string,
  ): Promise<void> {
    const { resources, batcher, subscriber } = ready();
    const data = message.message?.data;
    await batcher.publish(resources.undeliverableTopicPathOf(key.tenant), {
      data: typeof data === "string" ? Buffer.from(data, "base64") : Buffer.from(data ?? new Uint8Array()),
      attributes: {
        ...(message.message?.attributes ?? {}),
        [REASON_ATTRIBUTE]: reason.slice(0, 1000),
        [SOURCE_ATTRIBUTE]: subscription,
      },
    });
    await subscriber.acknowledge(
      { subscription, ackIds: [message.ackId ?? ""] },
      { timeout: settings.requestTimeoutMs },
    );
  }

  const adapter: GooglePubSubAdapter = {
    kind: "pubsub",
    capabilities,
    projectId,
    usesEmulator,

    async connect() {
      if (health.closed) throw new BrokerUnavailableError("Pub/Sub adapter is closed");
      if (clients === undefined) {
        const { port, ...rest } = await pubsub.getClientConfig();
        // The library types `port` loosely; it has already parsed it into a number (or left it unset).
        const clientConfig = { ...rest, port: port === undefined ? undefined : Number(port) };
        const publisher = new v1.PublisherClient(clientConfig);
        const subscriber = new v1.SubscriberClient(clientConfig);
        clients = {
          publisher,
          subscriber,
          resources: new PubSubResources(publisher, subscriber, {
            projectId,
            prefix: settings.prefix,
            ackDeadlineSeconds: settings.ackDeadlineSeconds,
            maxDeliveryAttempts: settings.maxDeliveryAttempts,
            messageRetentionSeconds: settings.messageRetentionSeconds,
            requestTimeoutMs: settings.requestTimeoutMs,
          }),
          batcher: new PublishBatcher(publisher, settings.requestTimeoutMs),
        };
      }
      try {
        // Any answer proves Pub/Sub is reachable, even PERMISSION_DENIED from a least-privilege account.
        await clients.publisher.listTopics(
          { project: `projects/${projectId}`, pageSize: 1 },
          { timeout: settings.connectTimeoutMs, autoPaginate: false },
        );
      } catch (error) {
        if (isTransportFailure(error)) {
          throw new BrokerUnavailableError(
            `Pub/Sub is not reachable${usesEmulator ? " (emulator)" : ""} within ${settings.connectTimeoutMs} ms`,
            { cause: error },
          );
        }
      }
      health.reached();
    },

    close() {
      closePromise ??= (async () => {
        health.markClosed();
        await Promise.allSettled([...consumers].map((consumer) => consumer.close()));
        consumers.clear();
        dedupe.clear();
        const open = clients;
        if (open !== undefined) {
          await open.batcher.flush();
          await Promise.allSettled([open.publisher.close(), open.subscriber.close()]);
        }
        await pubsub.close().catch(() => {});
      })();
      return closePromise;
    },

    status(): AdapterStatus {
      return health.status;
    },

    async publish(event: EventEnvelope): Promise<PublishReceipt> {
      ready();
      const tenant = tenantOf(event);
      const encoded = encodeEvent(event, tenant);
      const duplicate = await dedupe.publishOnce(`${tenant}\n${event.id}`, () =>
        store(tenant, event.topic, encoded),
      );
      return { eventId: event.id, duplicate };
    },

    async ensureInbox(key: InboxKey) {
      const { resources } = ready();
      await tracked(() => resources.ensureSubscription(key));
    },

    async openInbox(key: InboxKey, openOptions: OpenInboxOptions): Promise<InboxConsumer> {
      const { resources, subscriber } = ready();
      const subscription = await tracked(() => resources.ensureSubscription(key));
      const consumer = new PubSubInboxConsumer(
        { tenant: key.tenant, group: key.group, topic: key.topic },
        subscription,
        openOptions,
        {
          subscriber,
          resources,
          health,
          requestTimeoutMs: settings.requestTimeoutMs,
          setAside,
          onClose: (closed) => consumers.delete(closed),
        },
      );
      consumers.add(consumer);
      return consumer;
    },

    async listInboxes(tenant?: string): Promise<InboxStats[]> {
      const { resources } = ready();
      const keys = await tracked(() => resources.listInboxKeys(tenant));
      // Pub/Sub reports backlogs only through Cloud Monitoring, not through its API.
      return keys.map((key) => ({ key, pending: undefined }));
    },

    resourcesOf(key: InboxKey): InboxResourcePaths {
      return inboxResourcePaths(projectId, settings.prefix, key);
    },

    [Symbol.asyncDispose]() {
      return adapter.close();
    },
  };
  return adapter;
}

/**
 * The adapter the gateway configuration describes (`broker: "pubsub"`): the `pubsub` section, plus the
 * subscriptions' ack deadline from `leaseMs`.
 *
 * @throws ConfigError when `leaseMs` exceeds Pub/Sub's 600 s ack deadline, or `maxAttempts` is not below
 *   `pubsub.maxDeliveryAttempts` (Pub/Sub would move messages aside before the core dead-letters them)
 */
export function createPubSubAdapterFromConfig(config: GatewayConfig): GooglePubSubAdapter {
  if (config.leaseMs > MAX_ACK_DEADLINE_SECONDS * 1000) {
    throw new ConfigError(
      `SOORMA_LEASE_MS is ${config.leaseMs}; Pub/Sub leases messages for at most ${MAX_ACK_DEADLINE_SECONDS} s`,
    );
  }
  if (config.maxAttempts >= config.pubsub.maxDeliveryAttempts) {
    throw new ConfigError(
      `SOORMA_MAX_ATTEMPTS (${config.maxAttempts}) must be below SOORMA_PUBSUB_MAX_DELIVERY_ATTEMPTS (${config.pubsub.maxDeliveryAttempts}), so the gateway dead-letters before Pub/Sub gives up on a message`,
    );
  }
  return createGooglePubSubAdapter({
    projectId: config.pubsub.projectId,
    prefix: config.pubsub.prefix,
    ackDeadlineSeconds: Math.min(MAX_ACK_DEADLINE_SECONDS, Math.max(10, Math.ceil(config.leaseMs / 1000))),
    maxDeliveryAttempts: config.pubsub.maxDeliveryAttempts,
    messageRetentionSeconds: Math.ceil(config.pubsub.retentionMs / 1000),
    dedupeWindowMs: config.pubsub.dedupeWindowMs,
    requestTimeoutMs: config.pubsub.requestTimeoutMs,
    connectTimeoutMs: config.pubsub.connectTimeoutMs,
  });
}

type ResolvedSettings = Required<Omit<GooglePubSubAdapterOptions, "projectId" | "apiEndpoint">> & {
  readonly projectId: string | undefined;
};

function resolveSettings(options: GooglePubSubAdapterOptions): ResolvedSettings {
  const settings: ResolvedSettings = {
    projectId: options.projectId === "" ? undefined : options.projectId,
    prefix: options.prefix ?? GOOGLE_PUBSUB_DEFAULTS.prefix,
    ackDeadlineSeconds: options.ackDeadlineSeconds ?? GOOGLE_PUBSUB_DEFAULTS.ackDeadlineSeconds,
    maxDeliveryAttempts: options.maxDeliveryAttempts ?? GOOGLE_PUBSUB_DEFAULTS.maxDeliveryAttempts,
    messageRetentionSeconds: options.messageRetentionSeconds ?? GOOGLE_PUBSUB_DEFAULTS.messageRetentionSeconds,
    dedupeWindowMs: options.dedupeWindowMs ?? GOOGLE_PUBSUB_DEFAULTS.dedupeWindowMs,
    dedupeMaxEntries: options.dedupeMaxEntries ?? GOOGLE_PUBSUB_DEFAULTS.dedupeMaxEntries,
    requestTimeoutMs: options.requestTimeoutMs ?? GOOGLE_PUBSUB_DEFAULTS.requestTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? GOOGLE_PUBSUB_DEFAULTS.connectTimeoutMs,
  };
  assertValidPrefix(settings.prefix);
  assertRange("ackDeadlineSeconds", settings.ackDeadlineSeconds, 10, 600);
  assertRange("maxDeliveryAttempts", settings.maxDeliveryAttempts, 5, 100);
  assertRange("messageRetentionSeconds", settings.messageRetentionSeconds, 600, 604_800);
  assertRange("dedupeWindowMs", settings.dedupeWindowMs, 0, Number.MAX_SAFE_INTEGER);
  assertRange("dedupeMaxEntries", settings.dedupeMaxEntries, 1, Number.MAX_SAFE_INTEGER);
  assertRange("requestTimeoutMs", settings.requestTimeoutMs, 100, Number.MAX_SAFE_INTEGER);
  assertRange("connectTimeoutMs", settings.connectTimeoutMs, 100, Number.MAX_SAFE_INTEGER);
  return settings;
}

function assertRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`Pub/Sub adapter option ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
