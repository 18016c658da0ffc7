/**
 * The guide's "Usage" snippets: subscribing a bus to topics directly. Two clients with different agent names each
 * get every `system-events` event (broadcast); run this twice with the same name to see them share (load
 * balancing):  node dist/usage/bus-subscribe.js <agent-name>
 */
import { EventBusClient } from "@soorma/sdk";

const agentName = process.argv[2] ?? "observer-a";
const bus = new EventBusClient({ agentName });
await bus.connect();

// Queue behaviour is built in: events kept while this group was offline arrive right after subscribing.
await bus.subscribe("system-events", "*", (delivery) => {
  console.log(
    `[${agentName}] ${delivery.event.type} ${JSON.stringify(delivery.event.data)} (attempt ${delivery.attempt})`,
  );
  delivery.ack();
});
console.log(`${agentName} subscribed to system-events; Ctrl+C to stop`);

process.once("SIGINT", () => void bus.close().then(() => process.exit(0)));
