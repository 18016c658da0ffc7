import type { Socket } from "node:net";
import type { DeliveryFrame } from "@soorma/common";
import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";
import { captureLogs, expectFatal } from "./support.js";

const EVENTS = 300;
const PAYLOAD = "x".repeat(64 * 1024);
const MAX_BUFFERED = 256 * 1024;
const GRACE_MS = 1_500;

describe("slow consumer", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  /** Largest send buffer of any socket of the gateway right now. */
  function largestSendBuffer(): number {
    return Math.max(0, ...[...gateway!.app.websocketServer.clients].map((socket) => socket.bufferedAmount));
  }

  it("slow consumer - a member that stops reading is paused (the backlog stays in the broker, gateway memory stays bounded), then evicted with SOORMA_ERR_LIMIT_EXCEEDED; nothing is lost", async () => {
    const logs = captureLogs("info");
    gateway = await startGateway(
      {
        leaseMs: 60_000,
        limits: { maxBufferedBytesPerConnection: MAX_BUFFERED, slowConsumerGraceMs: GRACE_MS },
      },
      undefined,
      logs.logger,
    );
    const group = randomName("g");
    const topic = randomName("t");
    const { client: slow } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 1000 });
    clients.push(slow);
    await slow.subscribe(topic);
    // The client stops reading its socket: the kernel buffers fill, then the gateway's own send buffer grows.
    (slow.socket as unknown as { _socket: Socket })._socket.pause();

    const { client: publisher } = await FrameClient.open(gateway.wsUrl);
    clients.push(publisher);
    const published: string[] = [];
    let pausedAt: number | undefined;
    let largestWhilePaused = 0;
    for (let i = 0; i < EVENTS; i++) {
      published.push(
        (await publisher.publish(testEvent(topic, "big.event", { data: { i, PAYLOAD } }))).event_id,
      );
      const member = gateway.app.dispatcher.snapshot().find((g) => g.group === group)?.members[0];
      if (member?.paused) {
        pausedAt ??= member.inFlight;
        largestWhilePaused = Math.max(largestWhilePaused, largestSendBuffer());
      }
    }
    const member = await waitFor(
      () =>
        gateway!.app.dispatcher
          .snapshot()
          .find((g) => g.group === group)
          ?.members.find((m) => m.paused),
      { timeoutMs: 5_000, message: "the slow member to be paused" },
    );
    // Paused long before it took every event: the rest is still in the broker, not in gateway memory.
    expect(pausedAt).toBeDefined();
    expect(member.inFlight).toBeLessThan(EVENTS / 2);
    // After the pause nothing more is queued for the socket beyond what was already on its way.
    expect(largestWhilePaused).toBeLessThan(MAX_BUFFERED + 4 * PAYLOAD.length);

    // Another member of the group takes what the slow one does not.
    const handled = new Set<string>();
    const { client: healthy } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 50 });
    clients.push(healthy);
    healthy.socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as DeliveryFrame;
      if (frame.type !== "delivery") return;
      handled.add(frame.event.id);
      healthy.send({ type: "ack", delivery_id: frame.delivery_id });
    });
    await healthy.subscribe(topic);

    // The slow member never recovers: after the grace time it is evicted, and its deliveries go back.
    await waitFor(() => !gateway!.app.dispatcher.snapshot().some((g) => g.members.some((m) => m.paused)), {
      timeoutMs: GRACE_MS + 5_000,
      message: "the slow member to be evicted",
    });
    (slow.socket as unknown as { _socket: Socket })._socket.resume();
    const { frame } = await expectFatal(slow, "SOORMA_ERR_LIMIT_EXCEEDED", 4429);
    expect(frame.details).toEqual({ limit: "maxBufferedBytesPerConnection", max: MAX_BUFFERED });
    expect(
      logs.lines.some(
        (line) =>
          line.msg === "connection closed by the gateway" && line.code === "SOORMA_ERR_LIMIT_EXCEEDED",
      ),
    ).toBe(true);

    await waitFor(() => published.every((id) => handled.has(id)), {
      timeoutMs: 15_000,
      message: "every published event handled by the healthy member",
    });
  });

  it("slow consumer - a member that reads again before the grace time ends is resumed and gets the whole backlog", async () => {
    gateway = await startGateway({
      leaseMs: 60_000,
      limits: { maxBufferedBytesPerConnection: MAX_BUFFERED, slowConsumerGraceMs: 30_000 },
    });
    const group = randomName("g");
    const topic = randomName("t");
    const { client: consumer } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 1000 });
    clients.push(consumer);
    await consumer.subscribe(topic);
    const handled = new Set<string>();
    consumer.socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as DeliveryFrame;
      if (frame.type !== "delivery") return;
      handled.add(frame.event.id);
      consumer.send({ type: "ack", delivery_id: frame.delivery_id });
    });
    const tcp = (consumer.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();

    const { client: publisher } = await FrameClient.open(gateway.wsUrl);
    clients.push(publisher);
    const published: string[] = [];
    const pausedMember = () =>
      gateway!.app.dispatcher
        .snapshot()
        .find((g) => g.group === group)
        ?.members.find((m) => m.paused);
    for (let i = 0; i < EVENTS && pausedMember() === undefined; i++) {
      published.push(
        (await publisher.publish(testEvent(topic, "big.event", { data: { i, PAYLOAD } }))).event_id,
      );
    }
    await waitFor(pausedMember, { timeoutMs: 5_000, message: "the member to be paused" });
    // Published while it is paused: these stay in the broker until it reads again.
    for (let i = 0; i < 20; i++) {
      published.push((await publisher.publish(testEvent(topic, "late.event", { data: { i } }))).event_id);
    }

    tcp.resume();
    await waitFor(() => published.every((id) => handled.has(id)), {
      timeoutMs: 15_000,
      message: "the whole backlog handled after the member read again",
    });
    expect(pausedMember()).toBeUndefined();
    expect(consumer.received.filter((f) => f.type === "error")).toEqual([]);
    expect(consumer.socket.readyState).toBe(consumer.socket.OPEN);
  });
});
