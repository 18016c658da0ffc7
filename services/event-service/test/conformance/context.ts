import { fileURLToPath } from "node:url";
import { Agent, createConsoleLogger, EventBusClient, type EventBusClientOptions, Worker } from "@soorma/sdk";
import {
  type ChildHandle,
  type ServiceHandle,
  spawnChild,
  startService,
  withDeadline,
} from "@soorma/test-utils";
import type { Cleanup, ConformanceTarget, GatewayLaunch } from "./target.js";

/**
 * Timings every gateway of the suite runs with, small so retries and dead letters happen in milliseconds. The
 * lease stays generous here because two test files share two cores; the lease section starts its own gateway
 * with a short one.
 */
export const SUITE_GATEWAY_ENV: Readonly<Record<string, string>> = {
  SOORMA_LEASE_MS: "5000",
  SOORMA_MAX_ATTEMPTS: "3",
  SOORMA_RETRY_BASE_MS: "20",
  SOORMA_RETRY_MAX_MS: "200",
  SOORMA_DRAIN_TIMEOUT_MS: "2000",
  SOORMA_LOG_LEVEL: "info",
};

/** `SOORMA_MAX_ATTEMPTS` of {@link SUITE_GATEWAY_ENV} as a number, for assertions. */
export const SUITE_MAX_ATTEMPTS = Number(SUITE_GATEWAY_ENV.SOORMA_MAX_ATTEMPTS);

/** Path of the worker member fixture run as a child process. */
export const WORKER_MEMBER_FIXTURE = fileURLToPath(new URL("./fixtures/worker-member.mjs", import.meta.url));

/** Options of {@link ConformanceContext.spawnMember}. */
export interface SpawnMemberOptions {
  readonly gateway: ServiceHandle;
  readonly group: string;
  readonly topic: string;
  readonly eventType: string;
  /** "hang": the handler never returns (until the process dies); "ack": it returns at once. @default "hang" */
  readonly mode?: "hang" | "ack";
  /** @default 1 */
  readonly prefetch?: number;
}

/** SDK options shared by every client of the suite: fast reconnects, quiet logs. */
type SdkCommon = Pick<EventBusClientOptions, "reconnect" | "logger" | "requestTimeoutMs">;

/**
 * What sections use: the shared gateway, factories for more gateways and SDK members, and a per-test cleanup
 * stack so every process, client and directory a test makes is gone before the next test starts.
 */
export class ConformanceContext {
  readonly target: ConformanceTarget;
  readonly #suiteCleanups: Cleanup[] = [];
  readonly #testCleanups: Cleanup[] = [];
  #gateway: ServiceHandle | undefined;

  constructor(target: ConformanceTarget) {
    this.target = target;
  }

  /** The gateway most sections share (one deployment for the whole suite). */
  get gateway(): ServiceHandle {
    if (this.#gateway === undefined)
      throw new Error("the suite's gateway is not started (beforeAll failed?)");
    return this.#gateway;
  }

  /** `baseMs` scaled by the target's `timeScale`. */
  ms(baseMs: number): number {
    return Math.round(baseMs * Math.max(1, this.target.timeScale ?? 1));
  }

  /** Start the target's external brokers and the shared gateway. */
  async startSuite(): Promise<void> {
    if (this.target.setup !== undefined) this.#suiteCleanups.push(await this.target.setup());
    const [launch, cleanup] = await this.target.gatewayEnv();
    this.#suiteCleanups.push(cleanup);
    const gateway = await this.launchGateway(launch);
    this.#suiteCleanups.push(async () => {
      await gateway.stop();
    });
    this.#gateway = gateway;
  }

  /** Stop the shared gateway and the target's brokers. */
  async stopSuite(): Promise<void> {
    await runCleanups(this.#suiteCleanups.splice(0));
  }

  /**
   * Run this test's cleanups, newest first. Called in `afterEach`. If the shared gateway died during the test,
   * fail this test with its logs and start it again, so the following tests are judged on their own.
   */
  async endTest(): Promise<void> {
    await runCleanups(this.#testCleanups.splice(0));
    const gateway = this.#gateway;
    if (gateway !== undefined && !gateway.running) {
      const exit = await gateway.child.exited;
      const logs = gateway.logs(60);
      await gateway.restart();
      throw new Error(
        `the shared gateway exited during this test (code ${exit.code}, signal ${exit.signal})\n${logs}`,
      );
    }
  }

  /** Run `cleanup` after the current test (even when it fails). */
  defer(cleanup: Cleanup): void {
    this.#testCleanups.push(cleanup);
  }

  /** A fresh deployment for this test: its own broker state, removed after the test. */
  async newDeployment(): Promise<GatewayLaunch> {
    const [launch, cleanup] = await this.target.gatewayEnv();
    this.defer(cleanup);
    return launch;
  }

  /**
   * Start a gateway process of `launch` with the suite's timings and `overrides` on top; stopped after the test.
   * Start it twice with one launch to get two replicas of one deployment.
   */
  async startGateway(launch: GatewayLaunch, overrides: Record<string, string> = {}): Promise<ServiceHandle> {
    const gateway = await this.launchGateway(launch, overrides);
    this.defer(async () => {
      await gateway.stop();
    });
    return gateway;
  }

  /** Launch a gateway without registering cleanup (the caller owns it). */
  async launchGateway(launch: GatewayLaunch, overrides: Record<string, string> = {}): Promise<ServiceHandle> {
    return startService({
      env: { ...launch.env, ...SUITE_GATEWAY_ENV, ...overrides },
      args: launch.args ?? [],
      readyTimeoutMs: this.ms(20_000),
      stopTimeoutMs: 5_000,
    });
  }

  /** A Worker (default topic `action-requests`) on `gateway` (default: the shared one), stopped after the test. */
  worker(options: { name: string; prefetch?: number; gateway?: ServiceHandle }): Worker {
    const worker = new Worker({ ...this.#sdkOptions(), ...this.#memberOptions(options) });
    this.defer(() => stopMember(worker));
    return worker;
  }

  /** An Agent (default topic `business-facts`), stopped after the test. */
  agent(options: { name: string; prefetch?: number; gateway?: ServiceHandle }): Agent {
    const agent = new Agent({ ...this.#sdkOptions(), ...this.#memberOptions(options) });
    this.defer(() => stopMember(agent));
    return agent;
  }

  /** A raw client (connected by the caller), closed after the test. */
  client(options: { agentName?: string; prefetch?: number; gateway?: ServiceHandle } = {}): EventBusClient {
    const client = new EventBusClient({
      ...this.#sdkOptions(),
      url: (options.gateway ?? this.gateway).url,
      ...(options.agentName === undefined ? {} : { agentName: options.agentName }),
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
    });
    this.defer(() => withDeadline(client.close({ timeout: 2_000 }), 5_000, "client.close"));
    return client;
  }

  /**
   * A Worker member in its own process (fixtures/worker-member.mjs), killed after the test. It prints
   * `{"event":"ready"}` once subscribed and `{"event":"handling","id","attempt"}` when a handler starts.
   */
  spawnMember(options: SpawnMemberOptions): ChildHandle {
    const child = spawnChild({
      args: [WORKER_MEMBER_FIXTURE],
      name: `member:${options.group}`,
      env: {
        SOORMA_EVENT_SERVICE_URL: options.gateway.url,
        MEMBER_GROUP: options.group,
        MEMBER_TOPIC: options.topic,
        MEMBER_EVENT_TYPE: options.eventType,
        MEMBER_MODE: options.mode ?? "hang",
        MEMBER_PREFETCH: String(options.prefetch ?? 1),
      },
    });
    this.defer(async () => {
      await child.kill("SIGKILL");
    });
    return child;
  }

  #sdkOptions(): SdkCommon {
    return {
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      logger: createConsoleLogger("error"),
      requestTimeoutMs: this.ms(10_000),
    };
  }

  #memberOptions(options: { name: string; prefetch?: number; gateway?: ServiceHandle }) {
    return {
      name: options.name,
      url: (options.gateway ?? this.gateway).url,
      shutdownTimeoutMs: 2_000,
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
    };
  }
}

/** Stop a member for cleanup: force, so a handler a test left hanging does not hold the suite. */
async function stopMember(member: Agent): Promise<void> {
  await withDeadline(member.stop({ force: true, timeout: 2_000 }), 5_000, `stop ${member.id}`);
}

/** Run every cleanup newest first; one failing does not keep the others from running. */
async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  const failures: unknown[] = [];
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} cleanups failed`);
}
