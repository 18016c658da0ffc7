import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { SoormaError, TimeoutError } from "@soorma/common";
import { OutputLines } from "./output-lines.js";
import { freePort } from "./ports.js";
import { type ChildExit, ChildExitedError, type ChildHandle, spawnChild } from "./process.js";

/** Environment variable naming the `nats-server` binary to use instead of looking it up. */
export const NATS_SERVER_BIN_ENV = "NATS_SERVER_BIN";

/** Where the Debian package `nats-server` installs its binary; also searched when it is not on PATH. */
const WELL_KNOWN_LOCATIONS = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

/** A broker binary a test needs is not installed. */
export class BrokerBinaryMissingError extends SoormaError {
  override readonly name = "BrokerBinaryMissingError";
  constructor(message: string) {
    super("SOORMA_ERR_CONFIG_INVALID", message);
  }
}

/**
 * Path of the `nats-server` binary: `$NATS_SERVER_BIN`, else the first `nats-server` on PATH, else the Debian
 * package's location. `undefined` when none is executable.
 */
export function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env[NATS_SERVER_BIN_ENV];
  if (explicit !== undefined && explicit !== "") return isExecutable(explicit) ? explicit : undefined;
  const onPath = (env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, "nats-server"));
  return [...onPath, ...WELL_KNOWN_LOCATIONS].find(isExecutable);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link startNatsServer}. */
export interface StartNatsServerOptions {
  /** The binary. @default findNatsServerBinary() */
  binary?: string;
  /** Client port. @default a free port (retried when another process takes it first) */
  port?: number;
  /** JetStream store directory; kept by {@link NatsServerHandle.stop} when given. @default a fresh temp dir */
  storeDir?: string;
  /** Deadline for the server to answer its health probe. @default 10000 */
  startTimeoutMs?: number;
  /** Extra arguments, e.g. `["--max_payload", "2MB"]`. @default [] */
  args?: readonly string[];
}

/** Options of {@link NatsServerHandle.restart}. */
export interface RestartNatsServerOptions {
  /** Start on the same store (JetStream recovers streams and consumers) or on an empty one. @default true */
  keepStore?: boolean;
}

/** Options of {@link NatsServerHandle.stop}. */
export interface StopNatsServerOptions {
  /** Delete the store directory afterwards. @default true when the launcher created it */
  removeStore?: boolean;
}

/** A running `nats-server -js` started by {@link startNatsServer}. */
export interface NatsServerHandle {
  /** Client URL, e.g. `nats://127.0.0.1:41234`; {@link restart} keeps it. */
  readonly url: string;
  readonly port: number;
  /** HTTP monitoring port (`/healthz`, `/jsz`, …). */
  readonly monitorPort: number;
  /** JetStream store directory. */
  readonly storeDir: string;
  /** The current incarnation of the process. */
  readonly child: ChildHandle;
  /** True while the current incarnation runs. */
  readonly running: boolean;
  /** Send a signal (default SIGKILL: a crash; the store stays) and wait until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** Stop the server if it runs, then start it again on the same ports, by default with the same store. */
  restart(options?: RestartNatsServerOptions): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), then remove the store if the launcher created it. Idempotent. */
  stop(options?: StopNatsServerOptions): Promise<void>;
  /** Output of every incarnation, for assertion messages. */
  logs(lines?: number): string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Start a real `nats-server` with JetStream on loopback: free ports, a temporary store, and resolve once
 * `GET /healthz` on its monitoring port answers 200 (JetStream included). Rejects with the output tail when the
 * process exits first or the deadline passes, and with {@link BrokerBinaryMissingError} when no binary is
 * installed (Debian package `nats-server`, or set `NATS_SERVER_BIN`).
 *
 * @example
 * const nats = await startNatsServer();
 * const adapter = createNatsJetStreamAdapter({ servers: nats.url });
 * await nats.kill("SIGKILL");
 * await nats.restart(); // same port, same store
 * await nats.stop();
 */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = options.binary ?? findNatsServerBinary();
  if (binary === undefined || !isExecutable(binary)) {
    throw new BrokerBinaryMissingError(
      `nats-server not found${binary === undefined ? "" : ` at ${binary}`}: install the Debian package ` +
        `"nats-server" (apt-get install nats-server) or set ${NATS_SERVER_BIN_ENV} to the binary`,
    );
  }
  const ownsStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "soorma-nats-"));
  const output = new OutputLines({ tailLines: 200 });
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const extraArgs = options.args ?? [];

  let port: number;
  let monitorPort: number;
  let child: ChildHandle;
  try {
    [port, monitorPort, child] = await launchOnFreePorts(options.port, (clientPort, httpPort) =>
      launchHealthy({
        binary,
        port: clientPort,
        monitorPort: httpPort,
        storeDir,
        extraArgs,
        output,
        startTimeoutMs,
      }),
    );
  } catch (error) {
    if (ownsStore) rmSync(storeDir, { recursive: true, force: true });
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const handle: NatsServerHandle = {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    storeDir,
    get child() {
      return child;
    },
    get running() {
      return child.running;
    },
    kill: (signal: NodeJS.Signals = "SIGKILL") => child.kill(signal),
    async restart(restartOptions: RestartNatsServerOptions = {}) {
      if (child.running) await child.stop();
      if (restartOptions.keepStore === false) {
        rmSync(storeDir, { recursive: true, force: true });
      }
      child = await launchHealthy({ binary, port, monitorPort, storeDir, extraArgs, output, startTimeoutMs });
    },
    stop(stopOptions: StopNatsServerOptions = {}) {
      stopped ??= (async () => {
        await child.stop();
        if (stopOptions.removeStore ?? ownsStore) rmSync(storeDir, { recursive: true, force: true });
      })();
      return stopped;
    },
    logs: (lines = 60) => output.tail(lines),
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}

/** Ports probed free can be taken before the server binds them; try a few pairs before giving up. */
async function launchOnFreePorts(
  fixedPort: number | undefined,
  launch: (port: number, monitorPort: number) => Promise<ChildHandle>,
): Promise<[number, number, ChildHandle]> {
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    let monitorPort = await freePort();
    while (monitorPort === port) monitorPort = await freePort();
    try {
      return [port, monitorPort, await launch(port, monitorPort)];
    } catch (error) {
      const portTaken = error instanceof ChildExitedError && /address already in use/i.test(error.message);
      if (!portTaken || attempt >= attempts) throw error;
    }
  }
}

interface LaunchOptions {
  binary: string;
  port: number;
  monitorPort: number;
  storeDir: string;
  extraArgs: readonly string[];
  output: OutputLines;
  startTimeoutMs: number;
}

async function launchHealthy(options: LaunchOptions): Promise<ChildHandle> {
  const child = spawnChild({
    command: options.binary,
    args: [
      "-js",
      "-a",
      "127.0.0.1",
      "-p",
      String(options.port),
      "-m",
      String(options.monitorPort),
      "-sd",
      options.storeDir,
      ...options.extraArgs,
    ],
    name: `nats-server:${options.port}`,
    output: options.output,
  });
  try {
    await waitUntilHealthy(child, `http://127.0.0.1:${options.monitorPort}/healthz`, options.startTimeoutMs);
    return child;
  } catch (error) {
    await child.kill("SIGKILL");
    throw error;
  }
}

/** Poll `/healthz` until it answers 200 (JetStream ready), racing the process's exit and the deadline. */
async function waitUntilHealthy(child: ChildHandle, healthUrl: string, timeoutMs: number): Promise<void> {
  const timeoutError = new TimeoutError(
    `${child.name}: ${healthUrl} never answered 200 within ${timeoutMs} ms`,
  );
  const deadline = Date.now() + timeoutMs;
  let lastAnswer = "no answer";
  for (;;) {
    if (!child.running) {
      const exit = await child.exited;
      throw new ChildExitedError(
        `${child.name} exited before it was healthy\n--- output tail ---\n${child.tail()}`,
        exit,
      );
    }
    try {
      const response = await fetch(healthUrl, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return;
      lastAnswer = `${response.status} ${await response.text()}`;
    } catch (error) {
      lastAnswer = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      timeoutError.message += ` (last: ${lastAnswer})\n--- output tail ---\n${child.tail()}`;
      throw timeoutError;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
