import {
  type ClientFrameInput,
  ClientFrameSchema,
  type DecodeResult,
  decodeClientFrame,
  encodeFrame,
  PROTOCOL_VERSION,
  SoormaError,
} from "@soorma/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FRAME_FIELD_NAMES, mutatedFrameText, mutatedObjectFrame } from "../support/frame-mutations.js";

/** The codes `decodeClientFrame` documents; anything else reaching a client would be a bug. */
const DECODE_ERROR_CODES = new Set([
  "SOORMA_ERR_BAD_JSON",
  "SOORMA_ERR_FRAME_UNKNOWN_TYPE",
  "SOORMA_ERR_FRAME_INVALID",
  "SOORMA_ERR_ENVELOPE_INVALID",
  "SOORMA_ERR_TOPIC_INVALID",
  "SOORMA_ERR_AGENT_NAME_INVALID",
]);

const VALID_FRAMES: ClientFrameInput[] = [
  { type: "hello", protocol: PROTOCOL_VERSION, agent_id: "worker-1" },
  {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    agent_id: "worker-1",
    agent_name: "billing",
    prefetch: 32,
    auth: { token: "a.b.c" },
    client: "@soorma/sdk/0.1.0",
  },
  { type: "subscribe", req_id: "r1", topic: "action-requests", event_types: ["order.placed", "*"] },
  { type: "unsubscribe", req_id: "r2", topic: "business-facts" },
  {
    type: "publish",
    req_id: "r3",
    event: {
      id: "evt-1",
      source: "billing",
      type: "invoice.created",
      topic: "business-facts",
      data: { amount: 12, nested: { list: [1, "two", null] } },
      platform_tenant_id: "forged",
      tenant_id: "customer-1",
      response_topic: "action-results",
    },
  },
  { type: "ack", delivery_id: "d1" },
  { type: "nack", delivery_id: "d2", delay_ms: 500, error: { message: "boom", code: "E_X" } },
  { type: "in_progress", delivery_id: "d3" },
];
const VALID_TEXTS = VALID_FRAMES.map((frame) => encodeFrame(frame));

/**
 * Decode and check the result is one of the two typed outcomes. A throw fails the property, and fast-check
 * then shrinks the input to a minimal counterexample.
 */
function checkTyped(text: string): DecodeResult<unknown> {
  const outcome = decodeClientFrame(text);
  if (outcome.ok) {
    expect(ClientFrameSchema.safeParse(outcome.frame).success).toBe(true);
  } else {
    expect(outcome.error).toBeInstanceOf(SoormaError);
    expect(DECODE_ERROR_CODES.has(outcome.error.code)).toBe(true);
    expect(typeof outcome.error.message).toBe("string");
    expect(outcome.reqId === undefined || typeof outcome.reqId === "string").toBe(true);
  }
  return outcome;
}

/** A valid frame with a few fields set to arbitrary JSON or removed, at the top level or in the envelope. */
const mutatedObject = mutatedObjectFrame(VALID_FRAMES);

/** A valid frame's text cut, spliced or overwritten at a random position. */
const mutatedText = mutatedFrameText(VALID_TEXTS);

describe("decodeClientFrame under random and hostile input", () => {
  it("fuzz - every valid frame decodes (the properties below would be vacuous otherwise)", () => {
    for (const text of VALID_TEXTS) expect(checkTyped(text).ok).toBe(true);
  });

  it("fuzz - arbitrary strings never throw and yield a typed result with a known code", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 2000 }), (text) => void checkTyped(text)),
      {
        numRuns: 1000,
      },
    );
  });

  it("fuzz - arbitrary JSON values never throw and yield a typed result", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => void checkTyped(text)),
      { numRuns: 1000 },
    );
  });

  it("fuzz - frames with a known type and random fields never throw", () => {
    const frame = fc.record({
      type: fc.constantFrom("hello", "subscribe", "unsubscribe", "publish", "ack", "nack", "in_progress"),
      req_id: fc.option(fc.jsonValue({ maxDepth: 1 })),
      topic: fc.option(fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 }))),
      event: fc.option(fc.dictionary(fc.constantFrom(...FRAME_FIELD_NAMES), fc.jsonValue({ maxDepth: 2 }))),
      agent_id: fc.option(fc.string()),
      protocol: fc.option(fc.oneof(fc.integer(), fc.double(), fc.string())),
      delivery_id: fc.option(fc.string({ maxLength: 200 })),
    });
    fc.assert(
      fc.property(frame, (value) => void checkTyped(JSON.stringify(value))),
      { numRuns: 1000 },
    );
  });

  it("fuzz - mutated valid frames never throw; failures carry a documented code", () => {
    const seen = new Set<string>();
    const record = (text: string) => {
      const outcome = checkTyped(text);
      seen.add(outcome.ok ? "ok" : outcome.error.code);
    };
    fc.assert(fc.property(mutatedObject, record), { numRuns: 1000 });
    fc.assert(fc.property(mutatedText, record), { numRuns: 1000 });
    // The mutations reach past JSON parsing into every layer of validation, not just one error path.
    expect(seen).toEqual(
      new Set([
        "ok",
        "SOORMA_ERR_BAD_JSON",
        "SOORMA_ERR_FRAME_UNKNOWN_TYPE",
        "SOORMA_ERR_FRAME_INVALID",
        "SOORMA_ERR_ENVELOPE_INVALID",
        "SOORMA_ERR_TOPIC_INVALID",
        "SOORMA_ERR_AGENT_NAME_INVALID",
      ]),
    );
  });

  it("fuzz - a failing frame's req_id is echoed only when it is a string", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 2 }), (reqId) => {
        const outcome = checkTyped(
          JSON.stringify({ type: "subscribe", req_id: reqId, topic: "Not A Topic" }),
        );
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(outcome.reqId).toBe(typeof reqId === "string" ? reqId : undefined);
      }),
      { numRuns: 500 },
    );
  });

  it("fuzz - __proto__ and constructor keys do not pollute prototypes", () => {
    const hostile = [
      '{"type":"hello","protocol":1,"agent_id":"a","__proto__":{"polluted":true}}',
      '{"type":"publish","req_id":"r","event":{"source":"s","type":"t","topic":"business-facts","__proto__":{"polluted":true},"data":{"__proto__":{"polluted":true}}}}',
      '{"__proto__":{"type":"hello"},"constructor":{"prototype":{"polluted":true}}}',
    ];
    for (const text of hostile) checkTyped(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("fuzz - deeply nested and oversized inputs are answered, not crashed on", () => {
    const deep = `{"type":"publish","req_id":"r","event":{"source":"s","type":"t","topic":"business-facts","data":{"x":${"[".repeat(50_000)}${"]".repeat(50_000)}}}}`;
    checkTyped(deep);
    checkTyped(`{"type":"hello","protocol":1,"agent_id":"${"a".repeat(1_000_000)}"}`);
    checkTyped("[".repeat(200_000));
  });
});
