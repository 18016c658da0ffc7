import { type ClientFrameInput, encodeFrame, PROTOCOL_VERSION } from "@soorma/common";
import fc from "fast-check";
import { mutatedFrameText, mutatedObjectFrame } from "../support/frame-mutations.js";

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

/** A valid frame with a few fields replaced by arbitrary JSON or removed, at the top level or in the event. */
const mutatedObject = mutatedObjectFrame(VALID_FRAMES);

/** A valid frame's text cut, spliced or overwritten at a random position. */
const mutatedText = mutatedFrameText(VALID_FRAMES.map((frame) => encodeFrame(frame)));

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
