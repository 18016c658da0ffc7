import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Authenticator } from "../auth/authenticator.js";
import type { BrokerAdapter } from "../broker/adapter.js";
import type { GatewayConfig } from "../config.js";
import type { Dispatcher } from "../core/dispatcher.js";
import { Gateway } from "../core/gateway.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The broker adapter, connected while the app is open. */
    broker: BrokerAdapter;
    /** The dispatch core (groups, members, pumps). */
    dispatcher: Dispatcher;
    /** The gateway runtime: sessions, publishing, `drain()`. */
    soorma: Gateway;
  }
}

/** Options of {@link brokerPlugin}. */
export interface BrokerPluginOptions {
  readonly config: GatewayConfig;
  /** The adapter to connect; the plugin owns it from now on and closes it when the app closes. */
  readonly adapter: BrokerAdapter;
  /** Built from `config.auth` at start (see `createAuthenticator`). */
  readonly authenticator: Authenticator;
  readonly serverVersion: string;
  /** Longest wait of one idle pull. @default 1000 */
  readonly pullWaitMs?: number;
}

/**
 * Connects the adapter, builds the gateway runtime and decorates `app.broker`, `app.dispatcher` and
 * `app.soorma`. On close it stops the dispatch core (un-acked deliveries go back to the broker), then closes
 * the adapter.
 */
export const brokerPlugin = fp(
  async (app: FastifyInstance, options: BrokerPluginOptions) => {
    const { adapter } = options;
    try {
      await adapter.connect();
    } catch (error) {
      await adapter.close().catch(() => undefined);
      throw error;
    }
    const gateway = new Gateway({
      config: options.config,
      adapter,
      authenticator: options.authenticator,
      logger: app.log,
      serverVersion: options.serverVersion,
      pullWaitMs: options.pullWaitMs,
    });
    app.decorate("broker", adapter);
    app.decorate("dispatcher", gateway.dispatcher);
    app.decorate("soorma", gateway);
    app.addHook("onClose", async () => {
      await gateway.dispatcher.close();
      await adapter.close();
    });
  },
  { name: "soorma-broker", fastify: "5.x" },
);
