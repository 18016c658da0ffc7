import { waitFor } from "@soorma/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import type { BrokerMessage, InboxConsumer } from "../../src/broker/adapter.js";
import { createMemoryAdapter } from "../../src/broker/memory.js";
import { FrameClient } from "../gateway/frame-client.js";
import { randomName, startGateway, type TestGateway, testEvent } from "../gateway/harness.js";
import { bearer, captureLogs, makeApiKeys, wrapAdapter } from "../security/support.js";

/**
 * Defence in depth: even if an adapter's namespacing were broken and an inbox handed out another tenant's
 * event, the gateway checks the event's platform tenant right before writing a delivery and drops it.
 */
describe("delivery tenant check", () => {
  let gateway: TestGateway | undefined;
  const clients: FrameClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await gateway?.close();
    gateway = undefined;
  });

  it("delivery check - an event of another tenant coming out of a tenant's inbox is dropped, never delivered, and logged", async () => {
    const memory = createMemoryAdapter();
    // Fault injection: the real memory adapter, except that events marked "leak" come out of the inbox
    // claiming to belong to tenant globex, as a namespacing bug in an adapter would hand them out.
    const leaky = wrapAdapter(memory, {
      async openInbox(key, options): Promise<InboxConsumer> {
        const consumer = await memory.openInbox(key, options);
        const relabel = (message: BrokerMessage): BrokerMessage =>
          (message.envelope.data as { leak?: boolean } | null)?.leak === true
            ? {
                envelope: { ...message.envelope, platform_tenant_id: "globex" },
                attempt: message.attempt,
                ack: () => message.ack(),
                nack: (delayMs) => message.nack(delayMs),
                touch: () => message.touch(),
              }
            : message;
        return {
          key: consumer.key,
          pull: async (max, pullOptions) => (await consumer.pull(max, pullOptions)).map(relabel),
          close: () => consumer.close(),
        };
      },
    });
    const { keys, inline } = makeApiKeys([{ id: "acme", tenant: "acme" }]);
    const logs = captureLogs("error");
    gateway = await startGateway({ auth: { apiKeys: inline } }, leaky, logs.logger);
    const group = randomName("g");
    const topic = randomName("t");
    const { client } = await FrameClient.open(
      gateway.wsUrl,
      { agent_name: group },
      { headers: bearer(keys.acme!) },
    );
    clients.push(client);
    await client.subscribe(topic);

    const leaked = await client.publish(testEvent(topic, "x.y", { data: { leak: true } }));
    const fine = await client.publish(testEvent(topic, "x.y", { data: { leak: false } }));
    const delivery = await client.next("delivery");
    expect(delivery.event.id).toBe(fine.event_id);
    client.send({ type: "ack", delivery_id: delivery.delivery_id });

    // Both events left the inbox (the leaked one was dropped), so nothing more can arrive.
    await waitFor(async () => {
      const [inbox] = await memory.listInboxes("acme");
      return inbox?.pending === 0;
    });
    expect(
      client.received.filter((f) => f.type === "delivery").map((f) => "event" in f && f.event.id),
    ).toEqual([fine.event_id]);
    expect(logs.lines).toEqual([
      expect.objectContaining({
        msg: "an inbox held an event of another platform tenant; dropped without delivery",
        eventId: leaked.event_id,
        eventTenant: "globex",
        tenant: "acme",
      }),
    ]);
  });
});
