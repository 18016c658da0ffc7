import { SoormaError } from "@soorma/common";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  adminTenantScope,
  assertCanPublish,
  assertCanSubscribe,
  assertCanUseAgentName,
  canAdmin,
  canPublish,
  canSubscribe,
  canUseAgentName,
} from "../../src/auth/authorize.js";
import { AllowListSchema, matchesAllowList, type Principal } from "../../src/auth/principal.js";

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    tenant: "acme",
    subject: "test",
    role: "agent",
    agentNames: "*",
    publishTopics: "*",
    subscribeTopics: "*",
    credential: "api-key",
    ...overrides,
  };
}

function forbiddenBy(fn: () => unknown): SoormaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected SOORMA_ERR_FORBIDDEN, nothing was thrown");
}

describe("allow-lists", () => {
  it.each([
    ["*", "anything", true],
    [["*"], "anything", true],
    [[], "anything", false],
    [["action-requests"], "action-requests", true],
    [["action-requests"], "action-requests-2", false],
    [["action-requests"], "action", false],
    [["team-a-*"], "team-a-orders", true],
    [["team-a-*"], "team-a-", true],
    [["team-a-*"], "team-a", false],
    [["team-a-*"], "team-b-orders", false],
    [["team-a-*", "audit"], "audit", true],
  ] as const)("matchesAllowList(%j, %s) is %s", (list, value, expected) => {
    expect(matchesAllowList(list, value)).toBe(expected);
  });

  it("allow-lists - a prefix pattern allows exactly the names starting with its prefix (property)", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
    fc.assert(
      fc.property(name, name, (prefix, candidate) => {
        expect(matchesAllowList([`${prefix}*`], candidate)).toBe(candidate.startsWith(prefix));
        expect(matchesAllowList([prefix], candidate)).toBe(candidate === prefix);
      }),
    );
  });

  it.each(["a*b", "**", "*a", "", " x", "team a", "x/y", "a.b"])(
    "AllowListSchema refuses entry %j",
    (entry) => {
      expect(AllowListSchema.safeParse([entry]).success).toBe(false);
    },
  );

  it("AllowListSchema - accepts '*', exact names and trailing-* prefixes", () => {
    expect(AllowListSchema.parse("*")).toBe("*");
    expect(AllowListSchema.parse(["*", "orders", "team-a-*", "Agent_1"])).toEqual([
      "*",
      "orders",
      "team-a-*",
      "Agent_1",
    ]);
  });
});

describe("topic and agent ACLs", () => {
  const limited = principal({
    agentNames: ["billing-*"],
    publishTopics: ["action-results", "team-a-*"],
    subscribeTopics: ["action-requests"],
  });

  it("ACL - publish and subscribe lists are independent", () => {
    expect(canPublish(limited, "action-results")).toBe(true);
    expect(canSubscribe(limited, "action-results")).toBe(false);
    expect(canSubscribe(limited, "action-requests")).toBe(true);
    expect(canPublish(limited, "action-requests")).toBe(false);
    expect(canPublish(limited, "team-a-orders")).toBe(true);
  });

  it("ACL - assertions throw SOORMA_ERR_FORBIDDEN naming the topic or agent", () => {
    const publish = forbiddenBy(() => assertCanPublish(limited, "billing-events"));
    expect(publish.code).toBe("SOORMA_ERR_FORBIDDEN");
    expect(publish.statusCode).toBe(403);
    expect(publish.details).toEqual({ topic: "billing-events" });
    expect(forbiddenBy(() => assertCanSubscribe(limited, "business-facts")).details).toEqual({
      topic: "business-facts",
    });
    expect(forbiddenBy(() => assertCanUseAgentName(limited, "audit")).details).toEqual({
      agent_name: "audit",
    });
    expect(() => assertCanPublish(limited, "action-results")).not.toThrow();
    expect(() => assertCanUseAgentName(limited, "billing-worker")).not.toThrow();
  });

  it("ACL - a key limited to billing-* cannot join another agent's consumer group", () => {
    expect(canUseAgentName(limited, "billing-worker")).toBe(true);
    expect(canUseAgentName(limited, "audit-agent")).toBe(false);
    expect(canUseAgentName(principal(), "audit-agent")).toBe(true);
  });
});

describe("admin API access", () => {
  const agent = principal();
  const admin = principal({ role: "admin" });
  const platform = principal({ role: "platform-admin" });

  it("admin - agents have no admin access; admins only their tenant; platform admins every tenant", () => {
    expect(canAdmin(agent)).toBe(false);
    expect(canAdmin(agent, "acme")).toBe(false);
    expect(canAdmin(admin)).toBe(true);
    expect(canAdmin(admin, "acme")).toBe(true);
    expect(canAdmin(admin, "globex")).toBe(false);
    expect(canAdmin(platform, "globex")).toBe(true);
  });

  it("admin - adminTenantScope pins admins to their own tenant and lets platform admins choose or see all", () => {
    expect(adminTenantScope(admin)).toBe("acme");
    expect(adminTenantScope(admin, "acme")).toBe("acme");
    expect(adminTenantScope(platform)).toBeUndefined();
    expect(adminTenantScope(platform, "globex")).toBe("globex");
    expect(forbiddenBy(() => adminTenantScope(admin, "globex")).code).toBe("SOORMA_ERR_FORBIDDEN");
    expect(forbiddenBy(() => adminTenantScope(agent)).message).toContain("admin role");
  });
});
