import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@soorma/common";
import { killUnlessReady, pollUntilOk, type RestartableProcessHandle, startRestartable } from "./launch.js";
import { OutputLines } from "./output-lines.js";
import { type ChildExit, type ChildHandle, spawnChild } from "./process.js";

/**
 * The gateway's process entry in this repository. Both `src/` and `dist/` of this package sit one level below
 * its root, so the same relative path works from either.
 */
export const DEFAULT_SERVICE_ENTRY = fileURLToPath(
  new URL("../../../services/event-service/dist/server.js", import.meta.url),
);

/** Options of {@link startService}. */
export interface StartServiceOptions {
  /** Script Node runs. @default DEFAULT_SERVICE_ENTRY (services/event-service/dist/server.js) */
  entry?: string;
  /** Port to listen on. @default a free port (retried when another process takes it first) */
  port?: number;
  /**
   * Merged over this process's environment (`undefined` removes a variable). `METADATA_SERVER_DETECTION=none`
   * is always set, `SOORMA_HOST` defaults to 127.0.0.1 and `SOORMA_LOG_LEVEL` to "info" (the readiness line is
   * logged at info).
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Extra CLI arguments after `--port N`, e.g. `["--broker", "sqlite"]`. @default [] */
  args?: readonly string[];
  /** Arguments for Node itself, before the entry. @default [] */
  nodeArgs?: readonly string[];
  /** Deadline for the "listening" line plus `GET /ready` answering 200. @default 20000 */
  readyTimeoutMs?: number;
  /** How long {@link ServiceHandle.stop} waits after SIGTERM before SIGKILL. @default 10000 */
  stopTimeoutMs?: number;
  /** Name used in error messages. @default "gateway" */
  name?: string;
}

/** A gateway process started by {@link startService}. */
export interface ServiceHandle extends RestartableProcessHandle {
  /** WebSocket base URL to hand to the SDK, e.g. `ws://127.0.0.1:41234` (the SDK appends the path). */
  readonly url: string;
  /** HTTP base URL, e.g. `http://127.0.0.1:41234`, for `/ready`, `/v1/events/publish`, admin routes. */
  readonly httpUrl: string;
  /** The port; {@link ServiceHandle.restart} keeps it. */
  readonly port: number;
  /** The environment the process was started with (what restart reuses). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** SIGTERM (graceful drain), wait, SIGKILL after the stop deadline. Idempotent per incarnation. */
  stop(): Promise<ChildExit>;
  /** Stop the process if it runs, then start it again on the same port with the same env, args and data dir. */
  restart(): Promise<void>;
}

/**
 * Launch the gateway as a real process (`node <entry> --port <port> …`) and resolve once it logged its JSON
 * "listening" line and `GET /ready` answers 200. Rejects with the output tail when the process exits early or
 * the deadline passes.
 *
 * @example
 * const gateway = await startService({ env: { SOORMA_BROKER: "sqlite", SOORMA_DATA_DIR: dir } });
 * const worker = new Worker({ name: "w", url: gateway.url });
 * await gateway.kill("SIGKILL");
 * await gateway.restart();
 */
export async function startService(options: StartServiceOptions = {}): Promise<ServiceHandle> {
  const entry = options.entry ?? DEFAULT_SERVICE_ENTRY;
  if (!existsSync(entry)) {
    throw new ConfigError(
      `gateway entry ${entry} does not exist; build it first (pnpm --filter @soorma/event-service build)`,
    );
  }
  const env: Record<string, string | undefined> = {
    SOORMA_HOST: "127.0.0.1",
    SOORMA_LOG_LEVEL: "info",
    ...options.env,
    METADATA_SERVER_DETECTION: "none",
  };
  const name = options.name ?? "gateway";
  const output = new OutputLines({ tailLines: 400 });
  const launch = (port: number): Promise<ChildHandle> =>
    launchReady({
      entry,
      port,
      env,
      args: options.args ?? [],
      nodeArgs: options.nodeArgs ?? [],
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      name,
      output,
    });

  return startRestartable({
    port: options.port,
    launch,
    // Node reports a taken port as EADDRINUSE in the gateway's crash output.
    portTaken: /EADDRINUSE/,
    fields: (port) => ({ url: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}`, port, env }),
    output,
    logLines: 80,
  });
}

interface LaunchOptions {
  entry: string;
  port: number;
  env: Readonly<Record<string, string | undefined>>;
  args: readonly string[];
  nodeArgs: readonly string[];
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  name: string;
  output: OutputLines;
}

async function launchReady(options: LaunchOptions): Promise<ChildHandle> {
  const since = options.output.json.length;
  const child = spawnChild({
    args: [...options.nodeArgs, options.entry, "--port", String(options.port), ...options.args],
    env: options.env,
    name: `${options.name}:${options.port}`,
    output: options.output,
    stopTimeoutMs: options.stopTimeoutMs,
  });
  const deadline = Date.now() + options.readyTimeoutMs;
  const readyUrl = `http://127.0.0.1:${options.port}/ready`;
  return killUnlessReady(child, async () => {
    await child.waitForLine((line) => line.msg === "listening" && typeof line.url === "string", {
      since,
      timeoutMs: options.readyTimeoutMs,
      message: 'JSON line with msg "listening" and a url',
    });
    // Then `/ready` answering 200, racing the process's exit, within what is left of the same deadline.
    await pollUntilOk(child, {
      url: readyUrl,
      deadline,
      timeoutMessage: `${readyUrl} never answered 200`,
      exitedWhile: `while waiting for ${readyUrl}`,
      requestTimeoutMs: 2_000,
      intervalMs: 50,
    });
  });
}
