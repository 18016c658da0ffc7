import { SoormaError } from "@soorma/common";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.js";
import { loadConfig } from "./config.js";

/** Time allowed beyond the drain deadline for closing the broker and the server. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Process entry: `node dist/server.js [--port N] [--broker sqlite|memory|nats|pubsub] [--data-dir D] ...`.
 * Reads the configuration (SOORMA_* env + flags), listens, logs one `"msg":"listening"` line with the `url`,
 * and on SIGTERM/SIGINT drains gracefully and exits 0. A second signal exits at once with 1. Startup failures
 * are logged with their error code and exit 1.
 */
async function main(): Promise<void> {
  let app: FastifyInstance | undefined;
  try {
    const config = loadConfig(process.env, process.argv.slice(2));
    app = await buildApp({ config, logger: { level: config.logLevel } });
    const started = app;
    installSignalHandlers(started);
    await started.listen({ host: config.host, port: config.port });
    started.log.info({ url: listeningUrl(started, config.host), broker: config.broker }, "listening");
  } catch (error) {
    logStartupFailure(error, app);
    await app?.close().catch(() => undefined);
    process.exit(1);
  }
}

function installSignalHandlers(app: FastifyInstance): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      app.log.warn({ signal }, "second signal during shutdown; exiting without waiting");
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal }, "shutting down");
    // A broker client that hangs while closing must not keep a stopped gateway alive for ever.
    const hardDeadlineMs = app.soorma.config.drainTimeoutMs + SHUTDOWN_GRACE_MS;
    setTimeout(() => {
      app.log.error({ hardDeadlineMs }, "shutdown did not finish in time; exiting");
      process.exit(1);
    }, hardDeadlineMs);
    app.soorma
      .drain()
      .then(() => app.close())
      .then(
        () => {
          app.log.info({}, "stopped");
          process.exit(0);
        },
        (error: unknown) => {
          app.log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/** The URL clients use, with the real port (also when listening on port 0). */
function listeningUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return `http://${shownHost}:${port}`;
}

function logStartupFailure(error: unknown, app: FastifyInstance | undefined): void {
  const code =
    error instanceof SoormaError
      ? error.code
      : typeof (error as { code?: unknown })?.code === "string"
        ? (error as { code: string }).code
        : "SOORMA_ERR_INTERNAL";
  const message = error instanceof Error ? error.message : String(error);
  if (app !== undefined) {
    app.log.fatal({ code, err: error }, "startup failed");
    return;
  }
  // No logger exists yet (the configuration itself was bad): write the same JSON line shape pino would.
  process.stderr.write(
    `${JSON.stringify({ level: 60, time: Date.now(), code, msg: "startup failed", error: message })}\n`,
  );
}

await main();
