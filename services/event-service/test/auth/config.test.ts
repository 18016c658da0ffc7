import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SoormaError } from "@soorma/common";
import { describe, expect, it } from "vitest";
import {
  AUTH_ENV_VARS,
  AuthConfigSchema,
  authConfigInputFromEnv,
  loadAuthConfig,
  redactAuthConfig,
} from "../../src/auth/config.js";

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

describe("auth config", () => {
  it("auth config - an empty environment gives auto mode, no credentials and the documented defaults", () => {
    const config = loadAuthConfig({});
    expect(config).toEqual({
      mode: "auto",
      insecureAllowOpenNetwork: false,
      jwt: {
        clockToleranceSec: 5,
        requireExpiry: true,
        roleClaim: "soorma_role",
        agentNamesClaim: "soorma_agent_names",
        publishTopicsClaim: "soorma_publish_topics",
        subscribeTopicsClaim: "soorma_subscribe_topics",
        jwksCacheMaxAgeMs: 600_000,
        jwksCooldownMs: 30_000,
        jwksTimeoutMs: 5_000,
      },
    });
    expect(AuthConfigSchema.parse({})).toEqual(config);
  });

  it("auth config - every SOORMA_* variable lands in its field", () => {
    const config = loadAuthConfig({
      SOORMA_AUTH_MODE: "secured",
      SOORMA_INSECURE_ALLOW_OPEN_NETWORK: "yes",
      SOORMA_API_KEYS_FILE: "/etc/soorma/keys.json",
      SOORMA_API_KEYS: '{"keys":[]}',
      SOORMA_JWT_SECRET: "s",
      SOORMA_JWT_SECRET_FILE: "/run/secrets/jwt",
      SOORMA_JWT_PUBLIC_KEY: "pem",
      SOORMA_JWT_PUBLIC_KEY_FILE: "/run/secrets/pem",
      SOORMA_JWT_JWKS_URL: "https://idp.example.com/jwks.json",
      SOORMA_JWT_ALGORITHMS: "RS256, ES256",
      SOORMA_JWT_ISSUER: "https://idp.example.com",
      SOORMA_JWT_AUDIENCE: "events,events-staging",
      SOORMA_JWT_CLOCK_TOLERANCE_SEC: "10",
      SOORMA_JWT_REQUIRE_EXPIRY: "false",
      SOORMA_JWT_TENANT_CLAIM: "org",
      SOORMA_JWT_ROLE_CLAIM: "r",
      SOORMA_JWT_AGENT_NAMES_CLAIM: "a",
      SOORMA_JWT_PUBLISH_TOPICS_CLAIM: "p",
      SOORMA_JWT_SUBSCRIBE_TOPICS_CLAIM: "s",
      SOORMA_JWT_JWKS_CACHE_MAX_AGE_MS: "1000",
      SOORMA_JWT_JWKS_COOLDOWN_MS: "2000",
      SOORMA_JWT_JWKS_TIMEOUT_MS: "3000",
    });
    expect(config).toEqual({
      mode: "secured",
      insecureAllowOpenNetwork: true,
      apiKeysFile: "/etc/soorma/keys.json",
      apiKeys: '{"keys":[]}',
      jwt: {
        secret: "s",
        secretFile: "/run/secrets/jwt",
        publicKey: "pem",
        publicKeyFile: "/run/secrets/pem",
        jwksUrl: "https://idp.example.com/jwks.json",
        algorithms: ["RS256", "ES256"],
        issuer: "https://idp.example.com",
        audience: ["events", "events-staging"],
        clockToleranceSec: 10,
        requireExpiry: false,
        tenantClaim: "org",
        roleClaim: "r",
        agentNamesClaim: "a",
        publishTopicsClaim: "p",
        subscribeTopicsClaim: "s",
        jwksCacheMaxAgeMs: 1000,
        jwksCooldownMs: 2000,
        jwksTimeoutMs: 3000,
      },
    });
  });

  it("auth config - blank variables count as unset", () => {
    expect(authConfigInputFromEnv({ SOORMA_API_KEYS_FILE: "", SOORMA_JWT_SECRET: "  " })).toEqual({
      jwt: {},
    });
  });

  it.each([
    ["SOORMA_AUTH_MODE", "open-please", "auth.mode"],
    ["SOORMA_JWT_CLOCK_TOLERANCE_SEC", "ten", "SOORMA_JWT_CLOCK_TOLERANCE_SEC"],
    ["SOORMA_JWT_CLOCK_TOLERANCE_SEC", "3600", "auth.jwt.clockToleranceSec"],
    ["SOORMA_JWT_REQUIRE_EXPIRY", "maybe", "SOORMA_JWT_REQUIRE_EXPIRY"],
    ["SOORMA_INSECURE_ALLOW_OPEN_NETWORK", "sure", "SOORMA_INSECURE_ALLOW_OPEN_NETWORK"],
  ])("auth config - %s=%s is a config error naming %s", (name, value, mention) => {
    const error = configError(() => loadAuthConfig({ [name]: value }));
    expect(error.code).toBe("SOORMA_ERR_CONFIG_INVALID");
    expect(error.message).toContain(mention);
  });

  it("auth config - redaction hides the JWT secret and inline keys, keeps the rest", () => {
    const config = loadAuthConfig({ SOORMA_JWT_SECRET: "top-secret-value", SOORMA_API_KEYS: '{"keys":[]}' });
    const redacted = redactAuthConfig(config);
    expect(JSON.stringify(redacted)).not.toContain("top-secret-value");
    expect(redacted.apiKeys).toBe("[redacted]");
    expect(redacted.jwt.roleClaim).toBe("soorma_role");
    expect(config.jwt.secret).toBe("top-secret-value");
  });

  it("auth config - docs/security.md documents every variable", () => {
    const doc = readFileSync(SECURITY_DOC, "utf8");
    const missing = AUTH_ENV_VARS.filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
