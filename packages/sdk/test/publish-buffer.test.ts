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

  it("queue - publishes go out oldest first; a refused one goes back before every younger one", () => {
    const buffer = new PublishBuffer(10);
    for (const n of [1, 2, 3, 4, 5]) buffer.add(`p${n}`, event(`e${n}`));
    const sent = [buffer.next(), buffer.next(), buffer.next()].map((e) => e?.reqId);
    expect(sent).toEqual(["p1", "p2", "p3"]);
    expect(buffer.waitingCount).toBe(2);
    // Refusals may arrive in any order; the queue keeps the order the publishes were made in.
    buffer.requeue("p3");
    buffer.requeue("p1");
    expect(buffer.waitingCount).toBe(4);
    const rest: Array<string | undefined> = [];
    for (let entry = buffer.next(); entry !== undefined; entry = buffer.next()) rest.push(entry.reqId);
    expect(rest).toEqual(["p1", "p3", "p4", "p5"]);
    expect(buffer.size).toBe(5);
  });

  it("queue - a publish given up while waiting is skipped; requeue of an unknown or waiting one is ignored", () => {
    const buffer = new PublishBuffer(10);
    for (const n of [1, 2, 3]) buffer.add(`p${n}`, event(`e${n}`));
    expect(buffer.remove("p2")).toBe(true);
    buffer.requeue("p2");
    buffer.requeue("p3");
    expect(buffer.waitingCount).toBe(2);
    expect([buffer.next()?.reqId, buffer.next()?.reqId, buffer.next()]).toEqual(["p1", "p3", undefined]);
    expect(buffer.waitingCount).toBe(0);
  });

  it("resend - after requeueAll every unconfirmed publish, sent or not, waits again oldest first", () => {
    const buffer = new PublishBuffer(10);
    for (const n of [1, 2, 3]) buffer.add(`p${n}`, event(`e${n}`));
    buffer.next();
    buffer.next();
    expect(buffer.waitingCount).toBe(1);
    buffer.requeueAll();
    expect(buffer.waitingCount).toBe(3);
    const ids = [buffer.next(), buffer.next(), buffer.next()].map((e) => e?.event.id);
    expect(ids).toEqual(["e1", "e2", "e3"]);
  });

  it("queue - thousands of sends and refusals keep the order and count right", () => {
    const buffer = new PublishBuffer(5000);
    for (let n = 0; n < 5000; n++) buffer.add(`p${n}`, event(`e${n}`));
    const stored: number[] = [];
    // Send 32 at a time; the gateway takes the first 8 of each burst and refuses the rest.
    while (buffer.waitingCount > 0) {
      const burst: string[] = [];
      while (burst.length < 32) {
        const entry = buffer.next();
        if (entry === undefined) break;
        burst.push(entry.reqId);
      }
      for (const reqId of burst.slice(0, 8)) {
        stored.push(Number(reqId.slice(1)));
        buffer.remove(reqId);
      }
      for (const reqId of burst.slice(8).reverse()) buffer.requeue(reqId);
    }
    expect(buffer.size).toBe(0);
    expect(stored).toEqual(Array.from({ length: 5000 }, (_, n) => n));
  });
});
