/**
 * Pattern 1 — store-and-forward. Start it, stop it, publish `task.requested` events while it is down
 * (`node dist/usage/publish.js task.requested action-requests 5`), start it again: it receives every one of them.
 */
import { EventTopic, Worker } from "@soorma/sdk";

const worker = new Worker({ name: "task-processor" });

worker.onEvent("task.requested", { topic: EventTopic.ACTION_REQUESTS }, async (event, ctx) => {
  // Also receives events published while this worker was offline.
  const data = event.data ?? {};
  console.log(`Processing task: ${JSON.stringify(data)}`);

  await ctx.bus.publish({
    event_type: "task.completed",
    topic: EventTopic.ACTION_RESULTS,
    data: { status: "success" },
    correlation_id: event.correlation_id,
    tenant_id: event.tenant_id,
    user_id: event.user_id,
  });
});

await worker.run();
