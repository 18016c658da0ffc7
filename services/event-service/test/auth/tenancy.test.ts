import { EventEnvelopeSchema } from "@soorma/common";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/auth/principal.js";
import { belongsToTenant, stampPlatformTenant } from "../../src/auth/tenancy.js";

const caller: Principal = {
  tenant: "tenant-a",
  subject: "k1",
  role: "agent",
  agentNames: "*",
  publishTopics: "*",
  subscribeTopics: "*",
  credential: "api-key",
};

describe("platform tenant stamping", () => {
  it("stamp - a forged platform_tenant_id is replaced by the caller's tenant; tenant_id and user_id pass through", () => {
    const event = EventEnvelopeSchema.parse({
      source: "agent",
      type: "order.placed",
      topic: "business-facts",
      platform_tenant_id: "tenant-b",
      tenant_id: "customer-42",
      user_id: "user-7",
    });
    const stamped = stampPlatformTenant(event, caller);
    expect(stamped.platform_tenant_id).toBe("tenant-a");
    expect(stamped.tenant_id).toBe("customer-42");
    expect(stamped.user_id).toBe("user-7");
    expect(event.platform_tenant_id).toBe("tenant-b");
  });

  it("stamp - an absent or null platform_tenant_id is filled in", () => {
    for (const platform_tenant_id of [undefined, null]) {
      const event = EventEnvelopeSchema.parse({
        source: "a",
        type: "x",
        topic: "business-facts",
        platform_tenant_id,
      });
      expect(stampPlatformTenant(event, caller).platform_tenant_id).toBe("tenant-a");
    }
  });

  it("belongsToTenant - only an event stamped with exactly that tenant may be delivered", () => {
    expect(belongsToTenant({ platform_tenant_id: "tenant-a" }, "tenant-a")).toBe(true);
    expect(belongsToTenant({ platform_tenant_id: "tenant-b" }, "tenant-a")).toBe(false);
    expect(belongsToTenant({ platform_tenant_id: null }, "tenant-a")).toBe(false);
    expect(belongsToTenant({}, "tenant-a")).toBe(false);
  });
});
