import { join } from "node:path";
import type { GatewayConfig } from "../config.js";
import type { BrokerAdapter } from "./adapter.js";
import { createPubSubAdapterFromConfig } from "./google-pubsub.js";
import { createMemoryAdapter } from "./memory.js";
import type { NatsAdapterLogger } from "./nats-jetstream.js";
import { createNatsJetStreamAdapter } from "./nats-jetstream.js";
import { createSqliteAdapter, SQLITE_FILE_NAME } from "./sqlite.js";

/** Extras of {@link createAdapter} that do not come from config. */
export interface CreateAdapterOptions {
  /** Where adapters that log on their own (NATS reconnects, undecodable messages) report; pino fits. */
  logger?: NatsAdapterLogger;
}

/**
 * Create the adapter `config.broker` names: the one place that picks an adapter. The adapter is not connected
 * yet (the broker plugin connects it).
 *
 * @throws ConfigError when the named adapter is not available
 */
export function createAdapter(config: GatewayConfig, options: CreateAdapterOptions = {}): BrokerAdapter {
  switch (config.broker) {
    case "memory":
      return createMemoryAdapter();
    case "sqlite":
      // The adapter creates the data directory when it is missing.
      return createSqliteAdapter({ path: join(config.dataDir, SQLITE_FILE_NAME) });
    case "nats":
      return createNatsJetStreamAdapter({
        servers: config.nats.url,
        stream: config.nats.stream,
        subjectPrefix: config.nats.subjectPrefix,
        retention: config.nats.retention,
        storage: config.nats.storage,
        maxAgeMs: config.nats.maxAgeMs,
        maxBytes: config.nats.maxBytes,
        duplicateWindowMs: config.nats.duplicateWindowMs,
        replicas: config.nats.replicas,
        connectTimeoutMs: config.nats.connectTimeoutMs,
        requestTimeoutMs: config.nats.requestTimeoutMs,
        reconnectWaitMs: config.nats.reconnectWaitMs,
        // Inboxes provisioned before any gateway opened them lease like the gateway will.
        defaultLeaseMs: config.leaseMs,
        user: config.nats.user,
        password: config.nats.password,
        token: config.nats.token,
        credsFile: config.nats.credsFile,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      });
    case "pubsub":
      return createPubSubAdapterFromConfig(config);
  }
}
