/**
 * Pattern 3 — load balancing. Run this file in three terminals: the instances share the `heavy.task.requested`
 * events, each handled by one of them.
 */
import { Worker } from "@soorma/sdk";
import { expensiveComputation } from "../lib/placeholders.js";

const worker = new Worker({ name: "heavy-task-worker" }); // same name for every instance

worker.onEvent("heavy.task.requested", { topic: "action-requests" }, async (event, ctx) => {
  console.log(`Instance ${worker.id} processing task: ${JSON.stringify(event.data)}`);
  const result = await expensiveComputation(event.data);

  await ctx.bus.respond({
    event_type: "heavy.task.completed",
    data: { result },
    correlation_id: event.correlation_id,
  });
});

await worker.run();
