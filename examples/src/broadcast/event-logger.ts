/**
 * Pattern 2 — broadcast. The audit logger gets every `order.placed` event; so does `analytics.ts`, because it
 * runs under another name.
 */
import { Agent, EventTopic } from "@soorma/sdk";
import { logToAuditTrail } from "../lib/placeholders.js";

const loggerAgent = new Agent({ name: "event-logger" });

loggerAgent.onEvent("order.placed", { topic: EventTopic.BUSINESS_FACTS }, async (event) => {
  console.log(`[AUDIT LOG] Order placed: ${JSON.stringify(event.data)}`);
  await logToAuditTrail(event);
});

await loggerAgent.run();
