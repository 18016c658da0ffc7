import { EventTopic, type TopicName } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { Agent } from "../src/agent/agent.js";
import { HandlerRegistry } from "../src/agent/handler-registry.js";
import { Worker } from "../src/agent/worker.js";
import { createConsoleLogger } from "../src/logger.js";

const noop = (): void => {};
const silent = createConsoleLogger("silent");

class AgentProbe extends Agent {
  get topicForUntagged(): TopicName {
    return this.defaultTopic;
  }
}
class WorkerProbe extends Worker {
  get topicForUntagged(): TopicName {
    return this.defaultTopic;
  }
}

describe("handler registry", () => {
  it("topic defaults - Agent handlers default to business-facts, Worker handlers to action-requests", () => {
    expect(new AgentProbe({ name: "a", logger: silent }).topicForUntagged).toBe(EventTopic.BUSINESS_FACTS);
    expect(new WorkerProbe({ name: "w", logger: silent }).topicForUntagged).toBe(EventTopic.ACTION_REQUESTS);
  });

  it("event types - a topic subscribes with its registered types, or * when a wildcard handler exists", () => {
    const registry = new HandlerRegistry("action-requests");
    registry.add("a.requested", undefined, noop);
    registry.add("b.requested", undefined, noop);
    registry.add("order.placed", "business-facts", noop);
    registry.add("*", "system-events", noop);
    registry.add("ping", "system-events", noop);
    expect(registry.topics()).toEqual(["action-requests", "business-facts", "system-events"]);
    expect(registry.eventTypesFor("action-requests")).toEqual(["a.requested", "b.requested"]);
    expect(registry.eventTypesFor("business-facts")).toEqual(["order.placed"]);
    expect(registry.eventTypesFor("system-events")).toBe("*");
  });

  it("lookup - the exact handler wins over the topic wildcard; other topics find nothing", () => {
    const exact = (): string => "exact";
    const wildcard = (): string => "wildcard";
    const registry = new HandlerRegistry("business-facts");
    registry.add("order.placed", undefined, exact);
    registry.add("*", undefined, wildcard);
    expect(registry.lookup("business-facts", "order.placed")).toBe(exact);
    expect(registry.lookup("business-facts", "order.cancelled")).toBe(wildcard);
    expect(registry.lookup("action-requests", "order.placed")).toBeUndefined();
  });

  it("mistakes - duplicates, bad names and late registrations are refused with stable codes", () => {
    const registry = new HandlerRegistry("business-facts");
    registry.add("order.placed", undefined, noop);
    expect(() => registry.add("order.placed", "business-facts", noop)).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => registry.add("bad type", undefined, noop)).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => registry.add("ok", "Bad.Topic", noop)).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_TOPIC_INVALID" }),
    );
    registry.lock();
    expect(() => registry.add("later", undefined, noop)).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
  });

  it("onEvent - both call forms register and chain", () => {
    const agent = new AgentProbe({ name: "chain", logger: silent });
    expect(agent.onEvent("a.b", noop).onEvent("c.d", { topic: "plan-events" }, noop)).toBe(agent);
    expect(() => agent.onEvent("a.b", noop)).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
  });

  it("names - an agent name breaking the rule is SOORMA_ERR_AGENT_NAME_INVALID", () => {
    expect(() => new Agent({ name: "has.dot", logger: silent })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_AGENT_NAME_INVALID" }),
    );
  });
});
