import { describe, expect, it } from "vitest";
import {
  DEFAULT_PREFETCH,
  decodeClientFrame,
  decodeServerFrame,
  encodeFrame,
  PROTOCOL_VERSION,
} from "../src/protocol.js";

function codeOf(text: string): string | undefined {
  const result = decodeClientFrame(text);
  return result.ok ? undefined : result.error.code;
}

describe("decodeClientFrame", () => {
  it("decodes hello with the default prefetch", () => {
    const result = decodeClientFrame(
      encodeFrame({ type: "hello", protocol: PROTOCOL_VERSION, agent_id: "a-1" }),
    );
    expect(result.ok && result.frame.type === "hello" && result.frame.prefetch).toBe(DEFAULT_PREFETCH);
  });

  it("decodes publish and fills the envelope defaults", () => {
    const result = decodeClientFrame(
      JSON.stringify({
        type: "publish",
        req_id: "r1",
        event: { source: "s", type: "a.b", topic: "business-facts" },
      }),
    );
    if (!result.ok || result.frame.type !== "publish") throw new Error("expected a publish frame");
    expect(result.frame.event.specversion).toBe("1.0");
    expect(result.frame.event.id.length).toBeGreaterThan(0);
  });

  it("subscribe defaults to every event type", () => {
    const result = decodeClientFrame(
      JSON.stringify({ type: "subscribe", req_id: "r", topic: "system-events" }),
    );
    expect(result.ok && result.frame.type === "subscribe" && result.frame.event_types).toEqual(["*"]);
  });

  it("answers each kind of bad input with its own stable code", () => {
    expect(codeOf("{nope")).toBe("SOORMA_ERR_BAD_JSON");
    expect(codeOf("[1,2]")).toBe("SOORMA_ERR_FRAME_INVALID");
    expect(codeOf(JSON.stringify({ type: "teleport" }))).toBe("SOORMA_ERR_FRAME_UNKNOWN_TYPE");
    expect(codeOf(JSON.stringify({ type: "ack" }))).toBe("SOORMA_ERR_FRAME_INVALID");
    expect(codeOf(JSON.stringify({ type: "subscribe", req_id: "r", topic: "Bad Topic" }))).toBe(
      "SOORMA_ERR_TOPIC_INVALID",
    );
    expect(
      codeOf(
        JSON.stringify({ type: "publish", req_id: "r", event: { source: "s", topic: "business-facts" } }),
      ),
    ).toBe("SOORMA_ERR_ENVELOPE_INVALID");
    expect(
      codeOf(
        JSON.stringify({ type: "publish", req_id: "r", event: { source: "s", type: "a", topic: "NOPE" } }),
      ),
    ).toBe("SOORMA_ERR_TOPIC_INVALID");
    expect(codeOf(JSON.stringify({ type: "hello", protocol: 1, agent_id: "has.dot" }))).toBe(
      "SOORMA_ERR_AGENT_NAME_INVALID",
    );
  });

  it("keeps the req_id of a rejected frame so the answer can be matched", () => {
    const result = decodeClientFrame(JSON.stringify({ type: "subscribe", req_id: "r-42", topic: "BAD" }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reqId).toBe("r-42");
  });

  it("does not accept server frames from a client, nor client frames from a server", () => {
    expect(codeOf(JSON.stringify({ type: "welcome" }))).toBe("SOORMA_ERR_FRAME_UNKNOWN_TYPE");
    const result = decodeServerFrame(JSON.stringify({ type: "ack", delivery_id: "d" }));
    expect(!result.ok && result.error.code).toBe("SOORMA_ERR_FRAME_UNKNOWN_TYPE");
  });
});
