import { type ChildProcess, spawn } from "node:child_process";
import { SoormaError, TimeoutError } from "@soorma/common";
import { type JsonLine, OutputLines } from "./output-lines.js";

/** How a child process ended. */
export interface ChildExit {
  /** Exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** Signal that ended it, or `null`. */
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. the command does not exist). */
  readonly error?: Error;
}

/** A child process ended while a test was still waiting for something from it. */
export class ChildExitedError extends SoormaError {
  override readonly name = "ChildExitedError";
  /** How it ended. */
  readonly exit: ChildExit;

  constructor(message: string, exit: ChildExit) {
    super("SOORMA_ERR_INTERNAL", message, exit.error === undefined ? {} : { cause: exit.error });
    this.exit = exit;
  }
}

/** Options of {@link spawnChild}. */
export interface SpawnChildOptions {
  /** Arguments after the command, e.g. `[scriptPath, "--flag"]`. */
  args: readonly string[];
  /** Program to run. @default process.execPath (this Node binary) */
  command?: string;
  /** Merged over the parent's environment (`undefined` removes a variable). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Start from an empty environment instead of the parent's. @default false */
  cleanEnv?: boolean;
  /** Working directory. @default process.cwd() */
  cwd?: string;
  /** Name used in error messages. @default the command's base name */
  name?: string;
  /**
   * Where output lines go; pass one collector to several incarnations of a restarted process so its logs read
   * as one story. @default a fresh {@link OutputLines}
   */
  output?: OutputLines;
  /** Default deadline of {@link ChildHandle.stop} before it escalates to SIGKILL. @default 5000 */
  stopTimeoutMs?: number;
}

/** Options of {@link ChildHandle.waitForLine}. */
export interface WaitForLineOptions {
  /** Give up after this long. @default 10000 */
  timeoutMs?: number;
  /**
   * Only consider JSON lines from this index of `output.json` on; take `child.output.json.length` before an
   * action to wait for what the process says after it. @default 0 (lines already seen count)
   */
  since?: number;
  /** Said in the error when the line never came. */
  message?: string;
}

/** A running (or finished) child process whose output a test can wait on. */
export interface ChildHandle {
  /** Name used in messages. */
  readonly name: string;
  /** OS process id (undefined when it could not be started). */
  readonly pid: number | undefined;
  /** Output collector: raw tail and parsed JSON lines. */
  readonly output: OutputLines;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** True until the process exits. */
  readonly running: boolean;
  /**
   * Resolve with the first JSON line (stdout or stderr) that satisfies `predicate`. Rejects with
   * {@link ChildExitedError} if the process exits first, and with a `TimeoutError` at the deadline; both carry
   * the output tail.
   */
  waitForLine(predicate: (line: JsonLine) => boolean, options?: WaitForLineOptions): Promise<JsonLine>;
  /** Send `signal` (default SIGKILL) and resolve once the process is gone. */
  kill(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ChildExit>;
  /** SIGTERM, wait up to `timeoutMs` (default: the spawn option), then SIGKILL. Idempotent. */
  stop(options?: { timeoutMs?: number }): Promise<ChildExit>;
  /** The last lines of output, for assertion messages. */
  tail(lines?: number): string;
  [Symbol.asyncDispose](): Promise<void>;
}

// Children that outlive a crashed test run would keep ports and files busy; kill them when this process exits.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of liveChildren) child.kill("SIGKILL");
  });
}

/**
 * Start a child process (by default `node <args>`) with its stdout and stderr collected as lines. Tests wait on
 * what it prints, e.g. a worker fixture writing one JSON object per line:
 *
 * @example
 * const child = spawnChild({ args: [fixturePath], env: { WORKER_URL: gateway.url } });
 * await child.waitForLine((line) => line.event === "ready");
 * await child.kill("SIGKILL");
 */
export function spawnChild(options: SpawnChildOptions): ChildHandle {
  installExitHook();
  const command = options.command ?? process.execPath;
  const name = options.name ?? command.split("/").at(-1) ?? command;
  const output = options.output ?? new OutputLines();
  const defaultStopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const env = mergeEnv(options.cleanEnv === true ? {} : process.env, options.env ?? {});

  const child = spawn(command, [...options.args], {
    cwd: options.cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  liveChildren.add(child);
  if (child.stdout !== null) output.attach(child.stdout);
  if (child.stderr !== null) output.attach(child.stderr, "stderr");

  let exitInfo: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("error", (error) => {
      // "error" without a pid means the process never started; otherwise "close" settles it.
      if (child.pid === undefined) {
        exitInfo = { code: null, signal: null, error };
        liveChildren.delete(child);
        resolve(exitInfo);
      }
    });
    // "close" (not "exit") so every line the process wrote has been read before waiters hear it is gone.
    child.once("close", (code, signal) => {
      exitInfo = { code, signal };
      liveChildren.delete(child);
      resolve(exitInfo);
    });
  });

  const tail = (lines = 40) => output.tail(lines);
  const describeExit = (exit: ChildExit) =>
    `${name} exited (code ${exit.code}, signal ${exit.signal}${exit.error ? `, ${exit.error.message}` : ""})`;

  const waitForLine = (
    predicate: (line: JsonLine) => boolean,
    waitOptions: WaitForLineOptions = {},
  ): Promise<JsonLine> => {
    const timeoutMs = waitOptions.timeoutMs ?? 10_000;
    const what = waitOptions.message ?? "a matching line";
    const timeoutError = new TimeoutError(`${name}: no ${what} within ${timeoutMs} ms`);
    return new Promise<JsonLine>((resolve, reject) => {
      const seen = output.json.slice(waitOptions.since ?? 0).find(predicate);
      if (seen !== undefined) {
        resolve(seen);
        return;
      }
      const cleanup = () => {
        clearTimeout(timer);
        removeListener();
      };
      const removeListener = output.onJson((line) => {
        if (!predicate(line)) return;
        cleanup();
        resolve(line);
      });
      const timer = setTimeout(() => {
        cleanup();
        timeoutError.message += `\n--- output tail ---\n${tail()}`;
        reject(timeoutError);
      }, timeoutMs);
      void exited.then((exit) => {
        cleanup();
        reject(
          new ChildExitedError(`${describeExit(exit)} before ${what}\n--- output tail ---\n${tail()}`, exit),
        );
      });
    });
  };

  const kill = async (signal: NodeJS.Signals = "SIGKILL", timeoutMs = 10_000): Promise<ChildExit> => {
    if (exitInfo !== undefined) return exitInfo;
    child.kill(signal);
    return awaitExit(exited, timeoutMs, `${name} did not exit after ${signal}`);
  };

  let stopping: Promise<ChildExit> | undefined;
  const stop = (stopOptions: { timeoutMs?: number } = {}): Promise<ChildExit> => {
    stopping ??= (async () => {
      if (exitInfo !== undefined) return exitInfo;
      child.kill("SIGTERM");
      const timeoutMs = stopOptions.timeoutMs ?? defaultStopTimeoutMs;
      const graceful = await Promise.race([
        exited,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
      ]);
      if (graceful !== undefined) return graceful;
      return kill("SIGKILL");
    })();
    return stopping;
  };

  return {
    name,
    get pid() {
      return child.pid;
    },
    output,
    exited,
    get running() {
      return exitInfo === undefined;
    },
    waitForLine,
    kill,
    stop,
    tail,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

function mergeEnv(
  base: NodeJS.ProcessEnv,
  overrides: Readonly<Record<string, string | undefined>>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

async function awaitExit(exited: Promise<ChildExit>, timeoutMs: number, message: string): Promise<ChildExit> {
  const error = new TimeoutError(message);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(error), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
