import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SoormaError } from "@soorma/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_KEY_MIN_LENGTH,
  createApiKeyStore,
  GENERATED_API_KEY_PREFIX,
  generateApiKey,
  hashApiKey,
  loadApiKeys,
  parseApiKeys,
} from "../../src/auth/api-keys.js";

const SCRIPT = fileURLToPath(new URL("../../scripts/hash-api-key.mjs", import.meta.url));

/** Run the hash script with `args`, optionally feeding `stdin`; resolves with its exit code and output. */
function runScript(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [SCRIPT, ...args],
      { timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

function keyFile(keys: unknown[]): string {
  return JSON.stringify({ keys });
}

function errorOf(fn: () => unknown): SoormaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a SoormaError, nothing was thrown");
}

describe("hashApiKey", () => {
  it("hashApiKey - sha256 prefix with 64 hex digits, the same for the same key", () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).not.toBe(hashApiKey(generateApiKey()));
  });

  it("hashApiKey - refuses keys shorter than the minimum with SOORMA_ERR_CONFIG_INVALID", () => {
    const error = errorOf(() => hashApiKey("x".repeat(API_KEY_MIN_LENGTH - 1)));
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(hashApiKey("x".repeat(API_KEY_MIN_LENGTH))).toMatch(/^sha256:/);
  });

  it("generateApiKey - prefixed, 256-bit, never repeats", () => {
    const keys = new Set(Array.from({ length: 100 }, () => generateApiKey()));
    expect(keys.size).toBe(100);
    for (const key of keys) {
      expect(key.startsWith(GENERATED_API_KEY_PREFIX)).toBe(true);
      expect(key).toMatch(/^soorma_[A-Za-z0-9_-]{43}$/);
    }
  });
});

describe("api key store", () => {
  const agentKey = generateApiKey();
  const adminKey = generateApiKey();
  const entries = parseApiKeys(
    keyFile([
      {
        id: "billing",
        hash: hashApiKey(agentKey),
        tenant: "acme",
        agent_names: ["billing-*"],
        publish_topics: ["action-results"],
        subscribe_topics: ["action-requests"],
      },
      {
        id: "ops",
        hash: hashApiKey(adminKey).toUpperCase().replace("SHA256:", "sha256:"),
        tenant: "acme",
        role: "admin",
      },
    ]),
    "test",
  );

  it("api key store - a configured key yields its tenant, role and allow-lists", () => {
    const store = createApiKeyStore(entries);
    expect(store.size).toBe(2);
    expect(store.authenticate(agentKey)).toEqual({
      tenant: "acme",
      subject: "billing",
      role: "agent",
      agentNames: ["billing-*"],
      publishTopics: ["action-results"],
      subscribeTopics: ["action-requests"],
      credential: "api-key",
    });
    // Upper-case hex in the file is accepted: hashes are compared as bytes.
    expect(store.authenticate(adminKey)).toMatchObject({ subject: "ops", role: "admin", publishTopics: "*" });
  });

  it("api key store - unknown, empty, oversized and near-miss keys are refused without echoing them", () => {
    const store = createApiKeyStore(entries);
    const nearMiss = `${agentKey.slice(0, -1)}${agentKey.endsWith("A") ? "B" : "A"}`;
    for (const key of [generateApiKey(), "", "x".repeat(5000), nearMiss, ` ${agentKey}`]) {
      const error = errorOf(() => store.authenticate(key));
      expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
      expect(error.details).toEqual({ reason: "invalid" });
      if (key.length > 0) expect(error.message).not.toContain(key.trim());
    }
  });

  it("api key store - a key past its expires_at is refused with reason expired", () => {
    const key = generateApiKey();
    const expiring = parseApiKeys(
      keyFile([{ id: "temp", hash: hashApiKey(key), tenant: "acme", expires_at: "2030-01-01T00:00:00Z" }]),
      "test",
    );
    const before = createApiKeyStore(expiring, { now: () => Date.parse("2029-12-31T23:59:59Z") });
    expect(before.authenticate(key).expiresAt).toBe(Date.parse("2030-01-01T00:00:00Z"));
    const after = createApiKeyStore(expiring, { now: () => Date.parse("2030-01-01T00:00:00Z") });
    const error = errorOf(() => after.authenticate(key));
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
    expect(error.details).toEqual({ reason: "expired" });
  });

  it("api key store - two entries with one id or one hash are a config error", () => {
    const key = generateApiKey();
    const sameId = parseApiKeys(
      keyFile([
        { id: "a", hash: hashApiKey(key), tenant: "t1" },
        { id: "a", hash: hashApiKey(generateApiKey()), tenant: "t2" },
      ]),
      "test",
    );
    expect(errorOf(() => createApiKeyStore(sameId)).code).toBe("SOORMA_ERR_CONFIG_INVALID");
    const sameHash = parseApiKeys(
      keyFile([
        { id: "a", hash: hashApiKey(key), tenant: "t1" },
        { id: "b", hash: hashApiKey(key), tenant: "t2" },
      ]),
      "test",
    );
    expect(errorOf(() => createApiKeyStore(sameHash)).message).toContain("same hash");
  });
});

describe("key file parsing", () => {
  const hash = hashApiKey(generateApiKey());

  it("parseApiKeys - fills role agent and '*' allow-lists by default", () => {
    const [entry] = parseApiKeys(keyFile([{ id: "a", hash, tenant: "t1" }]), "test");
    expect(entry).toEqual({
      id: "a",
      hash,
      tenant: "t1",
      role: "agent",
      agent_names: "*",
      publish_topics: "*",
      subscribe_topics: "*",
    });
  });

  it.each([
    ["plain key instead of hash", [{ id: "a", key: "soorma_secret_value_12345", tenant: "t" }], "plain"],
    ["unknown field (typo)", [{ id: "a", hash, tenant: "t", publish_topic: ["x"] }], "publish_topic"],
    ["bad hash", [{ id: "a", hash: "md5:abc", tenant: "t" }], "hash"],
    ["tenant with a dot", [{ id: "a", hash, tenant: "a.b" }], "tenant"],
    ["unknown role", [{ id: "a", hash, tenant: "t", role: "root" }], "role"],
    [
      "wildcard inside a pattern",
      [{ id: "a", hash, tenant: "t", subscribe_topics: ["a*b"] }],
      "subscribe_topics",
    ],
    ["bad expiry", [{ id: "a", hash, tenant: "t", expires_at: "tomorrow" }], "expires_at"],
  ])("parseApiKeys - refuses %s", (_, keys, mention) => {
    const error = errorOf(() => parseApiKeys(keyFile(keys), "keys.json"));
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(error.message).toContain("keys.json");
    expect(error.message).toContain(mention);
  });

  it("parseApiKeys - invalid JSON is a config error that does not echo the text", () => {
    const error = errorOf(() => parseApiKeys('{"keys": [ soorma_leaked_secret', "SOORMA_API_KEYS"));
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(error.message).not.toContain("soorma_leaked_secret");
  });

  describe("loadApiKeys", () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "soorma-keys-"));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("loadApiKeys - merges the key file and the inline keys", async () => {
      const file = join(dir, "keys.json");
      await writeFile(file, keyFile([{ id: "from-file", hash, tenant: "t1" }]));
      const inline = keyFile([{ id: "inline", hash: hashApiKey(generateApiKey()), tenant: "t2" }]);
      const entries = loadApiKeys({ file, inline });
      expect(entries.map((e) => [e.id, e.tenant])).toEqual([
        ["from-file", "t1"],
        ["inline", "t2"],
      ]);
    });

    it("loadApiKeys - a missing file is a config error naming the path", () => {
      const file = join(dir, "missing.json");
      const error = errorOf(() => loadApiKeys({ file }));
      expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
      expect(error.message).toContain(file);
    });
  });
});

describe("scripts/hash-api-key.mjs", () => {
  it("hash script - a key read from stdin gets the same hash as hashApiKey", async () => {
    const key = generateApiKey();
    const result = await runScript(
      ["--id", "billing", "--tenant", "acme", "--agent-names", "billing-*, audit", "--key-stdin"],
      `${key}\n`,
    );
    expect(result.code).toBe(0);
    const entry = JSON.parse(result.stdout);
    expect(entry).toEqual({
      id: "billing",
      hash: hashApiKey(key),
      tenant: "acme",
      role: "agent",
      agent_names: ["billing-*", "audit"],
      publish_topics: "*",
      subscribe_topics: "*",
    });
    expect(result.stderr).not.toContain(key);
  });

  it("hash script - a generated key is printed once on stderr and authenticates against the entry", async () => {
    const result = await runScript([
      "--id",
      "ops",
      "--tenant",
      "acme",
      "--role",
      "admin",
      "--expires-at",
      "2099-01-01T00:00:00Z",
    ]);
    expect(result.code).toBe(0);
    const key = /(soorma_[A-Za-z0-9_-]{43})/.exec(result.stderr)?.[1];
    expect(key).toBeDefined();
    expect(result.stdout).not.toContain(key);
    const store = createApiKeyStore(parseApiKeys(`{"keys":[${result.stdout}]}`, "script output"));
    expect(store.authenticate(key ?? "")).toMatchObject({ tenant: "acme", role: "admin", subject: "ops" });
  });

  it("hash script - refuses a short stdin key and a bad tenant with exit code 2", async () => {
    const short = await runScript(["--id", "a", "--tenant", "acme", "--key-stdin"], "short");
    expect(short.code).toBe(2);
    expect(short.stdout).toBe("");
    const badTenant = await runScript(["--id", "a", "--tenant", "../etc"]);
    expect(badTenant.code).toBe(2);
    expect(badTenant.stderr).toContain("--tenant");
  });
});
