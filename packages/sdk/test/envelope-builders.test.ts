import { createEnvelope, type EventEnvelope } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { propagatedPublishOptions, responsePublishOptions } from "../src/agent/propagation.js";
import { buildEnvelope } from "../src/client/publish-options.js";

function requestEvent(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return createEnvelope({
    id: "req-1",
    source: "planner",
    type: "research.requested",
    topic: "action-requests",
    data: { q: "why" },
    correlation_id: "corr-1",
    tenant_id: "tenant-a",
    user_id: "user-a",
    session_id: "session-a",
    goal_id: "goal-a",
    plan_id: "plan-a",
    trace_id: "trace-a",
    response_event: "research.completed",
    ...overrides,
  });
}

describe("publish envelope", () => {
  it("defaults - id is a fresh UUID, source the given default, correlation and time filled", () => {
    const event = buildEnvelope({ event_type: "order.placed", topic: "business-facts" }, "shop");
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.source).toBe("shop");
    expect(event.type).toBe("order.placed");
    expect(event.specversion).toBe("1.0");
    expect(event.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    const other = buildEnvelope({ event_type: "order.placed", topic: "business-facts" }, "shop");
    expect(other.id).not.toBe(event.id);
  });

  it("fields - snake_case options map one to one onto the envelope, event_type onto type", () => {
    const event = buildEnvelope(
      {
        id: "e-1",
        event_type: "order.placed",
        topic: "business-facts",
        source: "custom",
        data: { n: 1 },
        tenant_id: "t",
        user_id: null,
        response_topic: "my-results",
        payload_schema_name: "Order",
      },
      "shop",
    );
    expect(event).toMatchObject({
      id: "e-1",
      type: "order.placed",
      source: "custom",
      data: { n: 1 },
      tenant_id: "t",
      user_id: null,
      response_topic: "my-results",
      payload_schema_name: "Order",
    });
  });

  it("validation - a bad topic is SOORMA_ERR_TOPIC_INVALID, a bad type SOORMA_ERR_ENVELOPE_INVALID", () => {
    expect(() => buildEnvelope({ event_type: "ok", topic: "Not_A_Topic" }, "s")).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "SOORMA_ERR_TOPIC_INVALID" }),
    );
    expect(() => buildEnvelope({ event_type: "ok", topic: "t", response_topic: "BAD" }, "s")).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_TOPIC_INVALID" }),
    );
    expect(() => buildEnvelope({ event_type: "bad type!", topic: "business-facts" }, "s")).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "SOORMA_ERR_ENVELOPE_INVALID" }),
    );
  });
});

describe("ctx.bus.publish propagation", () => {
  it("defaults - trace, tenant, user and session come from the handled event; parent is its id", () => {
    const options = propagatedPublishOptions(requestEvent(), {
      event_type: "step.done",
      topic: "task-events",
    });
    expect(options).toMatchObject({
      event_type: "step.done",
      topic: "task-events",
      trace_id: "trace-a",
      tenant_id: "tenant-a",
      user_id: "user-a",
      session_id: "session-a",
      parent_event_id: "req-1",
    });
    // Only the documented fields propagate; correlation, goal and plan stay the publisher's choice.
    expect(options.correlation_id).toBeUndefined();
    expect(options.goal_id).toBeUndefined();
    const envelope = buildEnvelope(options, "agent");
    expect(envelope.correlation_id).not.toBe("corr-1");
  });

  it("overrides - explicit values, including null, win; undefined keeps the default", () => {
    const options = propagatedPublishOptions(requestEvent(), {
      event_type: "step.done",
      topic: "task-events",
      tenant_id: "tenant-b",
      user_id: null,
      trace_id: undefined,
      parent_event_id: "other",
    });
    expect(options).toMatchObject({
      tenant_id: "tenant-b",
      user_id: null,
      trace_id: "trace-a",
      parent_event_id: "other",
    });
  });
});

describe("ctx.bus.respond defaults", () => {
  it("defaults - action-results, response_event, correlation and context copied, parent = request id", () => {
    const options = responsePublishOptions(requestEvent(), { data: { answer: 42 } });
    expect(options).toEqual({
      event_type: "research.completed",
      topic: "action-results",
      data: { answer: 42 },
      correlation_id: "corr-1",
      tenant_id: "tenant-a",
      user_id: "user-a",
      session_id: "session-a",
      goal_id: "goal-a",
      plan_id: "plan-a",
      trace_id: "trace-a",
      parent_event_id: "req-1",
    });
  });

  it("topic - the request's response_topic is where the answer goes", () => {
    const options = responsePublishOptions(requestEvent({ response_topic: "planner-inbox" }), {});
    expect(options.topic).toBe("planner-inbox");
  });

  it("overrides - every field may be overridden by the caller", () => {
    const options = responsePublishOptions(requestEvent({ response_topic: "planner-inbox" }), {
      event_type: "research.partial",
      topic: "task-events",
      correlation_id: "corr-2",
      tenant_id: null,
      parent_event_id: "p",
    });
    expect(options).toMatchObject({
      event_type: "research.partial",
      topic: "task-events",
      correlation_id: "corr-2",
      tenant_id: null,
      parent_event_id: "p",
      user_id: "user-a",
    });
  });

  it("event type - neither option nor response_event is a SOORMA_ERR_ENVELOPE_INVALID ValidationError", () => {
    const event = requestEvent({ response_event: null });
    expect(() => responsePublishOptions(event, { data: {} })).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "SOORMA_ERR_ENVELOPE_INVALID" }),
    );
    expect(responsePublishOptions(event, { event_type: "x.done" }).event_type).toBe("x.done");
  });
});
