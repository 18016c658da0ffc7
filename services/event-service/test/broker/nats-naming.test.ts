import { createEnvelope } from "@soorma/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDeliveryInfo } from "../../src/broker/nats/delivery-info.js";
import { durableName, inboxDescription, parseInboxDescription } from "../../src/broker/nats/naming.js";
import { eventSubject, parseEventSubject, topicFilterSubject } from "../../src/broker/nats/subjects.js";

const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
const topic = fc.stringMatching(/^[a-z][a-z0-9]{0,20}(?:-[a-z0-9]{1,10}){0,3}$/);
const key = fc.record({ tenant: token, group: token, topic });

describe("nats subject scheme and names", () => {
  it("subjects - <prefix>.<tenant>.<topic>.<type words>, parsed back to the same parts", () => {
    const event = createEnvelope({
      source: "s",
      type: "heavy.task.requested",
      topic: "action-requests",
      platform_tenant_id: "acme",
    });
    expect(eventSubject("soorma", event)).toBe("soorma.acme.action-requests.heavy.task.requested");
    expect(topicFilterSubject("soorma", "acme", "action-requests")).toBe("soorma.acme.action-requests.>");
    expect(parseEventSubject("soorma", "soorma.acme.action-requests.heavy.task.requested")).toEqual({
      tenant: "acme",
      topic: "action-requests",
      type: "heavy.task.requested",
    });
    expect(parseEventSubject("a.b", "a.b.t.topic.x")).toEqual({ tenant: "t", topic: "topic", type: "x" });
    expect(parseEventSubject("soorma", "soorma.acme.orders")).toBeUndefined();
    expect(parseEventSubject("soorma", "other.acme.orders.x")).toBeUndefined();
  });

  it("naming - durable names are deterministic, token-safe, at most 97 characters and distinct per key", () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        const name = durableName(a);
        expect(name).toBe(durableName({ ...a }));
        expect(name.length).toBeLessThanOrEqual(97);
        expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
        const same = a.tenant === b.tenant && a.group === b.group && a.topic === b.topic;
        expect(durableName(b) === name).toBe(same);
      }),
    );
    // Joined with "_" these two keys read the same; the hash keeps them apart.
    expect(durableName({ tenant: "a_b", group: "c", topic: "t" })).not.toBe(
      durableName({ tenant: "a", group: "b_c", topic: "t" }),
    );
  });

  it("naming - the description keeps the exact key; foreign consumers are not inboxes", () => {
    fc.assert(
      fc.property(key, (k) => {
        expect(parseInboxDescription(inboxDescription(k))).toEqual(k);
      }),
    );
    expect(parseInboxDescription(undefined)).toBeUndefined();
    expect(parseInboxDescription("audit tap")).toBeUndefined();
    expect(parseInboxDescription('soorma-inbox {"tenant":1}')).toBeUndefined();
  });

  it("delivery info - both ack subject forms give stream, consumer, delivery count, sequence and time", () => {
    expect(parseDeliveryInfo("$JS.ACK.S.C.3.42.7.1796414911492485725.0")).toEqual({
      stream: "S",
      consumer: "C",
      deliveryCount: 3,
      streamSequence: 42,
      storedAtMs: 1796414911492,
    });
    expect(parseDeliveryInfo("$JS.ACK.hub.ACCHASH.S.C.1.5.5.1796414911492485725.0.rand")).toMatchObject({
      stream: "S",
      consumer: "C",
      deliveryCount: 1,
      streamSequence: 5,
    });
    expect(parseDeliveryInfo("_INBOX.abc")).toBeUndefined();
    expect(parseDeliveryInfo(undefined)).toBeUndefined();
    expect(parseDeliveryInfo("$JS.ACK.S.C.x.1.1.1.0")).toBeUndefined();
  });
});
