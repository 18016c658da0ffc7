import { BrokerUnavailableError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { createMemoryAdapter } from "../../src/broker/memory.js";
import { describeLocalAdapter, eventFor, randomKey } from "./local-adapter-cases.js";

describeLocalAdapter("memory", async (options) => {
  const adapter = createMemoryAdapter(options);
  await adapter.connect();
  return [adapter, () => adapter.close()];
});

describe("memory adapter specifics", () => {
  it("capabilities - not durable, single replica", () => {
    expect(createMemoryAdapter().capabilities).toEqual({
      durable: false,
      multiReplica: false,
      survivesBrokerRestart: false,
      durableDedupe: false,
    });
  });

  it("before connect - status is connecting and publish is refused", async () => {
    const adapter = createMemoryAdapter();
    try {
      expect(adapter.status()).toEqual({ state: "connecting" });
      await expect(adapter.publish(eventFor(randomKey()))).rejects.toBeInstanceOf(BrokerUnavailableError);
    } finally {
      await adapter.close();
    }
  });

  it("isolation - a consumer's copy of an envelope is its own object", async () => {
    const adapter = createMemoryAdapter();
    await adapter.connect();
    try {
      const key = randomKey();
      const other = { ...key, group: `${key.group}-b` };
      const consumers = [
        await adapter.openInbox(key, { leaseMs: 30_000, maxInFlight: 1 }),
        await adapter.openInbox(other, { leaseMs: 30_000, maxInFlight: 1 }),
      ];
      const event = eventFor(key);
      await adapter.publish(event);
      event.source = "changed-after-publish";
      const [a] = (await consumers[0]?.pull(1, { waitMs: 1_000 })) ?? [];
      const [b] = (await consumers[1]?.pull(1, { waitMs: 1_000 })) ?? [];
      expect(a?.envelope.source).toBe("adapter-test");
      expect(a?.envelope).not.toBe(b?.envelope);
    } finally {
      await adapter.close();
    }
  });
});
