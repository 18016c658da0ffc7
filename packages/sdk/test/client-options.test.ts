import { DEFAULT_PREFETCH } from "@soorma/common";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_BUFFERED_PUBLISHES,
  DEFAULT_MAX_IN_FLIGHT_PUBLISHES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  defaultAgentId,
  resolveClientOptions,
} from "../src/client/options.js";
import { SDK_CLIENT_NAME } from "../src/version.js";

describe("client options", () => {
  it("defaults - prefetch 16, 30 s request timeout, 10000 buffered publishes, 128 in flight", () => {
    const options = resolveClientOptions({ url: "ws://127.0.0.1:1" });
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(30_000);
    expect(DEFAULT_MAX_BUFFERED_PUBLISHES).toBe(10_000);
    // Below the gateway's default maxPendingPublishesPerConnection (256), so defaults never get refused.
    expect(DEFAULT_MAX_IN_FLIGHT_PUBLISHES).toBe(128);
    expect(options).toMatchObject({
      prefetch: DEFAULT_PREFETCH,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      maxBufferedPublishes: DEFAULT_MAX_BUFFERED_PUBLISHES,
      maxInFlightPublishes: DEFAULT_MAX_IN_FLIGHT_PUBLISHES,
      agentName: undefined,
    });
  });

  it("agent id - defaults to the name plus 8 random hex digits, or client-<hex> without a name", () => {
    expect(resolveClientOptions({ agentName: "billing" }).agentId).toMatch(/^billing-[0-9a-f]{8}$/);
    expect(resolveClientOptions({}).agentId).toMatch(/^client-[0-9a-f]{8}$/);
    expect(defaultAgentId("n".repeat(128))).toHaveLength(128);
    expect(resolveClientOptions({ agentId: "fixed-1" }).agentId).toBe("fixed-1");
  });

  it("validation - bad names and out-of-range numbers fail at construction", () => {
    expect(() => resolveClientOptions({ agentName: "a b" })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_AGENT_NAME_INVALID" }),
    );
    expect(() => resolveClientOptions({ agentId: "-lead" })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_AGENT_NAME_INVALID" }),
    );
    expect(() => resolveClientOptions({ prefetch: 0 })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => resolveClientOptions({ prefetch: 1001 })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => resolveClientOptions({ requestTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    for (const maxInFlightPublishes of [0, 1.5, Number.NaN]) {
      expect(() => resolveClientOptions({ maxInFlightPublishes })).toThrow(
        expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
      );
    }
  });

  it("client name - hello names the package and its version", () => {
    expect(SDK_CLIENT_NAME).toMatch(/^@soorma\/sdk\/\d+\.\d+\.\d+/);
  });
});
