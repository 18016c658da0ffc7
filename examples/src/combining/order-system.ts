/**
 * Combining patterns: a load-balanced order processor (run it several times) next to two broadcast consumers.
 * In production each agent is its own process; here all three start in one for convenience.
 */
import { Agent, Worker } from "@soorma/sdk";
import { logToAuditTrail, updateDashboard, validateAndProcessOrder } from "../lib/placeholders.js";

// Load-balanced: only ONE instance of order-processor handles each order.
const orderProcessor = new Worker({ name: "order-processor" });
orderProcessor.onEvent("order.placed", { topic: "business-facts" }, async (event) => {
  console.log(`Processing order: ${String(event.data?.order_id)}`);
  await validateAndProcessOrder(event.data);
});

// Broadcast: a different name is a different group, so analytics sees every order.
const analyticsAgent = new Agent({ name: "analytics-1" });
analyticsAgent.onEvent("order.placed", { topic: "business-facts" }, async (event) => {
  await updateDashboard(event.data);
});

// Broadcast: the audit logger sees every order too.
const auditAgent = new Agent({ name: "audit-logger" });
auditAgent.onEvent("order.placed", { topic: "business-facts" }, async (event) => {
  await logToAuditTrail(event.data);
});

await Promise.all([orderProcessor.start(), analyticsAgent.start(), auditAgent.start()]);
console.log("order-processor, analytics-1 and audit-logger are running; Ctrl+C to stop");

const stopAll = async () => {
  await Promise.all([orderProcessor.stop(), analyticsAgent.stop(), auditAgent.stop()]);
  process.exit(0);
};
process.once("SIGINT", stopAll);
process.once("SIGTERM", stopAll);
