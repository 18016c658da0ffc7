import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError, TimeoutError } from "@soorma/common";
import { OutputLines } from "./output-lines.js";
import { freePort } from "./ports.js";
import { type ChildExit, ChildExitedError, type ChildHandle, spawnChild } from "./process.js";

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
export interface ServiceHandle {
  /** WebSocket base URL to hand to the SDK, e.g. `ws://127.0.0.1:41234` (the SDK appends the path). */
  readonly url: string;
  /** HTTP base URL, e.g. `http://127.0.0.1:41234`, for `/ready`, `/v1/events/publish`, admin routes. */
  readonly httpUrl: string;
  /** The port; {@link ServiceHandle.restart} keeps it. */
  readonly port: number;
  /** The environment the process was started with (what restart reuses). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The current incarnation of the process. */
  readonly child: ChildHandle;
  /** True while the current incarnation runs. */
  readonly running: boolean;
  /** SIGTERM (graceful drain), wait, SIGKILL after the stop deadline. Idempotent per incarnation. */
  stop(): Promise<ChildExit>;
  /** Send a signal (default SIGKILL: a crash) and wait until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** Stop the process if it runs, then start it again on the same port with the same env, args and data dir. */
  restart(): Promise<void>;
  /** Output of every incarnation (last `lines` lines), for assertion messages. */
  logs(lines?: number): string;
  [Symbol.asyncDispose](): Promise<void>;
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

  let port: number;
  let child: ChildHandle;
  if (options.port !== undefined) {
    port = options.port;
    child = await launch(port);
  } else {
    [port, child] = await launchOnFreePort(launch);
  }

  const handle: ServiceHandle = {
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    port,
    env,
    get child() {
      return child;
    },
    get running() {
      return child.running;
    },
    stop: () => child.stop(),
    kill: (signal: NodeJS.Signals = "SIGKILL") => child.kill(signal),
    async restart() {
      if (child.running) await child.stop();
      child = await launch(port);
    },
    logs: (lines = 80) => output.tail(lines),
    async [Symbol.asyncDispose]() {
      await child.stop();
    },
  };
  return handle;
}

/** A free port can be taken between probing and binding; try a few before giving up. */
async function launchOnFreePort(
  launch: (port: number) => Promise<ChildHandle>,
): Promise<[number, ChildHandle]> {
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return [port, await launch(port)];
    } catch (error) {
      const portTaken = error instanceof ChildExitedError && error.message.includes("EADDRINUSE");
      if (!portTaken || attempt >= attempts) throw error;
    }
  }
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
  try {
    await child.waitForLine((line) => line.msg === "listening" && typeof line.url === "string", {
      since,
      timeoutMs: options.readyTimeoutMs,
      message: 'JSON line with msg "listening" and a url',
    });
    await waitUntilReady(child, `http://127.0.0.1:${options.port}/ready`, deadline);
    return child;
  } catch (error) {
    await child.kill("SIGKILL");
    throw error;
  }
}

/** Poll `/ready` until it answers 200, racing the process's exit and the shared deadline. */
async function waitUntilReady(child: ChildHandle, readyUrl: string, deadline: number): Promise<void> {
  const timeoutError = new TimeoutError(`${child.name}: ${readyUrl} never answered 200`);
  let lastAnswer = "no answer";
  for (;;) {
    if (!child.running) {
      const exit = await child.exited;
      throw new ChildExitedError(
        `${child.name} exited while waiting for ${readyUrl}\n--- output tail ---\n${child.tail()}`,
        exit,
      );
    }
    try {
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      lastAnswer = `${response.status} ${await response.text()}`;
    } catch (error) {
      lastAnswer = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      timeoutError.message += ` (last: ${lastAnswer})\n--- output tail ---\n${child.tail()}`;
      throw timeoutError;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
