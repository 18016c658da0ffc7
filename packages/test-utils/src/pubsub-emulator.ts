import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { killUnlessReady, pollUntilOk, type RestartableProcessHandle, startRestartable } from "./launch.js";
import { BrokerBinaryMissingError } from "./nats-server.js";
import { OutputLines } from "./output-lines.js";
import { type ChildHandle, spawnChild } from "./process.js";

/** Debian package that ships the emulator. */
export const PUBSUB_EMULATOR_PACKAGE = "google-cloud-cli-pubsub-emulator";

/** Where that package puts the emulator's launcher script. */
export const PUBSUB_EMULATOR_DEFAULT_PATH =
  "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator";

/** Environment variable that overrides where the emulator's launcher is. */
export const PUBSUB_EMULATOR_BIN_ENV = "PUBSUB_EMULATOR_BIN";

/** Project id the launcher hands out by default (the emulator accepts any). */
export const PUBSUB_EMULATOR_PROJECT_ID = "soorma-test";

/** JVM options used when neither `JAVA_OPTS` nor `CLOUD_PUBSUB_EMULATOR_OPTS` is set: small and light on CPU. */
const DEFAULT_JVM_OPTS = "-Xmx512m -XX:+UseSerialGC";

/** Where the emulator is, or why it cannot be used on this machine. */
export type PubSubEmulatorLocation =
  | { readonly found: true; readonly path: string }
  | { readonly found: false; readonly reason: string };

/**
 * Find the emulator's launcher: `PUBSUB_EMULATOR_BIN` if set, else the file the Debian package installed
 * (`dpkg -L google-cloud-cli-pubsub-emulator`), else the package's usual path. The emulator is a Java program,
 * so a missing `java` also makes it unusable.
 */
export function locatePubSubEmulator(env: NodeJS.ProcessEnv = process.env): PubSubEmulatorLocation {
  const override = env[PUBSUB_EMULATOR_BIN_ENV];
  let path: string | undefined;
  if (override !== undefined && override !== "") {
    if (!isExecutable(override)) {
      return { found: false, reason: `${PUBSUB_EMULATOR_BIN_ENV}=${override} is not an executable file` };
    }
    path = override;
  } else {
    path =
      fromDpkg() ?? (isExecutable(PUBSUB_EMULATOR_DEFAULT_PATH) ? PUBSUB_EMULATOR_DEFAULT_PATH : undefined);
  }
  if (path === undefined) {
    return {
      found: false,
      reason: `the Pub/Sub emulator is not installed (Debian package ${PUBSUB_EMULATOR_PACKAGE}; or set ${PUBSUB_EMULATOR_BIN_ENV})`,
    };
  }
  if (!hasJava(env)) {
    return {
      found: false,
      reason: `the Pub/Sub emulator at ${path} needs Java, and no java is on PATH or JAVA_HOME`,
    };
  }
  return { found: true, path };
}

/**
 * Probe for `requireBroker("pubsub", pubsubEmulatorProbe)`: why the emulator cannot run here, or `undefined`.
 */
export function pubsubEmulatorProbe(): string | undefined {
  const location = locatePubSubEmulator();
  return location.found ? undefined : location.reason;
}

/** Options of {@link startPubSubEmulator}. */
export interface StartPubSubEmulatorOptions {
  /** Launcher to run. @default what {@link locatePubSubEmulator} finds */
  binary?: string;
  /** Port on 127.0.0.1. @default a free port (retried when another process takes it first) */
  port?: number;
  /** Project id handed to clients through {@link PubSubEmulatorHandle.env}. @default "soorma-test" */
  projectId?: string;
  /** Deadline for the emulator to answer HTTP on its port (it is a JVM: seconds). @default 30000 */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. @default 5000 */
  stopTimeoutMs?: number;
}

/** A running Pub/Sub emulator started by {@link startPubSubEmulator}. */
export interface PubSubEmulatorHandle extends RestartableProcessHandle {
  /** `127.0.0.1:<port>`: the value of `PUBSUB_EMULATOR_HOST`. */
  readonly host: string;
  readonly port: number;
  readonly projectId: string;
  /**
   * Environment for a process that talks to this emulator: `PUBSUB_EMULATOR_HOST`, `SOORMA_PUBSUB_PROJECT_ID`
   * and `METADATA_SERVER_DETECTION=none` (so the client library never probes a cloud metadata server).
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Stop the emulator if it runs and start it again on the same port. The emulator keeps everything in memory:
   * the new one starts EMPTY (no topics, subscriptions or messages).
   */
  restart(): Promise<void>;
}

/**
 * Start the real Google Pub/Sub emulator on a free loopback port and resolve once it answers HTTP. Rejects
 * with the output tail when the process exits early or the deadline passes, and with
 * `BrokerBinaryMissingError` when the emulator is not installed.
 *
 * @example
 * const emulator = await startPubSubEmulator();
 * const adapter = createGooglePubSubAdapter({ apiEndpoint: emulator.host, projectId: emulator.projectId });
 * await emulator.stop();
 */
export async function startPubSubEmulator(
  options: StartPubSubEmulatorOptions = {},
): Promise<PubSubEmulatorHandle> {
  let binary = options.binary;
  if (binary === undefined) {
    const location = locatePubSubEmulator();
    if (!location.found) throw new BrokerBinaryMissingError(location.reason);
    binary = location.path;
  }
  const launcher = binary;
  const projectId = options.projectId ?? PUBSUB_EMULATOR_PROJECT_ID;
  const output = new OutputLines({ tailLines: 300 });
  const launch = (port: number): Promise<ChildHandle> =>
    launchReady({
      binary: launcher,
      port,
      output,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 5_000,
    });

  return startRestartable({
    port: options.port,
    launch,
    portTaken: /address already in use/i,
    fields: (port) => {
      const host = `127.0.0.1:${port}`;
      return {
        host,
        port,
        projectId,
        env: Object.freeze({
          PUBSUB_EMULATOR_HOST: host,
          SOORMA_PUBSUB_PROJECT_ID: projectId,
          METADATA_SERVER_DETECTION: "none",
        }),
      };
    },
    output,
    logLines: 60,
  });
}

interface LaunchOptions {
  binary: string;
  port: number;
  output: OutputLines;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
}

async function launchReady(options: LaunchOptions): Promise<ChildHandle> {
  const jvmOptsSet =
    process.env.JAVA_OPTS !== undefined || process.env.CLOUD_PUBSUB_EMULATOR_OPTS !== undefined;
  const child = spawnChild({
    command: options.binary,
    args: ["--host=127.0.0.1", `--port=${options.port}`],
    env: jvmOptsSet ? {} : { JAVA_OPTS: DEFAULT_JVM_OPTS },
    name: `pubsub-emulator:${options.port}`,
    output: options.output,
    stopTimeoutMs: options.stopTimeoutMs,
  });
  const url = `http://127.0.0.1:${options.port}/`;
  return killUnlessReady(child, () =>
    pollUntilOk(child, {
      url,
      deadline: Date.now() + options.readyTimeoutMs,
      timeoutMessage: `${url} did not answer within ${options.readyTimeoutMs} ms`,
      exitedWhile: "before it was ready",
      requestTimeoutMs: 1_000,
      intervalMs: 100,
      describeAnswer: async (response) => `HTTP ${response.status}`,
    }),
  );
}

function fromDpkg(): string | undefined {
  try {
    const files = execFileSync("dpkg", ["-L", PUBSUB_EMULATOR_PACKAGE], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    });
    return files
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line.endsWith("/bin/cloud-pubsub-emulator") && isExecutable(line));
  } catch {
    // No dpkg, or the package is not installed.
    return undefined;
  }
}

function hasJava(env: NodeJS.ProcessEnv): boolean {
  const javaHome = env.JAVA_HOME;
  if (javaHome !== undefined && javaHome !== "") return isExecutable(join(javaHome, "bin", "java"));
  return (env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && isExecutable(join(dir, "java")));
}

function isExecutable(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
