import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SoormaError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { LIMITS_ENV_VARS, loadLimitsConfig, parseLimitsConfig } from "../../src/limits/config.js";

const SECURITY_DOC = fileURLToPath(new URL("../../../../docs/security.md", import.meta.url));

function configError(fn: () => unknown): SoormaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("limits config", () => {
  it("limits config - defaults", () => {
    expect(loadLimitsConfig({})).toEqual({
      maxFramesPerSecond: 20_000,
      frameBurst: 40_000,
      rateLimitedFramesBeforeClose: 100,
      maxSubscriptionsPerConnection: 100,
      maxConnectionsPerTenant: 1000,
      maxPrefetch: 1000,
      maxPendingPublishesPerConnection: 256,
      maxBufferedBytesPerConnection: 8 * 1024 * 1024,
      slowConsumerGraceMs: 30_000,
      helloTimeoutMs: 10_000,
    });
  });

  it("limits config - every variable sets its field", () => {
    const env = Object.fromEntries(Object.keys(LIMITS_ENV_VARS).map((name, i) => [name, String(2000 + i)]));
    const config = loadLimitsConfig({ ...env, SOORMA_MAX_PREFETCH: "50" });
    for (const [name, field] of Object.entries(LIMITS_ENV_VARS)) {
      expect(config[field]).toBe(name === "SOORMA_MAX_PREFETCH" ? 50 : Number(env[name]));
    }
  });

  it.each([
    ["SOORMA_MAX_FRAMES_PER_SECOND", "fast", "SOORMA_MAX_FRAMES_PER_SECOND"],
    ["SOORMA_MAX_FRAMES_PER_SECOND", "0", "limits.maxFramesPerSecond"],
    ["SOORMA_MAX_PREFETCH", "5000", "limits.maxPrefetch"],
    ["SOORMA_MAX_CONNECTIONS_PER_TENANT", "1.5", "SOORMA_MAX_CONNECTIONS_PER_TENANT"],
  ])("limits config - %s=%s is a config error naming %s", (name, value, mention) => {
    const error = configError(() => loadLimitsConfig({ [name]: value }));
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(error.message).toContain(mention);
  });

  it("limits config - unknown fields are refused (typos must not silently keep a default)", () => {
    expect(configError(() => parseLimitsConfig({ maxFramesPerSec: 10 })).message).toContain(
      "maxFramesPerSec",
    );
  });

  it("limits config - docs/security.md documents every variable", () => {
    const doc = readFileSync(SECURITY_DOC, "utf8");
    expect(Object.keys(LIMITS_ENV_VARS).filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});
