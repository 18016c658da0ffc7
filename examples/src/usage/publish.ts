/**
 * Publish events from the command line:
 *   node dist/usage/publish.js <event_type> <topic> [count] [json-data]
 * e.g. node dist/usage/publish.js order.placed business-facts 3 '{"amount": 10}'
 * Each event gets `seq` in its data; the command exits after every publish is confirmed.
 */
import { EventBusClient } from "@soorma/sdk";

const [eventType, topic, countText = "1", dataText = "{}"] = process.argv.slice(2);
if (eventType === undefined || topic === undefined) {
  console.error("usage: publish <event_type> <topic> [count] [json-data]");
  process.exit(2);
}

const bus = new EventBusClient({ agentName: "example-publisher" });
await bus.connect({ timeout: 10_000 });
const base = JSON.parse(dataText) as Record<string, unknown>;
for (let seq = 1; seq <= Number(countText); seq += 1) {
  const { event_id } = await bus.publish({
    event_type: eventType,
    topic,
    data: { ...base, seq, order_id: `o-${seq}` },
  });
  console.log(`published ${eventType} #${seq} on ${topic}: ${event_id}`);
}
await bus.close();
