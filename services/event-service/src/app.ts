import { createRequire } from "node:module";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { type Authenticator, createAuthenticator } from "./auth/authenticator.js";
import { redactAuthConfig } from "./auth/config.js";
import type { BrokerAdapter } from "./broker/adapter.js";
import { createAdapter } from "./broker/factory.js";
import { type GatewayConfig, type GatewayConfigInput, resolveConfig } from "./config.js";
import { authenticatePlugin } from "./plugins/authenticate.js";
import { brokerPlugin } from "./plugins/broker.js";
import { errorHandlerPlugin } from "./plugins/error-handler.js";
import { jsonBodyPlugin } from "./plugins/json-body.js";
import { adminRoutes } from "./routes/admin.js";
import { adminInboxRoutes } from "./routes/admin-inboxes.js";
import { healthRoutes } from "./routes/health.js";
import { publishRoutes } from "./routes/publish.js";
import { wsMaxPayloadBytes, wsRoutes } from "./routes/ws.js";

/** Version of this package, reported in `welcome`. */
export const SERVER_VERSION: string = (
  createRequire(import.meta.url)("../package.json") as { version: string }
).version;

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /**
   * Merged over the defaults (the environment is not read; use `loadConfig` for that). `config.host` must be
   * the address the app will listen on: it decides whether running without credentials is allowed.
   * @default {}
   */
  config?: GatewayConfigInput;
  /**
   * A ready-made adapter (tests). The app owns it: it connects it and closes it when the app closes.
   * @default createAdapter(config)
   */
  adapter?: BrokerAdapter;
  /** Fastify's `logger` option (`true`, or pino options such as `{ level: "info" }`). @default false */
  logger?: boolean | object;
  /**
   * Longest wait of one idle pull of an inbox pump. Mostly for tests; the default suits every adapter.
   * @default 1000
   */
  pullWaitMs?: number;
}

/**
 * Build the gateway: Fastify with the broker plugin (adapter connected, dispatch core running), the WebSocket
 * endpoint and the HTTP routes. It does not listen: call `app.listen(...)`, or `app.inject(...)` in tests.
 * `app.soorma.drain()` drains gracefully; `app.close()` closes at once (un-acked deliveries go back to the
 * broker).
 *
 * Authentication is set up first: key files are read and the mode decided (see docs/security.md). Without
 * configured credentials the app runs open only when `config.host` is a loopback address, and logs a warning
 * saying so; on any other address it refuses to start.
 *
 * @throws ConfigError on an invalid config, unreadable credentials, or no credentials on a non-loopback host;
 *   BrokerUnavailableError when the broker cannot be reached
 */
export async function buildApp(options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const config = resolveConfig(options.config);
  let authenticator: Authenticator;
  try {
    authenticator = createAuthenticator(config.auth, {
      host: config.host,
      defaultTenant: config.defaultTenant,
    });
  } catch (error) {
    // The app owns an injected adapter from the start, also when it never gets to connect it.
    await options.adapter?.close().catch(() => undefined);
    throw error;
  }
  const app = Fastify({
    logger: (options.logger ?? false) as FastifyServerOptions["logger"],
    bodyLimit: config.maxMessageBytes,
  });
  let adapter: BrokerAdapter;
  try {
    // Built after Fastify so the adapter's reconnect and bad-message warnings reach the service log.
    adapter = options.adapter ?? createAdapter(config, { logger: app.log.child({ component: "broker" }) });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  logSecuritySettings(app, config, authenticator);
  try {
    await app.register(errorHandlerPlugin);
    await app.register(jsonBodyPlugin);
    await app.register(brokerPlugin, {
      config,
      adapter,
      authenticator,
      serverVersion: SERVER_VERSION,
      pullWaitMs: options.pullWaitMs,
    });
    await app.register(authenticatePlugin);
    await app.register(websocket, {
      options: { maxPayload: wsMaxPayloadBytes(config.maxMessageBytes) },
      // Socket errors are the peer's doing (oversize frame above the hard cap, protocol violation, reset):
      // worth a warning, not an error-level log line.
      errorHandler: (error, socket, request) => {
        request.log.warn({ err: error }, "websocket connection error; closing it");
        socket.terminate();
      },
      // Replaces the plugin's default (close every client at once): close through a zero-deadline drain so
      // held deliveries are handed back to the broker before the sockets go.
      preClose: async () => {
        await app.soorma.drain({ timeoutMs: 0 });
        app.websocketServer.close();
      },
    });
    await app.register(wsRoutes);
    await app.register(publishRoutes);
    await app.register(healthRoutes);
    await app.register(adminRoutes);
    await app.register(adminInboxRoutes);
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

/** One line about authentication and limits (secrets redacted), and the open-mode warning when it applies. */
function logSecuritySettings(
  app: FastifyInstance,
  config: GatewayConfig,
  authenticator: Authenticator,
): void {
  if (authenticator.warning !== undefined) {
    app.log.warn({ authMode: authenticator.mode, host: config.host }, authenticator.warning);
  }
  app.log.info(
    {
      authMode: authenticator.mode,
      authMethods: authenticator.methods,
      auth: redactAuthConfig(config.auth),
      limits: config.limits,
    },
    "security settings",
  );
}
