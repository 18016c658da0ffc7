import { ConfigError } from "@soorma/common";
import { z } from "zod";
import { definedOnly, type Env, readBool, readInt, readList, readString } from "./env-values.js";
import { DEFAULT_JWT_CLAIMS } from "./jwt.js";

const OneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** JWT verification settings (`SOORMA_JWT_*`). Set one key source: secret, public key or JWKS URL. */
export const JwtConfigSchema = z.strictObject({
  /** HS256 shared secret, at least 32 bytes (`SOORMA_JWT_SECRET`). */
  secret: z.string().min(1).optional(),
  /** File holding the HS256 secret, e.g. a mounted container secret (`SOORMA_JWT_SECRET_FILE`). */
  secretFile: z.string().min(1).optional(),
  /** PEM public key for RS256 (`SOORMA_JWT_PUBLIC_KEY`). */
  publicKey: z.string().min(1).optional(),
  /** File holding the PEM public key (`SOORMA_JWT_PUBLIC_KEY_FILE`). */
  publicKeyFile: z.string().min(1).optional(),
  /** JWKS endpoint, `https:` (or `http:` on loopback) (`SOORMA_JWT_JWKS_URL`). */
  jwksUrl: z.string().min(1).optional(),
  /** Accepted algorithms (`SOORMA_JWT_ALGORITHMS`, comma-separated). @default by key source, see jwt.ts */
  algorithms: z.array(z.string().min(1)).min(1).optional(),
  /** Required issuer, one of a list (`SOORMA_JWT_ISSUER`, comma-separated). Mandatory with a JWKS URL. */
  issuer: OneOrMany.optional(),
  /** Required audience, one of a list (`SOORMA_JWT_AUDIENCE`, comma-separated). Mandatory with a JWKS URL. */
  audience: OneOrMany.optional(),
  /** Clock skew allowed on `exp`/`nbf` (`SOORMA_JWT_CLOCK_TOLERANCE_SEC`). @default 5 */
  clockToleranceSec: z.number().int().min(0).max(300).default(5),
  /** Refuse tokens without `exp` (`SOORMA_JWT_REQUIRE_EXPIRY`). @default true */
  requireExpiry: z.boolean().default(true),
  /** Claim holding the platform tenant (`SOORMA_JWT_TENANT_CLAIM`). @default "soorma_tenant", then "tenant" */
  tenantClaim: z.string().min(1).optional(),
  /** Claim holding the role (`SOORMA_JWT_ROLE_CLAIM`). @default "soorma_role" */
  roleClaim: z.string().min(1).default(DEFAULT_JWT_CLAIMS.role),
  /** Claim with allowed agent names (`SOORMA_JWT_AGENT_NAMES_CLAIM`). @default "soorma_agent_names" */
  agentNamesClaim: z.string().min(1).default(DEFAULT_JWT_CLAIMS.agentNames),
  /** Claim with publishable topics (`SOORMA_JWT_PUBLISH_TOPICS_CLAIM`). @default "soorma_publish_topics" */
  publishTopicsClaim: z.string().min(1).default(DEFAULT_JWT_CLAIMS.publishTopics),
  /** Claim with subscribable topics (`SOORMA_JWT_SUBSCRIBE_TOPICS_CLAIM`). @default "soorma_subscribe_topics" */
  subscribeTopicsClaim: z.string().min(1).default(DEFAULT_JWT_CLAIMS.subscribeTopics),
  /** How long fetched JWKS keys are trusted (`SOORMA_JWT_JWKS_CACHE_MAX_AGE_MS`). @default 600000 */
  jwksCacheMaxAgeMs: z.number().int().min(0).default(600_000),
  /** Least time between JWKS fetches (`SOORMA_JWT_JWKS_COOLDOWN_MS`). @default 30000 */
  jwksCooldownMs: z.number().int().min(0).default(30_000),
  /** Deadline of one JWKS fetch (`SOORMA_JWT_JWKS_TIMEOUT_MS`). @default 5000 */
  jwksTimeoutMs: z.number().int().min(1).max(60_000).default(5_000),
});

/**
 * The `auth` section of the gateway config. Embed it as `auth: AuthConfigSchema.prefault({})` so an absent
 * section gets every default.
 */
export const AuthConfigSchema = z.strictObject({
  /** `auto`: secured when credentials exist, else open on loopback only. `secured`: credentials required. */
  mode: z.enum(["auto", "secured"]).default("auto"),
  /** Allow open mode on a non-loopback address (`SOORMA_INSECURE_ALLOW_OPEN_NETWORK`). @default false */
  insecureAllowOpenNetwork: z.boolean().default(false),
  /** Path of the API key file (`SOORMA_API_KEYS_FILE`). */
  apiKeysFile: z.string().min(1).optional(),
  /** API key file content inline, as JSON (`SOORMA_API_KEYS`). */
  apiKeys: z.string().min(1).optional(),
  jwt: JwtConfigSchema.prefault({}),
});

/** Validated `auth` config with defaults filled. */
export type AuthConfig = z.output<typeof AuthConfigSchema>;
/** What a caller may write for the `auth` config (defaults may be omitted). */
export type AuthConfigInput = z.input<typeof AuthConfigSchema>;

/** Every environment variable the `auth` section reads, for documentation and tests. */
export const AUTH_ENV_VARS = [
  "SOORMA_AUTH_MODE",
  "SOORMA_INSECURE_ALLOW_OPEN_NETWORK",
  "SOORMA_API_KEYS_FILE",
  "SOORMA_API_KEYS",
  "SOORMA_JWT_SECRET",
  "SOORMA_JWT_SECRET_FILE",
  "SOORMA_JWT_PUBLIC_KEY",
  "SOORMA_JWT_PUBLIC_KEY_FILE",
  "SOORMA_JWT_JWKS_URL",
  "SOORMA_JWT_ALGORITHMS",
  "SOORMA_JWT_ISSUER",
  "SOORMA_JWT_AUDIENCE",
  "SOORMA_JWT_CLOCK_TOLERANCE_SEC",
  "SOORMA_JWT_REQUIRE_EXPIRY",
  "SOORMA_JWT_TENANT_CLAIM",
  "SOORMA_JWT_ROLE_CLAIM",
  "SOORMA_JWT_AGENT_NAMES_CLAIM",
  "SOORMA_JWT_PUBLISH_TOPICS_CLAIM",
  "SOORMA_JWT_SUBSCRIBE_TOPICS_CLAIM",
  "SOORMA_JWT_JWKS_CACHE_MAX_AGE_MS",
  "SOORMA_JWT_JWKS_COOLDOWN_MS",
  "SOORMA_JWT_JWKS_TIMEOUT_MS",
] as const;

/**
 * The `auth` section as the environment gives it: unset variables are left out so defaults apply.
 * Throws `ConfigError` naming the variable for values of the wrong kind; validate with {@link parseAuthConfig}.
 */
export function authConfigInputFromEnv(env: Env): AuthConfigInput {
  const issuer = readList(env, "SOORMA_JWT_ISSUER");
  const audience = readList(env, "SOORMA_JWT_AUDIENCE");
  return definedOnly({
    mode: readString(env, "SOORMA_AUTH_MODE") as AuthConfigInput["mode"],
    insecureAllowOpenNetwork: readBool(env, "SOORMA_INSECURE_ALLOW_OPEN_NETWORK"),
    apiKeysFile: readString(env, "SOORMA_API_KEYS_FILE"),
    apiKeys: readString(env, "SOORMA_API_KEYS"),
    jwt: definedOnly({
      secret: readString(env, "SOORMA_JWT_SECRET"),
      secretFile: readString(env, "SOORMA_JWT_SECRET_FILE"),
      publicKey: readString(env, "SOORMA_JWT_PUBLIC_KEY"),
      publicKeyFile: readString(env, "SOORMA_JWT_PUBLIC_KEY_FILE"),
      jwksUrl: readString(env, "SOORMA_JWT_JWKS_URL"),
      algorithms: readList(env, "SOORMA_JWT_ALGORITHMS"),
      issuer: issuer?.length === 1 ? issuer[0] : issuer,
      audience: audience?.length === 1 ? audience[0] : audience,
      clockToleranceSec: readInt(env, "SOORMA_JWT_CLOCK_TOLERANCE_SEC"),
      requireExpiry: readBool(env, "SOORMA_JWT_REQUIRE_EXPIRY"),
      tenantClaim: readString(env, "SOORMA_JWT_TENANT_CLAIM"),
      roleClaim: readString(env, "SOORMA_JWT_ROLE_CLAIM"),
      agentNamesClaim: readString(env, "SOORMA_JWT_AGENT_NAMES_CLAIM"),
      publishTopicsClaim: readString(env, "SOORMA_JWT_PUBLISH_TOPICS_CLAIM"),
      subscribeTopicsClaim: readString(env, "SOORMA_JWT_SUBSCRIBE_TOPICS_CLAIM"),
      jwksCacheMaxAgeMs: readInt(env, "SOORMA_JWT_JWKS_CACHE_MAX_AGE_MS"),
      jwksCooldownMs: readInt(env, "SOORMA_JWT_JWKS_COOLDOWN_MS"),
      jwksTimeoutMs: readInt(env, "SOORMA_JWT_JWKS_TIMEOUT_MS"),
    }),
  });
}

/** Validate an `auth` section, filling defaults; `ConfigError` listing every bad field. */
export function parseAuthConfig(input: unknown): AuthConfig {
  const parsed = AuthConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const summary = parsed.error.issues
    .map((issue) => `auth.${issue.path.map(String).join(".")}: ${issue.message}`)
    .join("; ");
  throw new ConfigError(`invalid auth config: ${summary}`, { details: parsed.error.issues });
}

/** The `auth` section read from the environment and validated. */
export function loadAuthConfig(env: Env = process.env): AuthConfig {
  return parseAuthConfig(authConfigInputFromEnv(env));
}

const REDACTED = "[redacted]";

/**
 * A copy safe to log: secrets and inline keys replaced. Public keys and URLs are kept; they help debugging.
 * Inline API keys are only hashes, but redacting them keeps logs short and tenants' key ids private.
 */
export function redactAuthConfig(config: AuthConfig): AuthConfig {
  return {
    ...config,
    ...(config.apiKeys === undefined ? {} : { apiKeys: REDACTED }),
    jwt: { ...config.jwt, ...(config.jwt.secret === undefined ? {} : { secret: REDACTED }) },
  };
}
