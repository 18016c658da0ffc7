/** Pattern 2 — broadcast: the analytics agent tracks metrics on the same `order.placed` events as the logger. */
import { Agent, EventTopic } from "@soorma/sdk";
import { updateDashboard } from "../lib/placeholders.js";

const analyticsAgent = new Agent({ name: "analytics" });

analyticsAgent.onEvent("order.placed", { topic: EventTopic.BUSINESS_FACTS }, async (event) => {
  console.log("[ANALYTICS] Updating metrics for order");
  await updateDashboard(event.data);
});

await analyticsAgent.run();
