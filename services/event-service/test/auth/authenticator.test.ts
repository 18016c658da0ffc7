import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SoormaError } from "@soorma/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "../../src/auth/api-keys.js";
import { type AuthenticateInput, createAuthenticator } from "../../src/auth/authenticator.js";
import { type AuthConfigInput, parseAuthConfig } from "../../src/auth/config.js";
import { signToken } from "./jwt-helpers.js";

const SECRET = "authenticator-test-secret-of-32-bytes";
const secretKey = new TextEncoder().encode(SECRET);
const LOOPBACK = { host: "127.0.0.1", defaultTenant: "default" };

function make(input: AuthConfigInput, context: { host: string; defaultTenant?: string } = LOOPBACK) {
  return createAuthenticator(parseAuthConfig(input), context);
}

function thrown(fn: () => unknown): SoormaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a SoormaError");
}

async function refused(promise: Promise<unknown>): Promise<SoormaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SoormaError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("authenticator - open (dev) mode", () => {
  it("open mode - on loopback without credentials every caller is the dev principal of the default tenant", async () => {
    const auth = make({}, { host: "::1", defaultTenant: "local" });
    expect(auth.mode).toBe("open");
    expect(auth.methods).toEqual([]);
    expect(auth.warning).toContain("AUTHENTICATION IS OFF");
    expect(auth.warning).toContain('"local"');
    for (const input of [{}, { authorizationHeader: "Bearer whatever" }, { helloAuth: { api_key: "x" } }]) {
      expect(await auth.authenticate(input)).toEqual({
        tenant: "local",
        subject: "dev",
        role: "platform-admin",
        agentNames: "*",
        publishTopics: "*",
        subscribeTopics: "*",
        credential: "dev",
      });
    }
  });

  it("open mode - without credentials on 0.0.0.0 the authenticator refuses to be built", () => {
    const error = thrown(() => make({}, { host: "0.0.0.0" }));
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(error.message).toContain("refusing to start");
  });

  it("open mode - SOORMA_AUTH_MODE=secured without credentials is a config error even on loopback", () => {
    expect(thrown(() => make({ mode: "secured" })).code).toBe("SOORMA_ERR_CONFIG_INVALID");
  });
});

describe("authenticator - secured", () => {
  let dir: string;
  const agentKey = generateApiKey();
  const adminKey = generateApiKey();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "soorma-auth-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function keysFile(): Promise<string> {
    const file = join(dir, "keys.json");
    await writeFile(
      file,
      JSON.stringify({
        keys: [
          { id: "agent-a", hash: hashApiKey(agentKey), tenant: "tenant-a", agent_names: ["worker-*"] },
          { id: "admin-b", hash: hashApiKey(adminKey), tenant: "tenant-b", role: "admin" },
        ],
      }),
    );
    return file;
  }

  it("secured - API keys work from the Authorization header and from hello.auth, on any host", async () => {
    const auth = make({ apiKeysFile: await keysFile() }, { host: "0.0.0.0" });
    expect(auth.mode).toBe("secured");
    expect(auth.warning).toBeUndefined();
    expect(auth.methods).toEqual(["api-key"]);
    const inputs: AuthenticateInput[] = [
      { authorizationHeader: `Bearer ${agentKey}` },
      { authorizationHeader: `bearer   ${agentKey}  ` },
      { helloAuth: { api_key: agentKey } },
      { helloAuth: { token: agentKey } },
    ];
    for (const input of inputs) {
      expect(await auth.authenticate(input)).toMatchObject({ tenant: "tenant-a", subject: "agent-a" });
    }
    expect(await auth.authenticate({ authorizationHeader: `Bearer ${adminKey}` })).toMatchObject({
      tenant: "tenant-b",
      role: "admin",
    });
  });

  it("secured - API keys and JWT side by side: each bearer value goes to the right verifier", async () => {
    const auth = make({ apiKeysFile: await keysFile(), jwt: { secret: SECRET } });
    expect(auth.methods).toEqual(["api-key", "jwt"]);
    const token = await signToken(secretKey, { soorma_tenant: "tenant-c", sub: "svc" });
    expect(await auth.authenticate({ authorizationHeader: `Bearer ${token}` })).toMatchObject({
      tenant: "tenant-c",
      credential: "jwt",
    });
    expect(await auth.authenticate({ helloAuth: { token } })).toMatchObject({ tenant: "tenant-c" });
    expect(await auth.authenticate({ authorizationHeader: `Bearer ${agentKey}` })).toMatchObject({
      tenant: "tenant-a",
      credential: "api-key",
    });
  });

  it.each<[string, AuthenticateInput, string]>([
    ["nothing", {}, "missing"],
    ["a blank header", { authorizationHeader: "  " }, "missing"],
    [
      "header and hello.auth",
      { authorizationHeader: "Bearer abcdefghijklmnopqrstuvwxyz", helloAuth: { api_key: "k" } },
      "ambiguous",
    ],
    ["both hello.auth fields", { helloAuth: { api_key: "k", token: "t" } }, "ambiguous"],
    ["Basic scheme", { authorizationHeader: "Basic dXNlcjpwYXNz" }, "malformed"],
    ["Bearer without a value", { authorizationHeader: "Bearer" }, "malformed"],
    ["Bearer with two values", { authorizationHeader: "Bearer a b" }, "malformed"],
    ["an unknown key", { authorizationHeader: `Bearer ${generateApiKey()}` }, "invalid"],
  ])("secured - %s is refused as SOORMA_ERR_UNAUTHENTICATED", async (_, input, reason) => {
    const auth = make({ apiKeysFile: await keysFile() });
    const error = await refused(auth.authenticate(input));
    expect(error.code).toBe("SOORMA_ERR_UNAUTHENTICATED");
    expect(error.details).toEqual({ reason });
  });

  it("secured - a JWT-only server refuses API keys and non-token bearer values", async () => {
    const auth = make({ jwt: { secret: SECRET } });
    const apiKey = await refused(auth.authenticate({ helloAuth: { api_key: agentKey } }));
    expect(apiKey.details).toEqual({ reason: "invalid" });
    const notAToken = await refused(auth.authenticate({ authorizationHeader: `Bearer ${agentKey}` }));
    expect(notAToken.details).toEqual({ reason: "malformed" });
  });

  it("secured - a keys-only server refuses tokens", async () => {
    const auth = make({ apiKeysFile: await keysFile() });
    const token = await signToken(secretKey, {});
    const error = await refused(auth.authenticate({ authorizationHeader: `Bearer ${token}` }));
    expect(error.details).toEqual({ reason: "invalid" });
  });

  it("secured - refusals never repeat the presented credential", async () => {
    const auth = make({ apiKeysFile: await keysFile(), jwt: { secret: SECRET } });
    const forged = await signToken(new TextEncoder().encode("x".repeat(40)), { soorma_tenant: "tenant-a" });
    for (const credential of [generateApiKey(), forged, `${agentKey}x`]) {
      const error = await refused(auth.authenticate({ authorizationHeader: `Bearer ${credential}` }));
      expect(error.message).not.toContain(credential);
      expect(JSON.stringify(error.details)).not.toContain(credential);
    }
  });

  it("secured - the JWT secret can come from a file; its trailing newline is not part of it", async () => {
    const secretFile = join(dir, "jwt-secret");
    await writeFile(secretFile, `${SECRET}\n`);
    const auth = make({ jwt: { secretFile } });
    const token = await signToken(secretKey, { soorma_tenant: "from-file" });
    expect((await auth.authenticate({ authorizationHeader: `Bearer ${token}` })).tenant).toBe("from-file");
  });

  it("secured - configuration mistakes stop creation with SOORMA_ERR_CONFIG_INVALID", async () => {
    const secretFile = join(dir, "jwt-secret");
    await writeFile(secretFile, SECRET);
    expect(thrown(() => make({ jwt: { secret: SECRET, secretFile } })).message).toContain("not both");
    expect(thrown(() => make({ jwt: { secretFile: join(dir, "absent") } })).code).toBe(
      "SOORMA_ERR_CONFIG_INVALID",
    );
    expect(thrown(() => make({ apiKeys: "{not json" })).code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(thrown(() => make({ apiKeysFile: join(dir, "absent.json") })).code).toBe(
      "SOORMA_ERR_CONFIG_INVALID",
    );
  });

  it("secured - an empty key list counts as no credentials", () => {
    expect(thrown(() => make({ apiKeys: '{"keys": []}' }, { host: "10.1.2.3" })).message).toContain(
      "refusing",
    );
    expect(make({ apiKeys: '{"keys": []}' }).mode).toBe("open");
  });
});
