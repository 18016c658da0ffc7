import { type ClientFrameInput, encodeFrame, PROTOCOL_VERSION } from "@soorma/common";
import fc from "fast-check";

/** One of every client frame type, valid, as a starting point for mutations. */
export const VALID_FRAMES: readonly ClientFrameInput[] = [
  {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    agent_id: "fuzz-agent",
    agent_name: "fuzz-group",
    prefetch: 4,
  },
  { type: "subscribe", req_id: "s1", topic: "business-facts", event_types: ["*"] },
  { type: "unsubscribe", req_id: "u1", topic: "business-facts" },
  {
    type: "publish",
    req_id: "p1",
    event: {
      source: "fuzz",
      type: "fuzz.happened",
      topic: "business-facts",
      data: { n: 1, nested: [1, "two", null] },
      platform_tenant_id: "forged",
    },
  },
  { type: "ack", delivery_id: "d1" },
  { type: "nack", delivery_id: "d2", delay_ms: 10, error: { message: "boom" } },
  { type: "in_progress", delivery_id: "d3" },
];

const FIELD_NAMES = [
  "type",
  "req_id",
  "topic",
  "event",
  "agent_id",
  "agent_name",
  "prefetch",
  "auth",
  "protocol",
  "delivery_id",
  "delay_ms",
  "error",
  "event_types",
  "id",
  "source",
  "data",
  "response_topic",
  "platform_tenant_id",
  "__proto__",
  "constructor",
];

/** A valid frame with a few fields replaced by arbitrary JSON or removed, at the top level or in the event. */
const mutatedObject = fc
  .tuple(
    fc.constantFrom(...VALID_FRAMES),
    fc.array(
      fc.tuple(fc.boolean(), fc.constantFrom(...FIELD_NAMES), fc.option(fc.jsonValue({ maxDepth: 3 }))),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([frame, edits]) => {
    const copy = structuredClone(frame) as Record<string, unknown>;
    for (const [inEvent, field, value] of edits) {
      const target =
        inEvent && typeof copy.event === "object" && copy.event !== null
          ? (copy.event as Record<string, unknown>)
          : copy;
      if (value === null) delete target[field];
      // defineProperty so that "__proto__" becomes an own key and reaches the JSON text.
      else
        Object.defineProperty(target, field, { value, enumerable: true, configurable: true, writable: true });
    }
    return JSON.stringify(copy);
  });

/** A valid frame's text cut, spliced or overwritten at a random position. */
const mutatedText = fc
  .tuple(
    fc.constantFrom(...VALID_FRAMES.map((frame) => encodeFrame(frame))),
    fc.nat(),
    fc.string({ unit: "binary", maxLength: 8 }),
    fc.constantFrom("truncate", "insert", "overwrite"),
  )
  .map(([text, at, chunk, how]) => {
    const i = at % (text.length + 1);
    if (how === "truncate") return text.slice(0, i);
    if (how === "insert") return text.slice(0, i) + chunk + text.slice(i);
    return text.slice(0, i) + chunk + text.slice(i + chunk.length);
  });

/** What a fuzzing client sends in one WebSocket message. */
export type FuzzMessage = { readonly text: string } | { readonly binary: Uint8Array };

/**
 * Random and hostile WebSocket messages: arbitrary text, arbitrary JSON, mutated valid frames (objects and
 * text), frames larger than a 4 KiB message limit, and binary garbage.
 */
export const fuzzMessage: fc.Arbitrary<FuzzMessage> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }).map((text) => ({ text })),
  fc.jsonValue({ maxDepth: 4 }).map((value) => ({ text: JSON.stringify(value) ?? "null" })),
  { arbitrary: mutatedObject.map((text) => ({ text })), weight: 4 },
  { arbitrary: mutatedText.map((text) => ({ text })), weight: 2 },
  fc.integer({ min: 4_097, max: 12_000 }).map((size) => ({
    text: JSON.stringify({ type: "publish", req_id: "big", event: { data: { blob: "x".repeat(size) } } }),
  })),
  fc.uint8Array({ maxLength: 200 }).map((binary) => ({ binary })),
);
