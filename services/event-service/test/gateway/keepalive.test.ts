import type { Socket } from "node:net";
import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { FrameClient } from "./frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "./harness.js";

describe("keepalive", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await gateway?.close();
    gateway = undefined;
  });

  it("keepalive - a peer that stops answering pings is dropped and its deliveries go to another member", async () => {
    gateway = await startGateway({ pingIntervalMs: 100 });
    const group = randomName("g");
    const topic = randomName("t");
    const { client: silent } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 1 });
    clients.push(silent);
    await silent.subscribe(topic);
    await silent.publish(testEvent(topic, "x.y", { id: "stuck" }));
    await silent.next("delivery");
    const { client: healthy } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 1 });
    clients.push(healthy);
    await healthy.subscribe(topic);

    // A peer whose machine vanished reads nothing, so it never answers a ping.
    (silent.socket as unknown as { _socket: Socket })._socket.pause();

    const redelivered = await healthy.next("delivery", 5000);
    expect(redelivered.event.id).toBe("stuck");
    expect(redelivered.attempt).toBe(2);
    await waitFor(() => gateway!.app.dispatcher.snapshot()[0]?.members.length === 1, {
      message: "the silent member was removed",
    });
  });

  it("keepalive - a responsive client stays connected across many ping intervals", async () => {
    gateway = await startGateway({ pingIntervalMs: 50 });
    const topic = randomName("t");
    const { client } = await FrameClient.open(gateway.wsUrl, { agent_name: randomName("g") });
    clients.push(client);
    await client.subscribe(topic);
    let pings = 0;
    client.socket.on("ping", () => {
      pings += 1;
    });
    await waitFor(() => pings >= 6, { message: "six pings answered" });
    expect((await client.publish(testEvent(topic))).duplicate).toBe(false);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });
});
