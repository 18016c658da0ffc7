import { Agent, type EventEnvelope, EventTopic, type PublishOptions, Worker } from "@soorma/sdk";
import { deferred, waitFor, withDeadline } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfig } from "../../src/config.js";
import { pendingOf, randomName, type SdkTestGateway, startGateway, testLogger } from "./support/gateway.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(config: Partial<GatewayConfig> = {}): Promise<SdkTestGateway> {
  const started = await startGateway({ broker: "memory", ...config });
  cleanups.push(() => started.close());
  return started;
}

/** An Agent/Worker on `gw`, stopped (forcefully) after the test. */
function track<T extends Agent>(agent: T): T {
  cleanups.push(() => agent.stop({ force: true }));
  return agent;
}

describe("SDK ↔ gateway: agents", () => {
  it("start - resolves only once every topic's subscription is confirmed by the gateway", async () => {
    const gw = await gateway();
    const name = randomName("auditor");
    const seen: EventEnvelope[] = [];
    const agent = track(new Agent({ name, url: gw.url, logger: testLogger() }))
      .onEvent("order.placed", async (event) => {
        seen.push(event);
      })
      .onEvent("plan.created", { topic: EventTopic.PLAN_EVENTS }, async (event) => {
        seen.push(event);
      });
    await withDeadline(agent.start(), 10_000, "agent start");
    // Confirmed means the gateway has the member on both topics right now, with no waiting.
    const group = (await gw.groups()).find((g) => g.group === name);
    expect(group?.members).toHaveLength(1);
    expect([...(group?.members[0]?.topics ?? [])].sort()).toEqual(["business-facts", "plan-events"]);
    expect(group?.members[0]?.agent_id).toBe(agent.id);

    const publisher = track(new Agent({ name: randomName("shop"), url: gw.url, logger: testLogger() }));
    await publisher.start();
    await publisher.publish({ event_type: "order.placed", topic: EventTopic.BUSINESS_FACTS, data: { n: 1 } });
    await publisher.publish({ event_type: "plan.created", topic: EventTopic.PLAN_EVENTS, data: { n: 2 } });
    await waitFor(() => seen.length === 2, { message: "both events handled" });
    expect(seen.map((e) => e.type).sort()).toEqual(["order.placed", "plan.created"]);
    expect(seen.find((e) => e.type === "order.placed")?.source).toBe(publisher.name);
  });

  it("respond - defaults reach the requester on action-results with correlation, tenant, user, trace and parent", async () => {
    const gw = await gateway();
    const worker = track(new Worker({ name: randomName("researcher"), url: gw.url, logger: testLogger() }));
    worker.onEvent("research.requested", async (_event, ctx) => {
      await ctx.bus.respond({ data: { answer: 42 } });
    });
    const answers: EventEnvelope[] = [];
    const requester = track(new Agent({ name: randomName("planner"), url: gw.url, logger: testLogger() }));
    requester.onEvent("research.completed", { topic: EventTopic.ACTION_RESULTS }, async (event) => {
      answers.push(event);
    });
    await Promise.all([worker.start(), requester.start()]);

    const request: PublishOptions = {
      id: randomName("req"),
      event_type: "research.requested",
      topic: EventTopic.ACTION_REQUESTS,
      data: { q: "why is the sky blue" },
      correlation_id: randomName("corr"),
      response_event: "research.completed",
      tenant_id: "tenant-7",
      user_id: "user-9",
      session_id: "session-3",
      trace_id: randomName("trace"),
    };
    await requester.publish(request);
    const answer = await waitFor(() => answers[0], { message: "answer received" });
    expect(answer).toMatchObject({
      type: "research.completed",
      topic: "action-results",
      source: worker.name,
      data: { answer: 42 },
      correlation_id: request.correlation_id,
      tenant_id: "tenant-7",
      user_id: "user-9",
      session_id: "session-3",
      trace_id: request.trace_id,
      parent_event_id: request.id,
    });
  });

  it("long handler - a handler running past lease_ms keeps its delivery; no other member gets it", async () => {
    const gw = await gateway({ leaseMs: 600 });
    const name = randomName("slow-worker");
    const calls: Array<{ member: string; attempt: number }> = [];
    const finished = deferred<void>();
    const makeMember = () => {
      const worker = track(new Worker({ name, url: gw.url, logger: testLogger() }));
      worker.onEvent("slow.requested", async (_event, ctx) => {
        calls.push({ member: worker.id, attempt: ctx.delivery.attempt });
        // The scenario itself: work for more than three leases.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        finished.resolve();
      });
      return worker;
    };
    const [first, second] = [makeMember(), makeMember()];
    await Promise.all([first.start(), second.start()]);
    await first.publish({ event_type: "slow.requested", topic: EventTopic.ACTION_REQUESTS });
    await withDeadline(finished.promise, 10_000, "slow handler finished");
    await waitFor(async () => (await pendingOf(gw, name, "action-requests")) === 0, {
      message: "the slow event was acked",
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.attempt).toBe(1);
  });

  it("failing handler - after max_attempts the requester receives <type>.failed with the same correlation", async () => {
    const gw = await gateway({ maxAttempts: 2, retryBaseMs: 10, retryMaxMs: 50 });
    const attempts: number[] = [];
    const worker = track(new Worker({ name: randomName("flaky"), url: gw.url, logger: testLogger() }));
    worker.onEvent("charge.requested", async (_event, ctx) => {
      attempts.push(ctx.delivery.attempt);
      throw new Error("card declined");
    });
    const notices: EventEnvelope[] = [];
    const requester = track(new Agent({ name: randomName("billing"), url: gw.url, logger: testLogger() }));
    requester.onEvent("charge.requested.failed", { topic: EventTopic.ACTION_RESULTS }, async (event) => {
      notices.push(event);
    });
    await Promise.all([worker.start(), requester.start()]);
    const correlation = randomName("corr");
    const request = await requester.publish({
      event_type: "charge.requested",
      topic: EventTopic.ACTION_REQUESTS,
      correlation_id: correlation,
      tenant_id: "tenant-1",
      trace_id: "trace-1",
    });
    const notice = await waitFor(() => notices[0], { message: "failure notice received" });
    expect(attempts).toEqual([1, 2]);
    expect(notice).toMatchObject({
      type: "charge.requested.failed",
      topic: "action-results",
      correlation_id: correlation,
      tenant_id: "tenant-1",
      trace_id: "trace-1",
      parent_event_id: request.event_id,
    });
    expect(notice.data).toMatchObject({ attempts: 2, failed_event_id: request.event_id });
    expect(JSON.stringify(notice.data)).toContain("card declined");
  });

  it("stop - waits for the in-flight handler, whose ack reaches the gateway; no other member gets the event", async () => {
    const gw = await gateway();
    const name = randomName("order-worker");
    const started = deferred<void>();
    const release = deferred<void>();
    let finishedHandlers = 0;
    const leaving = track(new Worker({ name, url: gw.url, logger: testLogger() }));
    leaving.onEvent("order.requested", async () => {
      started.resolve();
      await release.promise;
      finishedHandlers += 1;
    });
    await leaving.start();
    await leaving.publish({ event_type: "order.requested", topic: EventTopic.ACTION_REQUESTS });
    await withDeadline(started.promise, 10_000, "handler started");

    const takenOver: EventEnvelope[] = [];
    const staying = track(new Worker({ name, url: gw.url, logger: testLogger() }));
    staying.onEvent("order.requested", async (event) => {
      takenOver.push(event);
    });
    await staying.start();

    let stopped = false;
    const stopping = leaving.stop().then(() => {
      stopped = true;
    });
    // stop() first unsubscribes: once the gateway shows the member without topics, stop is waiting on the handler.
    await waitFor(
      async () =>
        (await gw.groups())
          .find((g) => g.group === name)
          ?.members.some((m) => m.agent_id === leaving.id && m.topics.length === 0),
      { message: "leaving member unsubscribed" },
    );
    expect(stopped).toBe(false);
    release.resolve();
    await withDeadline(stopping, 10_000, "stop finished");
    expect(finishedHandlers).toBe(1);
    expect(leaving.client.status).toBe("closed");
    await waitFor(async () => (await pendingOf(gw, name, "action-requests")) === 0, {
      message: "the event was acked",
    });
    expect(takenOver).toEqual([]);
  });

  it("unhandled types - a wildcard agent acks types it has no handler for; nothing stays pending", async () => {
    const gw = await gateway();
    const name = randomName("picky");
    const handled: string[] = [];
    const agent = track(new Agent({ name, url: gw.url, logger: testLogger() }));
    agent.onEvent("order.placed", async (event) => {
      handled.push(event.type);
    });
    await agent.start();
    await agent.publish({ event_type: "order.cancelled", topic: EventTopic.BUSINESS_FACTS });
    await agent.publish({ event_type: "order.placed", topic: EventTopic.BUSINESS_FACTS });
    await waitFor(() => handled.length === 1, { message: "order.placed handled" });
    await waitFor(async () => (await pendingOf(gw, name, "business-facts")) === 0, {
      message: "both events settled",
    });
    expect(handled).toEqual(["order.placed"]);
  });

  it("run - SIGTERM stops the agent gracefully, run() resolves and its signal listeners are removed", async () => {
    const gw = await gateway();
    const before = { term: process.listenerCount("SIGTERM"), int: process.listenerCount("SIGINT") };
    const agent = track(new Agent({ name: randomName("runner"), url: gw.url, logger: testLogger() }));
    agent.onEvent("tick", async () => {});
    const running = agent.run();
    await waitFor(
      async () =>
        (await gw.groups()).some((g) => g.group === agent.name && g.members[0]?.topics.length === 1),
      { message: "agent subscribed" },
    );
    expect(process.listenerCount("SIGTERM")).toBe(before.term + 1);
    process.emit("SIGTERM");
    await withDeadline(running, 10_000, "run() resolved after SIGTERM");
    expect(agent.client.status).toBe("closed");
    expect(process.listenerCount("SIGTERM")).toBe(before.term);
    expect(process.listenerCount("SIGINT")).toBe(before.int);
  });
});
