import type { EventEnvelope } from "@soorma/common";
import type { CallOptions, PublishOptions, PublishResult } from "../client/publish-options.js";
import type { Logger } from "../logger.js";
import { propagatedPublishOptions, type RespondOptions, responsePublishOptions } from "./propagation.js";

/** Publishing from inside a handler, with the handled event's context carried over. */
export interface ContextBus {
  /** Publish; trace_id, tenant_id, user_id, session_id default to the handled event's, parent_event_id = its id. */
  publish(options: PublishOptions, call?: CallOptions): Promise<PublishResult>;
  /**
   * Answer the handled event: topic = event.response_topic ?? "action-results"; event_type defaults to
   * event.response_event (rejects with a `SOORMA_ERR_ENVELOPE_INVALID` ValidationError if neither is given);
   * correlation_id, tenant_id, user_id, session_id, goal_id, plan_id, trace_id copied; parent_event_id = event.id.
   * Every field may be overridden.
   */
  respond(options: RespondOptions, call?: CallOptions): Promise<PublishResult>;
}

/** Second argument of every handler. */
export interface EventContext {
  bus: ContextBus;
  /** Aborted when the connection the delivery came on is lost (it is redelivered elsewhere) or on a forced stop. */
  signal: AbortSignal;
  /** Logger whose records name this event. */
  log: Logger;
  delivery: { id: string; attempt: number; maxAttempts: number; topic: string };
  agent: { name: string; id: string };
}

/** What {@link createEventContext} needs. */
export interface EventContextParams {
  event: EventEnvelope;
  delivery: EventContext["delivery"];
  agent: EventContext["agent"];
  signal: AbortSignal;
  log: Logger;
  /** The agent's publish (no propagation of its own). */
  publish(options: PublishOptions, call?: CallOptions): Promise<PublishResult>;
}

/** Build the context handed to a handler of `event`. */
export function createEventContext(params: EventContextParams): EventContext {
  const { event, publish } = params;
  return {
    bus: {
      publish: async (options, call) => publish(propagatedPublishOptions(event, options), call),
      respond: async (options, call) => publish(responsePublishOptions(event, options), call),
    },
    signal: params.signal,
    log: params.log,
    delivery: params.delivery,
    agent: params.agent,
  };
}
