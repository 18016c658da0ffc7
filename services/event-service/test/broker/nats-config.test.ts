import { ConfigError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { createAdapter } from "../../src/broker/factory.js";
import { createNatsJetStreamAdapter } from "../../src/broker/nats-jetstream.js";
import { loadConfig } from "../../src/config.js";

describe("nats configuration", () => {
  it("config - defaults: local server, stream SOORMA_EVENTS, prefix soorma, interest retention, 7 days, 1 GiB", () => {
    expect(loadConfig({}, []).nats).toEqual({
      url: "nats://127.0.0.1:4222",
      stream: "SOORMA_EVENTS",
      subjectPrefix: "soorma",
      retention: "interest",
      storage: "file",
      maxAgeMs: 604_800_000,
      maxBytes: 1_073_741_824,
      duplicateWindowMs: 120_000,
      replicas: 1,
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 5_000,
      reconnectWaitMs: 1_000,
    });
  });

  it("config - SOORMA_NATS_* variables and --nats-* flags fill the section, flags winning", () => {
    const config = loadConfig(
      {
        SOORMA_BROKER: "nats",
        SOORMA_NATS_URL: "nats://a:4222,nats://b:4222",
        SOORMA_NATS_STREAM: "EVENTS",
        SOORMA_NATS_STREAM_MAX_AGE: "3600000",
        SOORMA_NATS_STREAM_MAX_BYTES: "-1",
        SOORMA_NATS_RETENTION: "limits",
        SOORMA_NATS_TOKEN: "s3cret",
      },
      ["--nats-stream", "OTHER", "--nats-subject-prefix=acme.soorma", "--nats-replicas", "3"],
    );
    expect(config.broker).toBe("nats");
    expect(config.nats).toMatchObject({
      url: "nats://a:4222,nats://b:4222",
      stream: "OTHER",
      subjectPrefix: "acme.soorma",
      maxAgeMs: 3_600_000,
      maxBytes: -1,
      retention: "limits",
      replicas: 3,
      token: "s3cret",
    });
  });

  it("config - bad values name their variable: stream name, prefix with a wildcard, window beyond max age", () => {
    expect(() => loadConfig({ SOORMA_NATS_STREAM: "a.b" }, [])).toThrow(/SOORMA_NATS_STREAM/);
    expect(() => loadConfig({ SOORMA_NATS_SUBJECT_PREFIX: "soorma.>" }, [])).toThrow(ConfigError);
    expect(() => loadConfig({ SOORMA_NATS_RETENTION: "workqueue" }, [])).toThrow(/SOORMA_NATS_RETENTION/);
    expect(() =>
      loadConfig({ SOORMA_NATS_STREAM_MAX_AGE: "60000", SOORMA_NATS_DUPLICATE_WINDOW_MS: "120000" }, []),
    ).toThrow(/SOORMA_NATS_DUPLICATE_WINDOW_MS/);
  });

  it("factory - broker nats builds the NATS adapter (not connected yet) with the configured storage", () => {
    const adapter = createAdapter(loadConfig({ SOORMA_BROKER: "nats", SOORMA_NATS_STORAGE: "memory" }, []));
    expect(adapter.kind).toBe("nats");
    expect(adapter.status()).toEqual({ state: "connecting" });
    expect(adapter.capabilities).toEqual({
      durable: true,
      multiReplica: true,
      survivesBrokerRestart: false,
      durableDedupe: true,
    });
  });

  it("adapter options - invalid names are refused before connecting", () => {
    expect(() => createNatsJetStreamAdapter({ subjectPrefix: "a..b" })).toThrow(ConfigError);
    expect(() => createNatsJetStreamAdapter({ stream: "has space" })).toThrow(ConfigError);
    expect(() => createNatsJetStreamAdapter({ servers: " , " })).toThrow(ConfigError);
    expect(() => createNatsJetStreamAdapter({ maxAgeMs: 1_000, duplicateWindowMs: 2_000 })).toThrow(
      ConfigError,
    );
  });
});
