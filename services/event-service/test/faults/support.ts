import { randomUUID } from "node:crypto";
import { createConsoleLogger, EventBusClient, type PublishOptions, Worker } from "@soorma/sdk";
import {
  type NatsServerHandle,
  type ServiceHandle,
  startNatsServer,
  startService,
  waitFor,
} from "@soorma/test-utils";
import type { Cleanup } from "./cleanups.js";

/**
 * Shared pieces of the NATS fault tests: gateways on a test's own `nats-server`, SDK members with fast
 * reconnects, a publisher that retries until the broker confirmed, a log of what handlers saw so a test can
 * compare published with handled after de-duplicating by event id, and the stage the kill tests share.
 */

/** Gateway timings of the fault tests: short leases so redeliveries after a crash take seconds, not minutes. */
export const FAULT_GATEWAY_ENV: Readonly<Record<string, string>> = {
  SOORMA_BROKER: "nats",
  SOORMA_NATS_RECONNECT_WAIT_MS: "100",
  SOORMA_NATS_REQUEST_TIMEOUT_MS: "2000",
  SOORMA_LEASE_MS: "1000",
  // Faults cause redeliveries; none of them may dead-letter an event, which would look like a loss.
  SOORMA_MAX_ATTEMPTS: "50",
  SOORMA_RETRY_BASE_MS: "20",
  SOORMA_RETRY_MAX_MS: "200",
  SOORMA_DRAIN_TIMEOUT_MS: "1000",
};

/** SDK options of every member and publisher here: reconnect fast, log only errors. */
export const FAST_SDK = {
  reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
  logger: createConsoleLogger("error"),
  requestTimeoutMs: 20_000,
} as const;

/** A short random suffix for stream, subject prefix, topic and group names. */
export function uniqueSuffix(): string {
  return randomUUID().replaceAll("-", "").slice(0, 10);
}

/** One deployment on a NATS server: its own stream and subject prefix, shared by every gateway started with it. */
export interface NatsDeployment {
  readonly server: NatsServerHandle;
  readonly stream: string;
  readonly subjectPrefix: string;
}

/** A fresh deployment on `server`. */
export function natsDeployment(server: NatsServerHandle): NatsDeployment {
  const suffix = uniqueSuffix();
  return { server, stream: `FAULTS_${suffix}`, subjectPrefix: `faults${suffix}` };
}

/** Start a gateway process of `deployment` (two calls give two replicas). The caller stops it. */
export function startNatsGateway(
  deployment: NatsDeployment,
  overrides: Readonly<Record<string, string>> = {},
): Promise<ServiceHandle> {
  return startService({
    env: {
      ...FAULT_GATEWAY_ENV,
      SOORMA_NATS_URL: deployment.server.url,
      SOORMA_NATS_STREAM: deployment.stream,
      SOORMA_NATS_SUBJECT_PREFIX: deployment.subjectPrefix,
      ...overrides,
    },
    stopTimeoutMs: 5_000,
  });
}

/** The broker state `GET /ready` reports ("ready", "reconnecting" …), or "down" when the gateway does not answer. */
export async function brokerState(gateway: ServiceHandle): Promise<string> {
  try {
    const response = await fetch(`${gateway.httpUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as { broker?: { state?: string } };
    return body.broker?.state ?? "unknown";
  } catch {
    return "down";
  }
}

/** Counts what handlers saw, by event id. */
export class HandledLog {
  readonly #counts = new Map<string, number>();

  /** Record one handler invocation of `eventId`. */
  record(eventId: string): void {
    this.#counts.set(eventId, (this.#counts.get(eventId) ?? 0) + 1);
  }

  /** Distinct ids handled. */
  get unique(): number {
    return this.#counts.size;
  }

  /** Handler invocations beyond the first per id (at-least-once redeliveries). */
  get redelivered(): number {
    let extra = 0;
    for (const count of this.#counts.values()) extra += count - 1;
    return extra;
  }

  /** True when `eventId` was handled at least once. */
  has(eventId: string): boolean {
    return this.#counts.has(eventId);
  }

  /** Ids of `ids` never handled. */
  missing(ids: Iterable<string>): string[] {
    return [...ids].filter((id) => !this.#counts.has(id));
  }

  /** Ids handled more than once. */
  duplicates(): string[] {
    return [...this.#counts].filter(([, count]) => count > 1).map(([id]) => id);
  }

  /** Resolve once every id of `ids` was handled; the error says how many never were. */
  async waitForAll(ids: readonly string[], timeoutMs: number, what: string): Promise<void> {
    await waitFor(() => this.missing(ids).length === 0, {
      timeoutMs,
      message: `${what}: ${this.missing(ids).length} of ${ids.length} not handled`,
    });
  }
}

/** Workers of one group on `gateway`, each recording into `log`; started before this resolves. */
export async function startWorkers(options: {
  gateway: ServiceHandle;
  group: string;
  topic: string;
  eventType: string;
  count: number;
  log: HandledLog;
  /** Per-event work, so a backlog is still being handled when a fault hits. @default 5 */
  workMs?: number;
  /** @default 8 */
  prefetch?: number;
}): Promise<Worker[]> {
  const workers = Array.from({ length: options.count }, () => {
    const worker = new Worker({
      ...FAST_SDK,
      name: options.group,
      url: options.gateway.url,
      prefetch: options.prefetch ?? 8,
      shutdownTimeoutMs: 1_000,
    });
    worker.onEvent(options.eventType, { topic: options.topic }, async (event) => {
      await new Promise((resolve) => setTimeout(resolve, options.workMs ?? 5));
      options.log.record(event.id);
    });
    return worker;
  });
  await Promise.all(workers.map((worker) => worker.start()));
  return workers;
}

/** Stop members without waiting on handlers a fault left hanging. */
export async function stopAll(
  members: readonly { stop(options: { force: boolean; timeout: number }): Promise<void> }[],
) {
  await Promise.allSettled(members.map((member) => member.stop({ force: true, timeout: 1_000 })));
}

/** A publisher that retries each event (same id, so the broker dedupes) until the gateway confirms it. */
export class RetryingPublisher {
  readonly client: EventBusClient;
  /** Publishes refused along the way (broker down, gateway down). */
  failures = 0;
  /** Ids confirmed (stored by the broker). */
  readonly confirmed = new Set<string>();

  constructor(url: string) {
    this.client = new EventBusClient({ ...FAST_SDK, url });
  }

  /** Publish every event of `events`, `lanes` at a time, each retried until confirmed or `deadlineMs` passes. */
  async publishAll(events: readonly PublishOptions[], deadlineMs: number, lanes = 8): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < events.length) {
        const event = events[next++]!;
        await this.#publishOne(event, deadline);
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
  }

  async #publishOne(event: PublishOptions, deadline: number): Promise<void> {
    for (;;) {
      try {
        const result = await this.client.publish(event, { timeout: 5_000 });
        this.confirmed.add(result.event_id);
        return;
      } catch (error) {
        this.failures += 1;
        if (Date.now() > deadline) throw error;
        // A retry pause, not a wait for a condition: the broker or gateway is down and will come back.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

/** What a NATS kill test runs on: a server, one gateway on it, two workers of one group, a retrying publisher. */
export interface NatsFaultStage {
  readonly server: NatsServerHandle;
  readonly gateway: ServiceHandle;
  /** The topic the workers subscribe to, random per stage. */
  readonly topic: string;
  /** What the workers handled. */
  readonly log: HandledLog;
  readonly workers: readonly Worker[];
  /** Connected to the gateway. */
  readonly publisher: RetryingPublisher;
}

/**
 * Start a {@link NatsFaultStage} whose workers handle `eventType` (10 ms of work per event, so a backlog is still
 * in flight when the fault hits). Each piece's cleanup goes onto `cleanups` as soon as it runs, so a start that
 * fails half-way still stops what it started.
 */
export async function startNatsFaultStage(eventType: string, cleanups: Cleanup[]): Promise<NatsFaultStage> {
  const server = await startNatsServer();
  cleanups.push(() => server.stop());
  const gateway = await startNatsGateway(natsDeployment(server));
  cleanups.push(() => gateway.stop());

  const suffix = uniqueSuffix();
  const topic = `faults-${suffix}`;
  const log = new HandledLog();
  const workers = await startWorkers({
    gateway,
    group: `g${suffix}`,
    topic,
    eventType,
    count: 2,
    log,
    workMs: 10,
  });
  cleanups.push(() => stopAll(workers));
  const publisher = new RetryingPublisher(gateway.url);
  await publisher.client.connect();
  cleanups.push(() => publisher.client.close({ timeout: 1_000 }));
  return { server, gateway, topic, log, workers, publisher };
}

/** Print what a kill test saw, for reading CI logs: counts of published, handled, redelivered and retried. */
export function logFaultSummary(
  fault: string,
  stage: NatsFaultStage,
  published: readonly string[],
  handledBeforeKill: number,
): void {
  const { log, publisher } = stage;
  console.info(
    `[faults] ${fault}: published ${published.length}, handled ${log.unique} distinct ` +
      `(${handledBeforeKill} before the kill), redelivered ${log.redelivered}, publish retries ${publisher.failures}`,
  );
}

/** `count` events of one type and topic with fresh ids. */
export function makeEvents(count: number, eventType: string, topic: string, from = 0): PublishOptions[] {
  return Array.from({ length: count }, (_, index) => ({
    id: randomUUID(),
    event_type: eventType,
    topic,
    data: { n: from + index },
  }));
}
