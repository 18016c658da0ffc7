import { randomUUID } from "node:crypto";
import { type EventEnvelope, EventTopic } from "@soorma/sdk";
import { deferred, withDeadline } from "@soorma/test-utils";
import { describe, expect, it } from "vitest";
import type { ConformanceContext } from "../context.js";
import { uniqueEventType, uniqueName } from "../names.js";
import { Recorder } from "../recorder.js";

/** Section 1: a request published through the SDK is handled by a Worker whose response reaches the requester. */
export function roundTripSection(ctx: ConformanceContext): void {
  describe("1. round trip", () => {
    it("round trip - a Worker handles a request and its respond() reaches the requester", async () => {
      const requestType = uniqueEventType("requested");
      const responseType = uniqueEventType("completed");
      const correlationId = randomUUID();
      const traceId = randomUUID();

      const worker = ctx.worker({ name: uniqueName("rt-worker") });
      worker.onEvent(requestType, async (event, handling) => {
        await handling.bus.respond({ data: { doubled: Number(event.data?.n) * 2 } });
      });
      const response = deferred<EventEnvelope>();
      const requester = ctx.agent({ name: uniqueName("rt-requester") });
      requester.onEvent(responseType, { topic: EventTopic.ACTION_RESULTS }, (event) => {
        if (event.correlation_id === correlationId) response.resolve(event);
      });
      await Promise.all([worker.start(), requester.start()]);

      const published = await requester.publish({
        event_type: requestType,
        topic: EventTopic.ACTION_REQUESTS,
        data: { n: 21 },
        response_event: responseType,
        correlation_id: correlationId,
        trace_id: traceId,
      });
      expect(published.duplicate).toBe(false);

      const answer = await withDeadline(response.promise, ctx.ms(10_000), "response to the requester");
      expect(answer.type).toBe(responseType);
      expect(answer.topic).toBe(EventTopic.ACTION_RESULTS);
      expect(answer.data).toEqual({ doubled: 42 });
      expect(answer.correlation_id).toBe(correlationId);
      expect(answer.trace_id).toBe(traceId);
      expect(answer.parent_event_id).toBe(published.event_id);
    });

    it("round trip - an event published over HTTP reaches a WebSocket subscriber intact", async () => {
      const topic = uniqueName("rt-http");
      const type = uniqueEventType();
      const recorder = new Recorder();
      const agent = ctx.agent({ name: uniqueName("rt-http-agent") });
      agent.onEvent(type, { topic }, (event, handling) =>
        recorder.record(agent.id, event, handling.delivery),
      );
      await agent.start();

      const id = randomUUID();
      const response = await fetch(`${ctx.gateway.httpUrl}/v1/events/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          event: { id, source: "conformance", type, topic, data: { greeting: "hello" }, subject: "s-1" },
        }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ success: true, event_id: id, duplicate: false });

      await recorder.waitForIds([id], ctx.ms(10_000), "HTTP-published event");
      const [handled] = recorder.of(id);
      expect(handled?.event).toMatchObject({
        id,
        source: "conformance",
        type,
        topic,
        data: { greeting: "hello" },
        subject: "s-1",
        specversion: "1.0",
      });
      expect(handled?.attempt).toBe(1);
    });
  });
}
