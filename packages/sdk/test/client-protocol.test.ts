import type { ClientFrame } from "@soorma/common";
import { afterEach, describe, expect, it } from "vitest";
import type { Delivery } from "../src/client/delivery.js";
import type { EventBusClient } from "../src/client/event-bus-client.js";
import type { EventBusClientOptions } from "../src/client/options.js";
import { SDK_CLIENT_NAME } from "../src/version.js";
import { scriptedClient } from "./support/scripted-client.js";
import { type PeerConnection, ScriptedPeer, welcomeFor } from "./support/scripted-peer.js";
import { waitForStatus, waitUntil } from "./support/wait-status.js";

const peers: ScriptedPeer[] = [];
const clients: EventBusClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeout: 0 })));
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

function clientFor(peer: ScriptedPeer, options: EventBusClientOptions = {}): EventBusClient {
  return scriptedClient(peer, { requestTimeoutMs: 5000, ...options }, clients);
}

/** A peer that welcomes every hello and hands other frames to `onOther`. */
async function welcomingPeer(onOther: (c: PeerConnection, frame: ClientFrame) => void = () => {}) {
  const peer = await ScriptedPeer.start((connection, frame) => {
    if (frame.type === "hello") connection.send(welcomeFor(frame));
    else onOther(connection, frame);
  });
  peers.push(peer);
  return peer;
}

describe("client protocol", () => {
  it("handshake - the token goes in the Authorization header and hello names id, group, prefetch and client", async () => {
    const peer = await welcomingPeer();
    const client = clientFor(peer, {
      agentName: "billing",
      agentId: "billing-1",
      prefetch: 7,
      auth: { token: async () => "tok-123" },
    });
    await client.connect();
    const connection = peer.connections[0]!;
    expect(connection.headers.authorization).toBe("Bearer tok-123");
    expect(peer.url).not.toContain("tok-123");
    expect(connection.frames[0]).toEqual({
      type: "hello",
      protocol: 1,
      agent_id: "billing-1",
      agent_name: "billing",
      prefetch: 7,
      client: SDK_CLIENT_NAME,
    });
    expect(client.status).toBe("connected");
    expect(client.session?.group).toBe("billing");
  });

  it.each([
    { fatal: true, label: "a fatal" },
    { fatal: false, label: "a non-fatal" },
  ])(
    "refused hello - $label SOORMA_ERR_PROTOCOL_VERSION rejects connect() and closes the client for good",
    async ({ fatal }) => {
      const peer = await ScriptedPeer.start((connection, frame) => {
        if (frame.type !== "hello") return;
        connection.send({
          type: "error",
          code: "SOORMA_ERR_PROTOCOL_VERSION",
          message: "not supported",
          fatal,
        });
        if (fatal) connection.close(1002);
      });
      peers.push(peer);
      const client = clientFor(peer);
      const changes: { status: string; code?: string }[] = [];
      client.onStatus((c) => changes.push({ status: c.status, code: c.error?.code }));
      await expect(client.connect()).rejects.toMatchObject({
        name: "RemoteError",
        code: "SOORMA_ERR_PROTOCOL_VERSION",
      });
      expect(client.status).toBe("closed");
      expect(changes).toEqual([
        { status: "connecting", code: undefined },
        { status: "closed", code: "SOORMA_ERR_PROTOCOL_VERSION" },
      ]);
      await expect(client.connect()).rejects.toMatchObject({ code: "SOORMA_ERR_CLIENT_CLOSED" });
      expect(peer.connections).toHaveLength(1);
    },
  );

  it("fatal - an upgrade refused with HTTP 401 is an AuthError SOORMA_ERR_UNAUTHENTICATED", async () => {
    const peer = await ScriptedPeer.start(() => {}, { refuseWith: 401 });
    peers.push(peer);
    const client = clientFor(peer, { auth: { apiKey: "wrong" } });
    await expect(client.connect()).rejects.toMatchObject({
      name: "AuthError",
      code: "SOORMA_ERR_UNAUTHENTICATED",
    });
    expect(client.status).toBe("closed");
  });

  it("errors - an error frame with req_id rejects that publish with the server's code; unknown codes become INTERNAL", async () => {
    let count = 0;
    const peer = await welcomingPeer((connection, frame) => {
      if (frame.type !== "publish") return;
      const { req_id } = frame;
      count += 1;
      connection.send({
        type: "error",
        req_id,
        code: count === 1 ? "SOORMA_ERR_FORBIDDEN" : "SOORMA_ERR_FROM_THE_FUTURE",
        message: "no",
      });
    });
    const client = clientFor(peer);
    await client.connect();
    await expect(client.publish({ event_type: "a.b", topic: "business-facts" })).rejects.toMatchObject({
      name: "RemoteError",
      code: "SOORMA_ERR_FORBIDDEN",
    });
    const second = await client
      .publish({ event_type: "a.b", topic: "business-facts" })
      .catch((e: unknown) => e);
    expect(second).toMatchObject({
      code: "SOORMA_ERR_INTERNAL",
      details: { remote_code: "SOORMA_ERR_FROM_THE_FUTURE" },
    });
    expect(client.status).toBe("connected");
  });

  it("draining - status goes draining, publishes wait, and are sent after the reconnect", async () => {
    const peer = await welcomingPeer((connection, frame) => {
      if (frame.type === "publish") {
        const { req_id, event } = frame;
        connection.send({ type: "published", req_id, event_id: event.id });
      }
    });
    const client = clientFor(peer);
    await client.connect();
    const statuses: string[] = [];
    client.onStatus((c) => statuses.push(c.status));
    const first = peer.connections[0]!;
    first.send({ type: "draining", deadline_ms: 1000 });
    await waitForStatus(client, "draining");
    const publish = client.publish({ id: "held-1", event_type: "a.b", topic: "business-facts" });
    first.close(1001);
    await expect(publish).resolves.toEqual({ event_id: "held-1", duplicate: false });
    expect(first.frames.some((f) => f.type === "publish")).toBe(false);
    expect(peer.connections).toHaveLength(2);
    expect(statuses).toEqual(["draining", "reconnecting", "connected"]);
  });

  it("resend - a publish unanswered when the connection dropped is re-sent with the same id after reconnect", async () => {
    const seenIds: string[] = [];
    const peer = await welcomingPeer((connection, frame) => {
      if (frame.type !== "publish") return;
      seenIds.push(frame.event.id);
      // First connection: swallow the publish and drop the socket, as a crashing gateway would.
      if (peer.connections.indexOf(connection) === 0) connection.close(1011);
      else
        connection.send({
          type: "published",
          req_id: frame.req_id,
          event_id: frame.event.id,
          duplicate: true,
        });
    });
    const client = clientFor(peer);
    await client.connect();
    const result = await client.publish({ event_type: "a.b", topic: "business-facts" });
    expect(seenIds).toHaveLength(2);
    expect(seenIds[1]).toBe(seenIds[0]);
    expect(result).toEqual({ event_id: seenIds[0], duplicate: true });
  });

  it("re-subscribe - every topic is subscribed again on a new connection, with its event types", async () => {
    const peer = await welcomingPeer((connection, frame) => {
      if (frame.type === "subscribe") {
        connection.send({ type: "subscribed", req_id: frame.req_id, topic: frame.topic, group: "g" });
      }
    });
    const client = clientFor(peer);
    await client.connect();
    await client.subscribe("business-facts", ["order.placed"], () => {});
    await client.subscribe("plan-events", "*", () => {});
    peer.connections[0]!.close(1001);
    await waitUntil(() => peer.connections.length === 2 && client.status === "connected", "reconnected");
    const second = () => peer.connections[1]?.frames.filter((f) => f.type === "subscribe") ?? [];
    await waitUntil(() => second().length >= 2, "two subscribe frames on the second connection");
    expect(second().map((f) => (f.type === "subscribe" ? [f.topic, f.event_types] : []))).toEqual([
      ["business-facts", ["order.placed"]],
      ["plan-events", ["*"]],
    ]);
  });

  it("lost delivery - its signal aborts and a late ack is not sent on the next connection", async () => {
    const peer = await welcomingPeer((connection, frame) => {
      if (frame.type === "subscribe") {
        connection.send({ type: "subscribed", req_id: frame.req_id, topic: frame.topic, group: "g" });
        if (peer.connections.indexOf(connection) === 0) {
          connection.send({
            type: "delivery",
            delivery_id: "d-1",
            topic: frame.topic,
            attempt: 1,
            max_attempts: 5,
            lease_ms: 30_000,
            event: { id: "e-1", source: "s", type: "a.b", topic: frame.topic },
          });
        }
      }
    });
    const client = clientFor(peer);
    const deliveries: Delivery[] = [];
    await client.connect();
    await client.subscribe("business-facts", "*", (d) => deliveries.push(d));
    await waitUntil(() => deliveries.length === 1, "delivery received");
    const delivery = deliveries[0]!;
    expect(delivery.signal.aborted).toBe(false);
    peer.connections[0]!.close(1001);
    await waitUntil(() => delivery.signal.aborted, "delivery signal aborted");
    await waitUntil(() => peer.connections.length === 2 && client.status === "connected", "reconnected");
    delivery.ack();
    // A marker round trip on the new connection proves the ack would have been sent before it.
    await client.subscribe("plan-events", "*", () => {});
    const frames = peer.connections.flatMap((c) => c.frames);
    expect(frames.some((f) => f.type === "ack")).toBe(false);
  });
});
