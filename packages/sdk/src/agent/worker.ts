import { EventTopic, type TopicName } from "@soorma/common";
import { Agent } from "./agent.js";

/**
 * An {@link Agent} that serves requests: handlers registered without a topic listen on `action-requests`, and
 * `ctx.bus.respond()` answers on the requester's `response_topic` (default `action-results`). Run several
 * instances with one name to share the work.
 *
 * @example
 * const worker = new Worker({ name: "heavy-task-worker" });
 * worker.onEvent("heavy.task.requested", async (event, ctx) => {
 *   await ctx.bus.respond({ event_type: "heavy.task.completed", data: { result: 42 } });
 * });
 * await worker.run();
 */
export class Worker extends Agent {
  /** Topic of handlers registered without one: `action-requests` for a Worker. */
  protected override get defaultTopic(): TopicName {
    return EventTopic.ACTION_REQUESTS;
  }
}
