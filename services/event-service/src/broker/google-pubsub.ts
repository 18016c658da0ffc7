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
import { isTransportFailure, PubSubHealth, ReachabilityProbe } from "./pubsub/health.js";
import { PubSubInboxConsumer } from "./pubsub/inbox-consumer.js";
import { MAX_ACK_DEADLINE_SECONDS } from "./pubsub/lease-tracker.js";
import { type InboxResourcePaths, inboxResourcePaths } from "./pubsub/naming.js";
import {
  EMULATOR_PROJECT_ID,
  GOOGLE_PUBSUB_DEFAULTS,
  type GooglePubSubAdapterOptions,
  resolveSettings,
} from "./pubsub/options.js";
import { PublishBatcher } from "./pubsub/publish-batcher.js";
import { PublishDedupe } from "./pubsub/publish-dedupe.js";
import { PubSubResources } from "./pubsub/resources.js";
import { setAsideMessage } from "./pubsub/undeliverable.js";

export type { GooglePubSubAdapterOptions } from "./pubsub/options.js";
export { EMULATOR_PROJECT_ID, GOOGLE_PUBSUB_DEFAULTS };

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
  const endpoint = options.apiEndpoint === undefined ? {} : { apiEndpoint: options.apiEndpoint };
  // Constructing a client makes no call; it tells whether the endpoint is an emulator (which needs no project).
  const usesEmulator = new PubSub({ ...endpoint, projectId: EMULATOR_PROJECT_ID }).isEmulator;
  const projectId = settings.projectId ?? (usesEmulator ? EMULATOR_PROJECT_ID : undefined);
  if (projectId === undefined) {
    throw new ConfigError(
      "the Pub/Sub adapter needs a project id (SOORMA_PUBSUB_PROJECT_ID) unless PUBSUB_EMULATOR_HOST points at an emulator",
    );
  }
  const pubsub = new PubSub({ ...endpoint, projectId });

  const capabilities: AdapterCapabilities = Object.freeze({
    durable: true,
    multiReplica: true,
    // The emulator keeps everything in memory; Pub/Sub itself keeps messages for the retention period.
    survivesBrokerRestart: !usesEmulator,
    // Pub/Sub has no publish dedupe: the adapter remembers recent ids in this process only.
    durableDedupe: false,
  });
  const health = new PubSubHealth();
  const dedupe = new PublishDedupe({
    windowMs: settings.dedupeWindowMs,
    maxEntries: settings.dedupeMaxEntries,
  });
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
  let probe: ReachabilityProbe | undefined;

  /** One cheap call; any answer, even PERMISSION_DENIED from a least-privilege account, proves reachability. */
  function listOneTopic(publisher: v1.PublisherClient, timeoutMs: number, retry: boolean): Promise<unknown> {
    return publisher.listTopics(
      { project: `projects/${projectId}`, pageSize: 1 },
      { timeout: timeoutMs, autoPaginate: false, ...(retry ? {} : { retry: null }) },
    );
  }

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

  function setAside(
    key: InboxKey,
    subscription: string,
    message: protos.google.pubsub.v1.IReceivedMessage,
    reason: string,
  ): Promise<void> {
    const { resources, batcher, subscriber } = ready();
    const context = { batcher, subscriber, requestTimeoutMs: settings.requestTimeoutMs };
    return setAsideMessage(
      context,
      resources.undeliverableTopicPathOf(key.tenant),
      subscription,
      message,
      reason,
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
      const { publisher } = clients;
      try {
        await listOneTopic(publisher, settings.connectTimeoutMs, true);
      } catch (error) {
        if (isTransportFailure(error)) {
          throw new BrokerUnavailableError(
            `Pub/Sub is not reachable${usesEmulator ? " (emulator)" : ""} within ${settings.connectTimeoutMs} ms`,
            { cause: error },
          );
        }
      }
      health.reached();
      probe ??= new ReachabilityProbe(health, settings.probeIntervalMs, () =>
        listOneTopic(publisher, Math.min(settings.probeIntervalMs, settings.connectTimeoutMs), false),
      );
      probe.start();
    },

    close() {
      closePromise ??= (async () => {
        health.markClosed();
        probe?.stop();
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
    probeIntervalMs: config.pubsub.probeIntervalMs,
  });
}
