import { Agent } from "@soorma/sdk";
import {
  type NatsServerHandle,
  requireBroker,
  type ServiceHandle,
  startNatsServer,
  waitFor,
} from "@soorma/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupAfterEach } from "./cleanups.js";
import {
  FAST_SDK,
  HandledLog,
  makeEvents,
  type NatsDeployment,
  natsDeployment,
  RetryingPublisher,
  startNatsGateway,
  startWorkers,
  stopAll,
  uniqueSuffix,
} from "./support.js";

const nats = requireBroker("nats");

/** The group's pending count on `gateway`'s admin API (`undefined` while it does not list the inbox). */
async function pendingOf(gateway: ServiceHandle, group: string, topic: string): Promise<number | undefined> {
  const response = await fetch(`${gateway.httpUrl}/v1/admin/groups`, { signal: AbortSignal.timeout(2_000) });
  const body = (await response.json()) as {
    groups: { group: string; topics: { topic: string; pending?: number | null }[] }[];
  };
  const pending = body.groups.find((g) => g.group === group)?.topics.find((t) => t.topic === topic)?.pending;
  return pending ?? undefined;
}

describe.skipIf(!nats.available)("faults - two gateway replicas on one NATS", () => {
  let server: NatsServerHandle;
  let deployment: NatsDeployment;
  let replicas: ServiceHandle[] = [];
  const cleanups = cleanupAfterEach();

  beforeAll(async () => {
    server = await startNatsServer();
    deployment = natsDeployment(server);
    replicas = await Promise.all([startNatsGateway(deployment), startNatsGateway(deployment)]);
  });
  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await server?.stop();
  });

  it("replicas - one group's members on two replicas share 300 events, each handled once; a group on replica 2 gets all", async () => {
    const [replica1, replica2] = replicas as [ServiceHandle, ServiceHandle];
    const suffix = uniqueSuffix();
    const topic = `replicas-${suffix}`;
    const eventType = "fault.replicas.shared";
    const group = `shared${suffix}`;
    const viaReplica = [new HandledLog(), new HandledLog()] as const;
    const members = [
      ...(await startWorkers({ gateway: replica1, group, topic, eventType, count: 1, log: viaReplica[0] })),
      ...(await startWorkers({ gateway: replica2, group, topic, eventType, count: 1, log: viaReplica[1] })),
    ];
    const everything = new HandledLog();
    const audit = new Agent({ ...FAST_SDK, name: `audit${suffix}`, url: replica2.url });
    audit.onEvent(eventType, { topic }, (event) => everything.record(event.id));
    await audit.start();
    cleanups.push(() => stopAll([...members, audit]));

    const publisher = new RetryingPublisher(replica1.url);
    await publisher.client.connect();
    cleanups.push(() => publisher.client.close({ timeout: 1_000 }));
    const events = makeEvents(300, eventType, topic);
    await publisher.publishAll(events, 15_000);
    const ids = events.map((event) => event.id!);

    const handledByEither = () => ids.filter((id) => viaReplica.some((log) => log.has(id)));
    await waitFor(() => handledByEither().length === ids.length, {
      timeoutMs: 20_000,
      message: "the shared group handled every event",
    });
    await everything.waitForAll(ids, 20_000, "group on replica 2");
    // Settled on both replicas: nothing pending or leased, so no redelivery can still come.
    for (const replica of replicas) {
      await waitFor(async () => (await pendingOf(replica, group, topic)) === 0, { timeoutMs: 10_000 });
    }
    expect(ids.filter((id) => viaReplica.every((log) => log.has(id)))).toEqual([]);
    expect([...viaReplica[0].duplicates(), ...viaReplica[1].duplicates()]).toEqual([]);
    expect(everything.duplicates()).toEqual([]);
    expect(viaReplica[0].unique).toBeGreaterThan(0);
    expect(viaReplica[1].unique).toBeGreaterThan(0);
    console.info(
      `[faults] replicas: published ${ids.length}, shared group handled ${handledByEither().length} once each ` +
        `(${viaReplica[0].unique} via replica 1, ${viaReplica[1].unique} via replica 2), audit group ${everything.unique}`,
    );
  });

  it("replicas - events published on replica 1 while a group is away reach it when it comes back on replica 2", async () => {
    const [replica1, replica2] = replicas as [ServiceHandle, ServiceHandle];
    const suffix = uniqueSuffix();
    const topic = `replicas-saf-${suffix}`;
    const eventType = "fault.replicas.stored";
    const group = `away${suffix}`;
    const first = await startWorkers({
      gateway: replica1,
      group,
      topic,
      eventType,
      count: 1,
      log: new HandledLog(),
    });
    await stopAll(first);

    const publisher = new RetryingPublisher(replica1.url);
    await publisher.client.connect();
    cleanups.push(() => publisher.client.close({ timeout: 1_000 }));
    const events = makeEvents(50, eventType, topic);
    await publisher.publishAll(events, 15_000);

    const log = new HandledLog();
    const returning = await startWorkers({ gateway: replica2, group, topic, eventType, count: 1, log });
    cleanups.push(() => stopAll(returning));
    const ids = events.map((event) => event.id!);
    await log.waitForAll(ids, 15_000, "events stored while the group was away");
    await waitFor(async () => (await pendingOf(replica2, group, topic)) === 0, { timeoutMs: 10_000 });
    expect(log.duplicates()).toEqual([]);
  });
});
