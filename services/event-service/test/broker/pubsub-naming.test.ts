import { ConfigError } from "@soorma/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createGooglePubSubAdapter, createPubSubAdapterFromConfig } from "../../src/broker/google-pubsub.js";
import {
  assertValidPrefix,
  inboxResourcePaths,
  PUBSUB_ID_MAX_LENGTH,
  parseSubscriptionResourceId,
  parseTopicResourceId,
  subscriptionResourceId,
  topicResourceId,
  undeliverableResourceId,
} from "../../src/broker/pubsub/naming.js";
import { PublishDedupe } from "../../src/broker/pubsub/publish-dedupe.js";
import { resolveConfig } from "../../src/config.js";

/** Pub/Sub's rule for topic and subscription ids. */
const PUBSUB_ID = /^(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

const tenantArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const topicArb = fc
  .stringMatching(/^[a-z][a-z0-9]{0,20}(?:-[a-z0-9]{1,20}){0,2}$/)
  .filter((t) => t.length <= 64);
const groupArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/);

describe("pubsub naming", () => {
  it("ids - every tenant, topic and group gives valid Pub/Sub ids that parse back unless hashed", () => {
    fc.assert(
      fc.property(tenantArb, topicArb, groupArb, (tenant, topic, group) => {
        const key = { tenant, topic, group };
        const subscription = subscriptionResourceId("soorma", key);
        const topicId = topicResourceId("soorma", tenant, topic);
        for (const id of [subscription, topicId, undeliverableResourceId("soorma", tenant)]) {
          expect(id).toMatch(PUBSUB_ID);
        }
        expect(parseTopicResourceId("soorma", topicId)).toEqual({ tenant, topic });
        const parsed = parseSubscriptionResourceId("soorma", subscription);
        if (subscription.includes("~")) expect(parsed).toBeUndefined();
        else expect(parsed).toEqual(key);
      }),
      { numRuns: 300 },
    );
  });

  it("long names - an id over 255 characters is cut, ends in a hash and stays distinct per group", () => {
    const base = { tenant: "t".repeat(64), topic: `p${"q".repeat(63)}` };
    const a = subscriptionResourceId("soorma", { ...base, group: `${"g".repeat(127)}a` });
    const b = subscriptionResourceId("soorma", { ...base, group: `${"g".repeat(127)}b` });
    expect(a).toHaveLength(PUBSUB_ID_MAX_LENGTH);
    expect(a).toMatch(/~[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(subscriptionResourceId("soorma", { ...base, group: `${"g".repeat(127)}a` })).toBe(a);
  });

  it("undeliverable backstop - its id never parses as an inbox or a Soorma topic", () => {
    const id = undeliverableResourceId("soorma", "acme");
    expect(id).toBe("soorma.acme._undeliverable");
    expect(parseTopicResourceId("soorma", id)).toBeUndefined();
    expect(parseSubscriptionResourceId("soorma", id)).toBeUndefined();
  });

  it("resource paths - name the project, the topic, the inbox subscription and the dead-letter topic", () => {
    expect(
      inboxResourcePaths("proj", "soorma", { tenant: "acme", topic: "action-requests", group: "worker" }),
    ).toEqual({
      topic: "projects/proj/topics/soorma.acme.action-requests",
      subscription: "projects/proj/subscriptions/soorma.acme.action-requests.worker",
      undeliverableTopic: "projects/proj/topics/soorma.acme._undeliverable",
    });
  });

  it("prefix - reserved, dotted, empty or over-long prefixes are refused with ConfigError", () => {
    for (const bad of ["goog", "Google", "", "1abc", "a.b", "x".repeat(33), "a b"]) {
      expect(() => assertValidPrefix(bad), bad).toThrow(ConfigError);
    }
    expect(() => assertValidPrefix("soorma-staging_2")).not.toThrow();
  });
});

describe("pubsub publish dedupe", () => {
  it("dedupe - concurrent publishes of one id store once; a failed first one lets the retry store", async () => {
    const dedupe = new PublishDedupe({ windowMs: 60_000, maxEntries: 10 });
    let stored = 0;
    const store = async () => {
      stored++;
    };
    const results = await Promise.all([dedupe.publishOnce("a", store), dedupe.publishOnce("a", store)]);
    expect(results.sort()).toEqual([false, true]);
    expect(stored).toBe(1);
    await expect(dedupe.publishOnce("b", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await dedupe.publishOnce("b", store)).toBe(false);
    expect(stored).toBe(2);
  });

  it("dedupe - ids are forgotten after the window and beyond the size bound", async () => {
    const store = async () => {};
    const expiring = new PublishDedupe({ windowMs: 0, maxEntries: 10 });
    await expiring.publishOnce("a", store);
    expect(await expiring.publishOnce("a", store)).toBe(false);
    const bounded = new PublishDedupe({ windowMs: 60_000, maxEntries: 2 });
    for (const id of ["a", "b", "c"]) await bounded.publishOnce(id, store);
    expect(bounded.size).toBe(2);
    expect(await bounded.publishOnce("a", store)).toBe(false);
    expect(await bounded.publishOnce("c", store)).toBe(true);
  });
});

describe("pubsub configuration", () => {
  it("project id - required outside an emulator", () => {
    expect(() => createGooglePubSubAdapter({ apiEndpoint: "pubsub.googleapis.com:443" })).toThrow(
      ConfigError,
    );
    const adapter = createGooglePubSubAdapter({ apiEndpoint: "127.0.0.1:1" });
    expect(adapter.projectId).toBe("soorma-local");
    expect(adapter.usesEmulator).toBe(true);
    expect(adapter.capabilities.survivesBrokerRestart).toBe(false);
  });

  it("gateway config - maps the pubsub section and refuses leases and attempts Pub/Sub cannot honour", () => {
    const base = { broker: "pubsub" as const, pubsub: { projectId: "proj" } };
    const adapter = createPubSubAdapterFromConfig(resolveConfig(base as never));
    expect(adapter.kind).toBe("pubsub");
    expect(adapter.projectId).toBe("proj");
    expect(() =>
      createPubSubAdapterFromConfig(resolveConfig({ ...base, leaseMs: 700_000 } as never)),
    ).toThrow(ConfigError);
    expect(() =>
      createPubSubAdapterFromConfig(
        resolveConfig({
          ...base,
          maxAttempts: 10,
          pubsub: { projectId: "proj", maxDeliveryAttempts: 10 },
        } as never),
      ),
    ).toThrow(ConfigError);
    expect(() => createGooglePubSubAdapter({ apiEndpoint: "127.0.0.1:1", ackDeadlineSeconds: 5 })).toThrow(
      ConfigError,
    );
  });
});
