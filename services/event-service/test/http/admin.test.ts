import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { AdminGroup } from "../../src/routes/admin.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";

describe("GET /v1/admin/groups", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  async function groups(): Promise<AdminGroup[]> {
    const response = await gateway!.app.inject({ method: "GET", url: "/v1/admin/groups" });
    expect(response.statusCode).toBe(200);
    return response.json<{ groups: AdminGroup[] }>().groups;
  }

  it("admin groups - connected members with their in-flight count, and pending per topic", async () => {
    gateway = await startGateway();
    const group = randomName("g");
    const [busy, idle] = [randomName("busy"), randomName("idle")];
    const { client, welcome } = await FrameClient.open(gateway.wsUrl, { agent_name: group, prefetch: 2 });
    clients.push(client);
    await client.subscribe(busy);
    await client.subscribe(idle);
    for (let i = 0; i < 5; i++) await client.publish(testEvent(busy));
    await client.deliveries(2);

    const entry = await waitFor(async () => {
      const found = (await groups()).find((g) => g.group === group);
      return found?.topics.find((t) => t.topic === busy)?.pending === 5 ? found : undefined;
    });
    expect(entry).toEqual({
      tenant: "default",
      group,
      members: [
        {
          agent_id: welcome.agent_id,
          connection_id: welcome.connection_id,
          prefetch: 2,
          in_flight: 2,
          topics: [busy, idle],
        },
      ],
      topics: [busy, idle].sort().map((topic) => ({ topic, pending: topic === busy ? 5 : 0 })),
    });
  });

  it("admin groups - a group whose members left is still listed with its pending events", async () => {
    gateway = await startGateway();
    const group = randomName("g");
    const topic = randomName("t");
    const { client } = await FrameClient.open(gateway.wsUrl, { agent_name: group });
    await client.subscribe(topic);
    await client.close();
    const { client: producer } = await FrameClient.open(gateway.wsUrl);
    clients.push(producer);
    await producer.publish(testEvent(topic));
    const entry = await waitFor(async () => (await groups()).find((g) => g.group === group));
    expect(entry).toEqual({ tenant: "default", group, members: [], topics: [{ topic, pending: 1 }] });
  });
});
