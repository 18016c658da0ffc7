import { createEnvelope } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { PublishBuffer } from "../src/client/publish-buffer.js";

const event = (id: string) => createEnvelope({ id, source: "s", type: "t.x", topic: "business-facts" });

describe("publish buffer", () => {
  it("limit - the publish beyond maxBufferedPublishes is a LimitError SOORMA_ERR_LIMIT_EXCEEDED", () => {
    const buffer = new PublishBuffer(2);
    buffer.add("p1", event("e1"));
    buffer.add("p2", event("e2"));
    expect(() => buffer.add("p3", event("e3"))).toThrow(
      expect.objectContaining({ name: "LimitError", code: "SOORMA_ERR_LIMIT_EXCEEDED" }),
    );
    expect(buffer.size).toBe(2);
  });

  it("limit - confirming one frees room for the next", () => {
    const buffer = new PublishBuffer(1);
    buffer.add("p1", event("e1"));
    expect(buffer.remove("p1")).toBe(true);
    expect(buffer.remove("p1")).toBe(false);
    expect(() => buffer.add("p2", event("e2"))).not.toThrow();
  });

  it("resend - a new connection gets every unconfirmed publish, sent or not, oldest first", () => {
    const buffer = new PublishBuffer(10);
    const first = buffer.add("p1", event("e1"));
    const second = buffer.add("p2", event("e2"));
    buffer.add("p3", event("e3"));
    first.sentOn = 1;
    second.sentOn = 1;
    expect(buffer.unsentOn(1).map((e) => e.reqId)).toEqual(["p3"]);
    expect(buffer.unsentOn(2).map((e) => e.reqId)).toEqual(["p1", "p2", "p3"]);
    expect(buffer.unsentOn(2).map((e) => e.event.id)).toEqual(["e1", "e2", "e3"]);
  });
});
