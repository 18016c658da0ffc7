import { readFileSync } from "node:fs";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  type ConnectionOptions,
  connect as connectNats,
  credsAuthenticator,
  type NatsConnection,
} from "@nats-io/transport-node";
import type { EventEnvelope } from "@soorma/common";
import { BrokerUnavailableError, ConfigError } from "@soorma/common";
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
import { AckChannel } from "./nats/acks.js";
import { ConnectionState } from "./nats/connection-state.js";
import { brokerAckWaitMs, DurableConsumers } from "./nats/durable-consumers.js";
import { toBrokerError, withTimeout } from "./nats/errors.js";
import { JetStreamInboxConsumer } from "./nats/inbox-consumer.js";
import { parseInboxDescription } from "./nats/naming.js";
import { ensureStream, type NatsRetention, type NatsStorage, type StreamSettings } from "./nats/stream.js";
import { assertSubjectPrefix, DEFAULT_SUBJECT_PREFIX, eventSubject, streamSubject } from "./nats/subjects.js";

export type { NatsRetention, NatsStorage } from "./nats/stream.js";

/** Default server list. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** Default stream name. */
export const DEFAULT_NATS_STREAM = "SOORMA_EVENTS";
/** Default age limit of stored events: 7 days. */
export const DEFAULT_NATS_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** Default size limit of the stream: 1 GiB. */
export const DEFAULT_NATS_MAX_BYTES = 1024 * 1024 * 1024;
/** Default dedupe window (JetStream's own default). */
export const DEFAULT_NATS_DUPLICATE_WINDOW_MS = 120_000;
/** Default lowest `max_ack_pending` of an inbox consumer (the largest prefetch one member may ask for). */
export const DEFAULT_NATS_MIN_MAX_ACK_PENDING = 1000;

/** The logger the adapter reports to; pino and Fastify's `app.log` fit. */
export interface NatsAdapterLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

/** Options of {@link createNatsJetStreamAdapter}. */
export interface NatsJetStreamAdapterOptions {
  /** Server URL, or several (comma-separated or an array) of one cluster. @default "nats://127.0.0.1:4222" */
  readonly servers?: string | readonly string[];
  /** Stream that stores every event. @default "SOORMA_EVENTS" */
  readonly stream?: string;
  /** First subject token(s); see docs/adapters/nats.md for the scheme. @default "soorma" */
  readonly subjectPrefix?: string;
  /**
   * `"interest"`: an event is kept until every inbox that wants it acked it, and a full stream refuses new events.
   * `"limits"`: events are kept until the age/size limits remove the oldest (delivered or not), so taps can replay.
   * @default "interest"
   */
  readonly retention?: NatsRetention;
  /** `"memory"` does not survive a server restart. @default "file" */
  readonly storage?: NatsStorage;
  /** Oldest event kept, in ms; 0 = no limit. @default 604800000 (7 days) */
  readonly maxAgeMs?: number;
  /** Most bytes the stream keeps; -1 = no limit. @default 1073741824 (1 GiB) */
  readonly maxBytes?: number;
  /** A repeated event id within this window is recognised as a duplicate. @default 120000 */
  readonly duplicateWindowMs?: number;
  /** Copies kept in a JetStream cluster (1, 3 or 5 usually). @default 1 */
  readonly replicas?: number;
  /** How long `connect()` tries to reach a server. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Deadline of each JetStream request (publish ack, ack confirmation, stream/consumer calls). @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Pause between reconnect attempts (the client adds jitter). @default 1000 */
  readonly reconnectWaitMs?: number;
  /** Lowest `max_ack_pending` of an inbox consumer. @default 1000 */
  readonly minMaxAckPending?: number;
  /** Ack wait of inboxes created by `ensureInbox` before any gateway opened them. @default 30000 */
  readonly defaultLeaseMs?: number;
  /** User name (with {@link password}). */
  readonly user?: string;
  /** Password of {@link user}. */
  readonly password?: string;
  /** Authentication token. */
  readonly token?: string;
  /** Path of a `.creds` file (JWT + NKey seed). */
  readonly credsFile?: string;
  /** Connection name shown by the server's monitoring. @default "soorma-event-service" */
  readonly connectionName?: string;
  /** Where connection changes and undecodable messages are reported. @default silent */
  readonly logger?: NatsAdapterLogger;
}

const silentLogger: NatsAdapterLogger = { info() {}, warn() {} };
const encoder = new TextEncoder();
const RESYNC_MAX_DELAY_MS = 2_000;

/**
 * The production adapter: NATS JetStream. Every event is stored in one stream under
 * `<prefix>.<tenant>.<topic>.<event type>`; every inbox is a durable pull consumer filtered on its tenant and
 * topic, which several gateway replicas may pull from at once (the broker leases each message to one of them).
 * A publish resolves on the stream's PubAck; the envelope id (scoped by tenant) is the `Nats-Msg-Id`, so the
 * stream's duplicate window drops a retried publish. See docs/adapters/nats.md.
 */
export function createNatsJetStreamAdapter(options: NatsJetStreamAdapterOptions = {}): BrokerAdapter {
  const settings = resolveSettings(options);
  const logger = options.logger ?? silentLogger;
  const state = new ConnectionState();
  const openConsumers = new Set<JetStreamInboxConsumer>();
  let connection: Connected | undefined;
  let connecting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let resyncing: Promise<void> | undefined;

  interface Connected {
    readonly nc: NatsConnection;
    readonly jsm: JetStreamManager;
    readonly js: JetStreamClient;
    readonly consumers: DurableConsumers;
    readonly acks: AckChannel;
  }

  /** The connection, for operations that must not wait (publish, pull): fails at once while disconnected. */
  function connectedNow(): Connected {
    if (state.closed) throw new BrokerUnavailableError("NATS adapter is closed");
    if (connection === undefined)
      throw new BrokerUnavailableError("NATS adapter is not connected; call connect()");
    if (!state.transportUp) throw new BrokerUnavailableError("NATS: not connected to a server; retry later");
    return connection;
  }

  /**
   * The connection, for control operations (subscribe, admin): a reconnect in progress is waited for, up to the
   * request timeout, so that a client subscribing right after a broker restart is not turned away.
   */
  async function connectedSoon(): Promise<Connected> {
    if (connection === undefined) return connectedNow();
    await state.whenReady(settings.requestTimeoutMs);
    return connectedNow();
  }

  async function open(): Promise<void> {
    if (state.closed) throw new BrokerUnavailableError("NATS adapter is closed");
    let nc: NatsConnection;
    try {
      nc = await connectNats(connectionOptions(options, settings));
    } catch (error) {
      throw toBrokerError(error, `connecting to ${settings.servers.join(",")}`);
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: settings.requestTimeoutMs });
      await ensureStream(jsm, settings.stream, logger);
      connection = {
        nc,
        jsm,
        js: jetstream(nc, { timeout: settings.requestTimeoutMs }),
        consumers: new DurableConsumers(jsm, {
          stream: settings.stream.name,
          subjectPrefix: settings.subjectPrefix,
          defaultLeaseMs: settings.defaultLeaseMs,
          minMaxAckPending: settings.minMaxAckPending,
        }),
        acks: new AckChannel(nc, () => state.transportUp, settings.requestTimeoutMs),
      };
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw toBrokerError(error, `setting up stream ${settings.stream.name}`);
    }
    if (state.closed) {
      await nc.close().catch(() => undefined);
      throw new BrokerUnavailableError("NATS adapter was closed while connecting");
    }
    state.markReady();
    watchStatus(connection).catch((error: unknown) => {
      logger.warn({ err: error }, "watching the NATS connection status failed");
    });
    logger.info({ server: nc.getServer(), stream: settings.stream.name }, "connected to NATS JetStream");
  }

  async function watchStatus(current: Connected): Promise<void> {
    for await (const event of current.nc.status()) {
      switch (event.type) {
        case "disconnect":
          state.markDisconnected(`disconnected from ${event.server}`);
          for (const consumer of openConsumers) consumer.interrupt();
          logger.warn({ server: event.server }, "NATS connection lost; reconnecting");
          break;
        case "reconnect":
          state.markReconnected();
          logger.info({ server: event.server }, "NATS connection restored");
          void resync(current);
          break;
        case "error":
          state.noteError(event.error.message);
          break;
        case "staleConnection":
          state.noteError("stale connection (server stopped answering pings)");
          break;
        default:
          break;
      }
    }
  }

  /** After a reconnect: the server may have restarted without its store, so recreate what we rely on. */
  function resync(current: Connected): Promise<void> {
    resyncing ??= (async () => {
      for (let attempt = 1; !state.closed && state.transportUp; attempt++) {
        try {
          await ensureStream(current.jsm, settings.stream, logger);
          await current.consumers.resync();
          if (state.transportUp) state.markReady();
          return;
        } catch (error) {
          state.noteError(error instanceof Error ? error.message : String(error));
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(RESYNC_MAX_DELAY_MS, 100 * 2 ** attempt)),
          );
        }
      }
    })().finally(() => {
      resyncing = undefined;
    });
    return resyncing;
  }

  const adapter: BrokerAdapter = {
    kind: "nats",
    capabilities: capabilitiesFor(settings.stream.storage),

    connect() {
      connecting ??= open();
      return connecting;
    },

    close() {
      closing ??= (async () => {
        state.markClosed();
        await connecting?.catch(() => undefined);
        // Consumers give back what they hold while the connection can still carry the naks.
        await Promise.all([...openConsumers].map((consumer) => consumer.close()));
        if (connection !== undefined) {
          const { nc } = connection;
          await withTimeout(nc.drain(), settings.requestTimeoutMs, "drain").catch(() => nc.close());
        }
        state.markTransportDown();
      })();
      return closing;
    },

    status(): AdapterStatus {
      return state.status;
    },

    async publish(event: EventEnvelope): Promise<PublishReceipt> {
      const { js } = connectedNow();
      const subject = eventSubject(settings.subjectPrefix, event);
      try {
        const ack = await js.publish(subject, encoder.encode(JSON.stringify(event)), {
          // Scoped by tenant: two tenants may use the same event id without one's publish hiding the other's.
          msgID: `${event.platform_tenant_id}:${event.id}`,
          timeout: settings.requestTimeoutMs,
        });
        return { eventId: event.id, duplicate: ack.duplicate };
      } catch (error) {
        throw toBrokerError(error, `publish to ${subject}`);
      }
    },

    async ensureInbox(key: InboxKey): Promise<void> {
      const { consumers } = await connectedSoon();
      try {
        await consumers.ensure(key);
      } catch (error) {
        throw toBrokerError(error, "creating an inbox consumer");
      }
    },

    async openInbox(key: InboxKey, openOptions: OpenInboxOptions): Promise<InboxConsumer> {
      const current = await connectedSoon();
      let durable: string;
      try {
        durable = await current.consumers.ensure(key, openOptions);
      } catch (error) {
        throw toBrokerError(error, "opening an inbox consumer");
      }
      const consumer: JetStreamInboxConsumer = new JetStreamInboxConsumer({
        key: { tenant: key.tenant, group: key.group, topic: key.topic },
        nc: current.nc,
        stream: settings.stream.name,
        durable,
        subjectPrefix: settings.subjectPrefix,
        ackWaitMs: brokerAckWaitMs(openOptions.leaseMs),
        acks: current.acks,
        requestTimeoutMs: settings.requestTimeoutMs,
        isConnected: () => state.transportUp,
        onConsumerMissing: (missing) => {
          current.consumers.repair(missing).catch((error: unknown) => {
            logger.warn({ ...missing, err: error }, "recreating a missing NATS inbox consumer failed");
          });
        },
        onPoisonMessage: (details) => {
          logger.warn(
            details,
            "a stored message is not a valid event; terminated (it will not be redelivered)",
          );
        },
        onClose: () => openConsumers.delete(consumer),
      });
      openConsumers.add(consumer);
      return consumer;
    },

    async listInboxes(tenant?: string): Promise<InboxStats[]> {
      const { jsm } = await connectedSoon();
      const inboxes: InboxStats[] = [];
      try {
        for await (const info of jsm.consumers.list(settings.stream.name)) {
          const key = parseInboxDescription(info.config.description);
          if (key === undefined || (tenant !== undefined && key.tenant !== tenant)) continue;
          inboxes.push({ key, pending: info.num_pending + info.num_ack_pending });
        }
      } catch (error) {
        throw toBrokerError(error, "listing inbox consumers");
      }
      return inboxes;
    },

    [Symbol.asyncDispose]() {
      return adapter.close();
    },
  };
  return adapter;
}

/** Validated settings with defaults filled in. */
interface ResolvedSettings {
  readonly servers: string[];
  readonly subjectPrefix: string;
  readonly stream: StreamSettings;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly reconnectWaitMs: number;
  readonly minMaxAckPending: number;
  readonly defaultLeaseMs: number;
}

function resolveSettings(options: NatsJetStreamAdapterOptions): ResolvedSettings {
  const rawServers = options.servers ?? DEFAULT_NATS_URL;
  const servers = (typeof rawServers === "string" ? rawServers.split(",") : [...rawServers])
    .map((server) => server.trim())
    .filter((server) => server.length > 0);
  if (servers.length === 0) throw new ConfigError("NATS: at least one server URL is required");
  const subjectPrefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  assertSubjectPrefix(subjectPrefix);
  const name = options.stream ?? DEFAULT_NATS_STREAM;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) {
    throw new ConfigError(`NATS stream name ${JSON.stringify(name)} must be letters, digits, '_' or '-'`);
  }
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_NATS_MAX_AGE_MS;
  const duplicateWindowMs = options.duplicateWindowMs ?? DEFAULT_NATS_DUPLICATE_WINDOW_MS;
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) {
    throw new ConfigError("NATS: the duplicate window cannot be longer than the stream's max age");
  }
  return {
    servers,
    subjectPrefix,
    stream: {
      name,
      subject: streamSubject(subjectPrefix),
      retention: options.retention ?? "interest",
      storage: options.storage ?? "file",
      maxAgeMs,
      maxBytes: options.maxBytes ?? DEFAULT_NATS_MAX_BYTES,
      duplicateWindowMs,
      replicas: options.replicas ?? 1,
    },
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
    reconnectWaitMs: options.reconnectWaitMs ?? 1_000,
    minMaxAckPending: options.minMaxAckPending ?? DEFAULT_NATS_MIN_MAX_ACK_PENDING,
    defaultLeaseMs: options.defaultLeaseMs ?? 30_000,
  };
}

function connectionOptions(
  options: NatsJetStreamAdapterOptions,
  settings: ResolvedSettings,
): ConnectionOptions {
  const connection: ConnectionOptions = {
    servers: settings.servers,
    name: options.connectionName ?? "soorma-event-service",
    timeout: settings.connectTimeoutMs,
    // Keep trying for ever: a gateway outlives broker restarts and reports "reconnecting" on /ready meanwhile.
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: settings.reconnectWaitMs,
  };
  if (options.user !== undefined) connection.user = options.user;
  if (options.password !== undefined) connection.pass = options.password;
  if (options.token !== undefined) connection.token = options.token;
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(options.credsFile);
    } catch (error) {
      throw new ConfigError(`NATS: cannot read the creds file ${options.credsFile}`, { cause: error });
    }
    connection.authenticator = credsAuthenticator(creds);
  }
  return connection;
}

function capabilitiesFor(storage: NatsStorage): AdapterCapabilities {
  return Object.freeze({
    durable: true,
    multiReplica: true,
    survivesBrokerRestart: storage === "file",
    durableDedupe: true,
  });
}
