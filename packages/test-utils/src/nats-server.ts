import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { SoormaError } from "@soorma/common";
import { killUnlessReady, type LaunchedProcessHandle, pollUntilOk, retryWhilePortTaken } from "./launch.js";
import { OutputLines } from "./output-lines.js";
import { freePort } from "./ports.js";
import { type ChildExit, type ChildHandle, spawnChild } from "./process.js";

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
export interface NatsServerHandle extends LaunchedProcessHandle {
  /** Client URL, e.g. `nats://127.0.0.1:41234`; {@link restart} keeps it. */
  readonly url: string;
  readonly port: number;
  /** HTTP monitoring port (`/healthz`, `/jsz`, …). */
  readonly monitorPort: number;
  /** JetStream store directory. */
  readonly storeDir: string;
  /** Send a signal (default SIGKILL: a crash; the store stays) and wait until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** Stop the server if it runs, then start it again on the same ports, by default with the same store. */
  restart(options?: RestartNatsServerOptions): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), then remove the store if the launcher created it. Idempotent. */
  stop(options?: StopNatsServerOptions): Promise<void>;
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
function launchOnFreePorts(
  fixedPort: number | undefined,
  launch: (port: number, monitorPort: number) => Promise<ChildHandle>,
): Promise<[number, number, ChildHandle]> {
  return retryWhilePortTaken(async () => {
    const port = fixedPort ?? (await freePort());
    let monitorPort = await freePort();
    while (monitorPort === port) monitorPort = await freePort();
    return [port, monitorPort, await launch(port, monitorPort)];
  }, /address already in use/i);
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
  const healthUrl = `http://127.0.0.1:${options.monitorPort}/healthz`;
  // `/healthz` answers 200 only once JetStream is ready too.
  return killUnlessReady(child, () =>
    pollUntilOk(child, {
      url: healthUrl,
      deadline: Date.now() + options.startTimeoutMs,
      timeoutMessage: `${healthUrl} never answered 200 within ${options.startTimeoutMs} ms`,
      exitedWhile: "before it was healthy",
      requestTimeoutMs: 1_000,
      intervalMs: 25,
    }),
  );
}
