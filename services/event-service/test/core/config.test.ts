import { ConfigError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { loadConfig, resolveConfig } from "../../src/config.js";

describe("configuration", () => {
  it("defaults - an empty environment gives the documented defaults", () => {
    expect(loadConfig({}, [])).toMatchObject({
      host: "127.0.0.1",
      port: 8082,
      broker: "sqlite",
      dataDir: "./.data",
      maxMessageBytes: 1_048_576,
      leaseMs: 30_000,
      maxAttempts: 5,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      drainTimeoutMs: 15_000,
      pingIntervalMs: 30_000,
      logLevel: "info",
      defaultTenant: "default",
    });
  });

  it("sources - SOORMA_* env is read and flags win over env", () => {
    const config = loadConfig(
      { SOORMA_PORT: "9100", SOORMA_BROKER: "memory", SOORMA_LEASE_MS: "5000", SOORMA_DATA_DIR: "" },
      ["--port", "9000", "--data-dir=/tmp/x", "--max-attempts", "2"],
    );
    expect(config).toMatchObject({
      port: 9000,
      broker: "memory",
      leaseMs: 5000,
      dataDir: "/tmp/x",
      maxAttempts: 2,
    });
  });

  it("port 0 - asks the kernel for a free port", () => {
    expect(loadConfig({}, ["--port", "0"]).port).toBe(0);
  });

  it("bad values - a ConfigError names the env var and flag of every bad setting", () => {
    let caught: unknown;
    try {
      loadConfig({ SOORMA_PORT: "eighty", SOORMA_BROKER: "kafka" }, []);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(error.message).toContain("SOORMA_PORT / --port");
    expect(error.message).toContain("SOORMA_BROKER / --broker");
  });

  it("bad flags - unknown flags, missing values and stray arguments are refused", () => {
    for (const argv of [["--prot", "1"], ["--port"], ["9000"], ["--port", "--broker", "memory"]]) {
      expect(() => loadConfig({}, argv)).toThrow(
        expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
      );
    }
  });

  it("consistency - retryMaxMs below retryBaseMs is refused", () => {
    expect(() => resolveConfig({ retryBaseMs: 5000, retryMaxMs: 100 })).toThrow(ConfigError);
  });

  it("programmatic - resolveConfig fills defaults without reading the environment", () => {
    const previous = process.env.SOORMA_PORT;
    process.env.SOORMA_PORT = "1234";
    try {
      expect(resolveConfig({ broker: "memory" })).toMatchObject({ broker: "memory", port: 8082 });
    } finally {
      if (previous === undefined) delete process.env.SOORMA_PORT;
      else process.env.SOORMA_PORT = previous;
    }
  });
});
