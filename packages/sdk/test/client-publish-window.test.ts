import type { ClientFrame } from "@soorma/common";
import { afterEach, describe, expect, it } from "vitest";
import type { EventBusClient } from "../src/client/event-bus-client.js";
import type { EventBusClientOptions } from "../src/client/options.js";
import { scriptedClient } from "./support/scripted-client.js";
import { type PeerConnection, ScriptedPeer, welcomeFor } from "./support/scripted-peer.js";

const peers: ScriptedPeer[] = [];
const clients: EventBusClient[] = [];
const timers = new Set<NodeJS.Timeout>();

afterEach(async () => {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  await Promise.all(clients.splice(0).map((c) => c.close({ timeout: 0 })));
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

function clientFor(peer: ScriptedPeer, options: EventBusClientOptions = {}): EventBusClient {
  return scriptedClient(peer, { requestTimeoutMs: 10_000, ...options }, clients);
}

type PublishFrame = Extract<ClientFrame, { type: "publish" }>;

/** A peer that welcomes every hello and hands publish frames to `onPublish`. */
async function publishPeer(onPublish: (connection: PeerConnection, frame: PublishFrame) => void) {
  const peer = await ScriptedPeer.start((connection, frame) => {
    if (frame.type === "hello") connection.send(welcomeFor(frame));
    else if (frame.type === "publish") onPublish(connection, frame);
  });
  peers.push(peer);
  return peer;
}

function later(delayMs: number, task: () => void): void {
  const timer = setTimeout(() => {
    timers.delete(timer);
    task();
  }, delayMs);
  timers.add(timer);
}

/**
 * A peer acting like a gateway whose broker takes `brokerMs` per publish and that allows `maxPending` publishes
 * waiting for it per connection, refusing the excess with SOORMA_ERR_LIMIT_EXCEEDED as the real gateway does.
 */
async function limitedPeer(maxPending: number, brokerMs: number) {
  const stored = new Map<string, number>();
  const stats = { pending: 0, maxPending: 0, refused: 0, order: [] as string[] };
  const peer = await publishPeer((connection, { req_id, event }) => {
    if (stats.pending >= maxPending) {
      stats.refused += 1;
      connection.send({
        type: "error",
        req_id,
        code: "SOORMA_ERR_LIMIT_EXCEEDED",
        message: "limit reached",
        details: { limit: "maxPendingPublishesPerConnection", max: maxPending },
      });
      return;
    }
    stats.pending += 1;
    stats.maxPending = Math.max(stats.maxPending, stats.pending);
    later(brokerMs, () => {
      stats.pending -= 1;
      const seen = stored.get(event.id) ?? 0;
      stored.set(event.id, seen + 1);
      if (seen === 0) stats.order.push(event.id);
      connection.send({ type: "published", req_id, event_id: event.id, duplicate: seen > 0 });
    });
  });
  return { peer, stored, stats };
}

const publishOf = (n: number) => ({ id: `e-${n}`, event_type: "a.b", topic: "business-facts" as const });

describe("client publish window", () => {
  it("window - 40 publishes fired at once never have more than maxInFlightPublishes unanswered; sent in order", async () => {
    const { peer, stats } = await limitedPeer(1000, 2);
    const client = clientFor(peer, { maxInFlightPublishes: 4 });
    await client.connect();
    const results = await Promise.all(Array.from({ length: 40 }, (_, n) => client.publish(publishOf(n))));
    expect(results.map((r) => r.event_id)).toEqual(Array.from({ length: 40 }, (_, n) => `e-${n}`));
    expect(stats.maxPending).toBe(4);
    expect(stats.refused).toBe(0);
    const sent = peer.connections[0]!.frames.filter((f): f is PublishFrame => f.type === "publish");
    expect(sent.map((f) => f.event.id)).toEqual(Array.from({ length: 40 }, (_, n) => `e-${n}`));
  });

  it("too many pending - publishes the gateway refuses with SOORMA_ERR_LIMIT_EXCEEDED are resent; all 300 confirmed, each stored once", async () => {
    const { peer, stored, stats } = await limitedPeer(5, 1);
    const client = clientFor(peer, { maxInFlightPublishes: 20 });
    await client.connect();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 300 }, (_, n) => client.publish(publishOf(n))),
    );
    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    expect(stats.refused).toBeGreaterThan(0);
    expect(stored.size).toBe(300);
    expect([...stored.values()].every((count) => count === 1)).toBe(true);
    // The window learned the gateway's limit: refusals are a small fraction, not one per confirmation.
    expect(stats.refused).toBeLessThan(150);
  });

  it("rate limited - a refused publish is sent again no sooner than retry_after_ms, before any younger one", async () => {
    const sentAt: Array<{ id: string; at: number }> = [];
    let refusedAt = 0;
    const peer = await publishPeer((connection, { req_id, event }) => {
      sentAt.push({ id: event.id, at: Date.now() });
      if (event.id === "e-0" && refusedAt === 0) {
        refusedAt = Date.now();
        connection.send({
          type: "error",
          req_id,
          code: "SOORMA_ERR_RATE_LIMITED",
          message: "slow down",
          details: { limit: "maxFramesPerSecond", retry_after_ms: 150 },
        });
        return;
      }
      connection.send({ type: "published", req_id, event_id: event.id });
    });
    const client = clientFor(peer, { maxInFlightPublishes: 1 });
    await client.connect();
    const results = await Promise.all([0, 1, 2].map((n) => client.publish(publishOf(n))));
    expect(results.map((r) => r.event_id)).toEqual(["e-0", "e-1", "e-2"]);
    expect(sentAt.map((s) => s.id)).toEqual(["e-0", "e-0", "e-1", "e-2"]);
    expect(sentAt[1]!.at - refusedAt).toBeGreaterThanOrEqual(140);
  });

  it("deadline - a publish the gateway keeps refusing for now rejects with TimeoutError, not the refusal", async () => {
    let attempts = 0;
    const peer = await publishPeer((connection, { req_id }) => {
      attempts += 1;
      connection.send({ type: "error", req_id, code: "SOORMA_ERR_LIMIT_EXCEEDED", message: "full" });
    });
    const client = clientFor(peer);
    await client.connect();
    await expect(
      client.publish({ event_type: "a.b", topic: "business-facts" }, { timeout: 400 }),
    ).rejects.toMatchObject({ name: "TimeoutError", code: "SOORMA_ERR_TIMEOUT" });
    // It was tried again while the deadline ran, with backoff rather than in a tight loop.
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(20);
  });

  it("final refusal - another error code still rejects the publish and frees its slot for the next", async () => {
    const peer = await publishPeer((connection, { req_id, event }) => {
      if (event.id === "e-0") {
        connection.send({ type: "error", req_id, code: "SOORMA_ERR_ENVELOPE_INVALID", message: "bad" });
        return;
      }
      connection.send({ type: "published", req_id, event_id: event.id });
    });
    const client = clientFor(peer, { maxInFlightPublishes: 1 });
    await client.connect();
    const first = client.publish(publishOf(0));
    const second = client.publish(publishOf(1));
    await expect(first).rejects.toMatchObject({ name: "RemoteError", code: "SOORMA_ERR_ENVELOPE_INVALID" });
    await expect(second).resolves.toEqual({ event_id: "e-1", duplicate: false });
  });

  it("reconnect - publishes waiting behind the window and unanswered ones all go out again on the next connection", async () => {
    const seen: string[][] = [];
    const peer = await publishPeer((connection, { req_id, event }) => {
      const index = peer.connections.indexOf(connection);
      const ids = seen[index] ?? [];
      seen[index] = ids;
      ids.push(event.id);
      // First connection: take two publishes, answer neither, then drop.
      if (index === 0) {
        if (ids.length === 2) connection.close(1011);
        return;
      }
      connection.send({ type: "published", req_id, event_id: event.id });
    });
    const client = clientFor(peer, { maxInFlightPublishes: 2 });
    await client.connect();
    const results = await Promise.all([0, 1, 2, 3, 4].map((n) => client.publish(publishOf(n))));
    expect(results.map((r) => r.event_id)).toEqual(["e-0", "e-1", "e-2", "e-3", "e-4"]);
    expect(seen[0]).toEqual(["e-0", "e-1"]);
    expect(seen[1]).toEqual(["e-0", "e-1", "e-2", "e-3", "e-4"]);
  });
});
