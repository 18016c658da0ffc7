import { TimeoutError } from "@soorma/common";
import type { OutputLines } from "./output-lines.js";
import { freePort } from "./ports.js";
import { type ChildExit, ChildExitedError, type ChildHandle } from "./process.js";

/**
 * Plumbing the launchers (gateway, nats-server, Pub/Sub emulator) share: starting on a free port with a retry
 * when another process takes it first, killing a child whose start failed, and polling an HTTP endpoint until it
 * answers 200 while racing the child's exit. Internal to this package.
 */

/** What every launcher's handle offers about the process it runs, whichever incarnation is current. */
export interface LaunchedProcessHandle {
  /** The current incarnation of the process. */
  readonly child: ChildHandle;
  /** True while the current incarnation runs. */
  readonly running: boolean;
  /** Send a signal (default SIGKILL: a crash) and wait until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** Output of every incarnation (last `lines` lines), for assertion messages. */
  logs(lines?: number): string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A launched process that restarts on the same port, with the same arguments, when asked. */
export interface RestartableProcessHandle extends LaunchedProcessHandle {
  /** SIGTERM, wait, SIGKILL after the stop deadline. Idempotent per incarnation. */
  stop(): Promise<ChildExit>;
  /** Stop the process if it runs, then start it again the same way. */
  restart(): Promise<void>;
}

/** Options of {@link startRestartable}. */
export interface StartRestartableOptions<Fields> {
  /** Port to run on. `undefined` picks a free one, retried while another process takes it first. */
  port: number | undefined;
  /** Start one incarnation on `port`; resolves once it is ready. `restart()` calls it again. */
  launch: (port: number) => Promise<ChildHandle>;
  /** Matches what the process's output says when its port was taken. */
  portTaken: RegExp;
  /** The handle's own fields, made once the port is known. */
  fields: (port: number) => Fields;
  /** The collector every incarnation writes to: what `logs()` reads. */
  output: OutputLines;
  /** How many lines `logs()` returns when not told. */
  logLines: number;
}

/**
 * Launch the first incarnation, then resolve with a handle of the launcher's own `fields` plus the members of
 * {@link RestartableProcessHandle}, which act on whichever incarnation is current.
 */
export async function startRestartable<Fields extends object>(
  options: StartRestartableOptions<Fields>,
): Promise<Fields & RestartableProcessHandle> {
  const [port, child] = await launchOnPort(options.port, options.launch, options.portTaken);
  return restartableHandle(
    options.fields(port),
    child,
    () => options.launch(port),
    (lines = options.logLines) => options.output.tail(lines),
  );
}

/** `fields` plus members that act on the current incarnation: `first`, then each one `relaunch` starts. */
function restartableHandle<Fields extends object>(
  fields: Fields,
  first: ChildHandle,
  relaunch: () => Promise<ChildHandle>,
  logs: (lines?: number) => string,
): Fields & RestartableProcessHandle {
  let child = first;
  return {
    ...fields,
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
      child = await relaunch();
    },
    logs,
    async [Symbol.asyncDispose]() {
      await child.stop();
    },
  };
}

/** How many starts on fresh free ports a launcher tries before it gives up. */
const PORT_ATTEMPTS = 3;

/**
 * Run `start` again (it picks fresh ports each time) while it fails because a port it probed free was taken
 * before the process bound it: its {@link ChildExitedError} message matches `portTaken`. Other errors, and the
 * last attempt's, are thrown.
 */
export async function retryWhilePortTaken<T>(start: () => Promise<T>, portTaken: RegExp): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const taken = error instanceof ChildExitedError && portTaken.test(error.message);
      if (!taken || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** Launch on `port` when one is given; otherwise on a free port, retried while it is taken. */
async function launchOnPort(
  port: number | undefined,
  launch: (port: number) => Promise<ChildHandle>,
  portTaken: RegExp,
): Promise<[number, ChildHandle]> {
  if (port !== undefined) return [port, await launch(port)];
  return retryWhilePortTaken(async () => {
    const free = await freePort();
    return [free, await launch(free)];
  }, portTaken);
}

/**
 * Resolve with `child` once `ready` resolves. When it rejects, SIGKILL the child first: a start that failed must
 * not leave a process holding ports or files.
 */
export async function killUnlessReady(child: ChildHandle, ready: () => Promise<void>): Promise<ChildHandle> {
  try {
    await ready();
    return child;
  } catch (error) {
    await child.kill("SIGKILL");
    throw error;
  }
}

/** Options of {@link pollUntilOk}. */
export interface PollUntilOkOptions {
  /** URL polled with GET. */
  url: string;
  /** When to give up, in `Date.now()` time (a launcher may share one deadline across several steps). */
  deadline: number;
  /** The timeout error's message after the child's name, e.g. `"<url> never answered 200"`. */
  timeoutMessage: string;
  /** Completes "<child> exited …" in the error when the process dies first, e.g. "before it was healthy". */
  exitedWhile: string;
  /** Deadline of one request. */
  requestTimeoutMs: number;
  /** Pause between requests. */
  intervalMs: number;
  /** How a non-200 answer reads in the timeout error. @default its status and body */
  describeAnswer?: (response: Response) => Promise<string>;
}

/**
 * Poll `options.url` until it answers 200. Rejects with {@link ChildExitedError} when the child exits first and
 * with a `TimeoutError` at the deadline; both carry the output tail, the timeout also the last answer.
 */
export async function pollUntilOk(child: ChildHandle, options: PollUntilOkOptions): Promise<void> {
  // Made before the first request so its stack shows the launcher that waited.
  const timeoutError = new TimeoutError(`${child.name}: ${options.timeoutMessage}`);
  const describeAnswer =
    options.describeAnswer ?? (async (response: Response) => `${response.status} ${await response.text()}`);
  let lastAnswer = "no answer";
  for (;;) {
    if (!child.running) {
      const exit = await child.exited;
      throw new ChildExitedError(
        `${child.name} exited ${options.exitedWhile}\n--- output tail ---\n${child.tail()}`,
        exit,
      );
    }
    try {
      const response = await fetch(options.url, { signal: AbortSignal.timeout(options.requestTimeoutMs) });
      if (response.status === 200) return;
      lastAnswer = await describeAnswer(response);
    } catch (error) {
      lastAnswer = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= options.deadline) {
      timeoutError.message += ` (last: ${lastAnswer})\n--- output tail ---\n${child.tail()}`;
      throw timeoutError;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}
