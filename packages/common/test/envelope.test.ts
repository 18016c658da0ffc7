import { describe, expect, it } from "vitest";
import { createEnvelope, EventEnvelopeSchema } from "../src/envelope.js";

describe("EventEnvelope", () => {
  it("fills id, specversion, time and correlation_id defaults", () => {
    const event = createEnvelope({ source: "test", type: "order.placed", topic: "business-facts" });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.specversion).toBe("1.0");
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    expect(event.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.correlation_id).not.toBe(event.id);
  });

  it("keeps caller-supplied defaults and every snake_case field", () => {
    const input = {
      id: "evt-1",
      source: "planner",
      type: "task.requested",
      time: "2026-01-01T00:00:00.123456",
      data: { n: 1 },
      correlation_id: "corr-1",
      topic: "action-requests",
      subject: "s",
      tenant_id: "t",
      user_id: "u",
      platform_tenant_id: "p",
      session_id: "sess",
      goal_id: "g",
      plan_id: "plan",
      response_event: "task.completed",
      response_topic: "action-results",
      response_schema_name: "R",
      trace_id: "trace",
      parent_event_id: "parent",
      payload_schema_name: "P",
    };
    expect(EventEnvelopeSchema.parse(input)).toEqual({ ...input, specversion: "1.0" });
  });

  it("accepts null optional fields as the Python SDK sends them", () => {
    const event = createEnvelope({
      source: "py",
      type: "x.y",
      topic: "system-events",
      data: null,
      tenant_id: null,
      trace_id: null,
    });
    expect(event.data).toBeNull();
    expect(event.tenant_id).toBeNull();
  });

  it("rejects a missing type, a bad event type and a bad topic", () => {
    expect(EventEnvelopeSchema.safeParse({ source: "s", topic: "business-facts" }).success).toBe(false);
    expect(
      EventEnvelopeSchema.safeParse({ source: "s", type: "a..b", topic: "business-facts" }).success,
    ).toBe(false);
    expect(EventEnvelopeSchema.safeParse({ source: "s", type: "a.*", topic: "business-facts" }).success).toBe(
      false,
    );
    expect(EventEnvelopeSchema.safeParse({ source: "s", type: "a.b", topic: "Business.Facts" }).success).toBe(
      false,
    );
  });

  it("rejects data that is not an object", () => {
    expect(
      EventEnvelopeSchema.safeParse({ source: "s", type: "a", topic: "business-facts", data: [1] }).success,
    ).toBe(false);
  });
});
