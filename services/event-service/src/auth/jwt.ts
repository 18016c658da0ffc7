import { createPublicKey, type KeyObject } from "node:crypto";
import { ConfigError, SoormaError } from "@soorma/common";
import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import { unauthenticated } from "./auth-errors.js";
import { isLoopbackHost } from "./dev-mode.js";
import {
  ALLOW_ALL,
  type AllowList,
  AllowListSchema,
  PLATFORM_TENANT_PATTERN,
  type Principal,
  ROLES,
  type Role,
} from "./principal.js";

/** Claims tried in order for the platform tenant when no tenant claim is configured. */
export const DEFAULT_TENANT_CLAIMS: readonly string[] = ["soorma_tenant", "tenant"];

/** Default claim names of the role and the allow-lists. */
export const DEFAULT_JWT_CLAIMS = {
  role: "soorma_role",
  agentNames: "soorma_agent_names",
  publishTopics: "soorma_publish_topics",
  subscribeTopics: "soorma_subscribe_topics",
} as const;

/** Longest token verified; longer ones are refused before any parsing. */
export const JWT_MAX_LENGTH = 16_384;

const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;
const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

/** Shortest HS256 secret accepted: RFC 7518 asks for a key at least as long as the hash output. */
export const JWT_SECRET_MIN_BYTES = 32;

/**
 * Options of {@link createJwtVerifier}. Exactly one key source is set: `secret` (HMAC), `publicKeyPem` or
 * `jwksUrl`. Mixing an HMAC secret with public keys is refused, which also rules out the "sign HS256 with the
 * public key" confusion attack.
 */
export interface JwtVerifierOptions {
  /** Shared HMAC secret (at least {@link JWT_SECRET_MIN_BYTES} bytes). */
  secret?: string | undefined;
  /** Public key in PEM (SPKI or PKCS#1), e.g. the issuer's RSA key for RS256. */
  publicKeyPem?: string | undefined;
  /** JWKS endpoint; `https:`, or `http:` on a loopback host only. */
  jwksUrl?: string | undefined;
  /**
   * Accepted `alg` values. `none` is never accepted.
   * @default ["HS256"] with a secret, ["RS256"] with a PEM key, ["RS256", "ES256"] with a JWKS URL
   */
  algorithms?: readonly string[] | undefined;
  /** Required `iss` (one of). Mandatory with a JWKS URL, where the key server is often shared. */
  issuer?: string | readonly string[] | undefined;
  /** Required `aud` (one of). Mandatory with a JWKS URL. */
  audience?: string | readonly string[] | undefined;
  /** Allowed clock skew for `exp` / `nbf`, in seconds. @default 5 */
  clockToleranceSec?: number | undefined;
  /** Refuse tokens without `exp`: a token that never expires cannot be revoked by waiting. @default true */
  requireExpiry?: boolean | undefined;
  /** Claim holding the platform tenant. @default tries "soorma_tenant", then "tenant" */
  tenantClaim?: string | undefined;
  /** Claim holding the role (a string, or an array whose strongest known role counts). @default "soorma_role" */
  roleClaim?: string | undefined;
  /** Claim with allowed agent names. Absent claim = every name. @default "soorma_agent_names" */
  agentNamesClaim?: string | undefined;
  /** Claim with topics the caller may publish to. Absent = every topic. @default "soorma_publish_topics" */
  publishTopicsClaim?: string | undefined;
  /** Claim with topics the caller may subscribe to. Absent = every topic. @default "soorma_subscribe_topics" */
  subscribeTopicsClaim?: string | undefined;
  /** How long fetched JWKS keys are used without refetching. @default 600000 */
  jwksCacheMaxAgeMs?: number | undefined;
  /** Least time between two JWKS fetches, also when a token names an unknown `kid`. @default 30000 */
  jwksCooldownMs?: number | undefined;
  /** Deadline of one JWKS fetch. @default 5000 */
  jwksTimeoutMs?: number | undefined;
  /** Clock for expiry checks (ms since the epoch). @default Date.now */
  now?: (() => number) | undefined;
}

/** Which kind of key a verifier checks signatures with. */
export type JwtKeySource = "secret" | "public-key" | "jwks";

/** Verifies bearer tokens and maps their claims to a {@link Principal}. */
export interface JwtVerifier {
  readonly source: JwtKeySource;
  /**
   * Verify `token` and return its principal. Rejects with `AuthError` `SOORMA_ERR_UNAUTHENTICATED` for every
   * problem with the token, and with `SoormaError` `SOORMA_ERR_INTERNAL` when the JWKS endpoint cannot be
   * reached (the client may retry; its token may be fine).
   */
  verify(token: string): Promise<Principal>;
}

/** True when `value` has the shape of a compact JWS (three base64url parts). Says nothing about validity. */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

/** True when at least one JWT key source is set. */
export function isJwtConfigured(options: JwtVerifierOptions): boolean {
  return options.secret !== undefined || options.publicKeyPem !== undefined || options.jwksUrl !== undefined;
}

/** Build a verifier; throws `ConfigError` for missing/extra key sources, weak secrets, bad keys or URLs. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const { source, key, algorithms } = resolveKey(options);
  const claims = {
    tenant: options.tenantClaim === undefined ? DEFAULT_TENANT_CLAIMS : [options.tenantClaim],
    role: options.roleClaim ?? DEFAULT_JWT_CLAIMS.role,
    agentNames: options.agentNamesClaim ?? DEFAULT_JWT_CLAIMS.agentNames,
    publishTopics: options.publishTopicsClaim ?? DEFAULT_JWT_CLAIMS.publishTopics,
    subscribeTopics: options.subscribeTopicsClaim ?? DEFAULT_JWT_CLAIMS.subscribeTopics,
  };
  const now = options.now;
  const verifyOptions = {
    algorithms: [...algorithms],
    issuer: toMutable(options.issuer),
    audience: toMutable(options.audience),
    clockTolerance: options.clockToleranceSec ?? 5,
    requiredClaims: options.requireExpiry === false ? [] : ["exp"],
  };

  return {
    source,
    async verify(token: string): Promise<Principal> {
      if (token.length > JWT_MAX_LENGTH || !looksLikeJwt(token)) {
        throw unauthenticated("token is malformed", "malformed");
      }
      let payload: JWTPayload;
      try {
        const currentDate = now === undefined ? undefined : new Date(now());
        // Overloads of jwtVerify differ by key kind; both branches pass the same options.
        const result =
          typeof key === "function"
            ? await jwtVerify(token, key, { ...verifyOptions, currentDate })
            : await jwtVerify(token, key, { ...verifyOptions, currentDate });
        payload = result.payload;
      } catch (error) {
        throw toVerificationError(error);
      }
      return principalFromClaims(payload, claims, verifyOptions.clockTolerance);
    },
  };
}

interface ClaimNames {
  tenant: readonly string[];
  role: string;
  agentNames: string;
  publishTopics: string;
  subscribeTopics: string;
}

/**
 * `expiresAt` includes the clock tolerance: a token is accepted until `exp + tolerance`, so a live connection
 * is closed at that moment too. Cutting it at `exp` would accept a just-expired token at connect and close the
 * connection again at once.
 */
function principalFromClaims(payload: JWTPayload, names: ClaimNames, toleranceSec: number): Principal {
  const tenant = names.tenant.map((name) => payload[name]).find((value) => value !== undefined);
  if (typeof tenant !== "string" || !PLATFORM_TENANT_PATTERN.test(tenant)) {
    throw unauthenticated(`token has no valid tenant claim (${names.tenant.join(" or ")})`, "claims");
  }
  return {
    tenant,
    subject: typeof payload.sub === "string" && payload.sub.length > 0 ? payload.sub.slice(0, 256) : "jwt",
    role: roleFromClaim(payload[names.role]),
    agentNames: allowListFromClaim(payload[names.agentNames], names.agentNames),
    publishTopics: allowListFromClaim(payload[names.publishTopics], names.publishTopics),
    subscribeTopics: allowListFromClaim(payload[names.subscribeTopics], names.subscribeTopics),
    credential: "jwt",
    ...(typeof payload.exp === "number" ? { expiresAt: (payload.exp + toleranceSec) * 1000 } : {}),
  };
}

/** The strongest known role named by the claim; unknown values grant nothing beyond `agent`. */
function roleFromClaim(value: unknown): Role {
  const values = Array.isArray(value) ? value : [value];
  let best = 0;
  for (const candidate of values) {
    const rank = ROLES.indexOf(candidate as Role);
    if (rank > best) best = rank;
  }
  return ROLES[best] ?? "agent";
}

/** Absent claim = every name. A string is `"*"` or names separated by spaces or commas (OAuth scope style). */
function allowListFromClaim(value: unknown, claim: string): AllowList {
  if (value === undefined) return ALLOW_ALL;
  const candidate =
    typeof value === "string" && value !== ALLOW_ALL ? value.split(/[\s,]+/).filter(Boolean) : value;
  const parsed = AllowListSchema.safeParse(candidate);
  if (!parsed.success) throw unauthenticated(`token claim ${claim} is malformed`, "claims");
  return parsed.data;
}

function toVerificationError(error: unknown): SoormaError {
  if (!(error instanceof joseErrors.JOSEError)) {
    // Not a token problem: the JWKS endpoint is down, refused the connection or answered garbage.
    return new SoormaError("SOORMA_ERR_INTERNAL", "token signing keys are unavailable; retry later", {
      cause: error,
    });
  }
  switch (error.code) {
    case "ERR_JWT_EXPIRED":
      return unauthenticated("token expired", "expired", error);
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = (error as joseErrors.JWTClaimValidationFailed).claim;
      return unauthenticated(`token claim ${claim} rejected`, "claims", error);
    }
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return unauthenticated("token is malformed", "malformed", error);
    // The JWKS endpoint answered badly (timeout, not 200, not a key set): the token may well be fine.
    case "ERR_JOSE_GENERIC":
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
      return new SoormaError("SOORMA_ERR_INTERNAL", "token signing keys are unavailable; retry later", {
        cause: error,
      });
    default:
      // Bad signature, unknown kid, algorithm not allowed or not supported.
      return unauthenticated("token signature not accepted", "invalid", error);
  }
}

function resolveKey(options: JwtVerifierOptions): {
  source: JwtKeySource;
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: readonly string[];
} {
  const sources = [options.secret, options.publicKeyPem, options.jwksUrl].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new ConfigError(
      "JWT verification needs exactly one of SOORMA_JWT_SECRET, SOORMA_JWT_PUBLIC_KEY, SOORMA_JWT_JWKS_URL",
    );
  }
  if (options.secret !== undefined) {
    const key = new TextEncoder().encode(options.secret);
    if (key.byteLength < JWT_SECRET_MIN_BYTES) {
      throw new ConfigError(`SOORMA_JWT_SECRET must be at least ${JWT_SECRET_MIN_BYTES} bytes`);
    }
    return {
      source: "secret",
      key,
      algorithms: checkAlgorithms(options.algorithms, ["HS256"], HMAC_ALGORITHMS),
    };
  }
  if (options.publicKeyPem !== undefined) {
    let key: KeyObject;
    try {
      key = createPublicKey(options.publicKeyPem);
    } catch (cause) {
      throw new ConfigError("SOORMA_JWT_PUBLIC_KEY is not a readable PEM public key", { cause });
    }
    const algorithms = checkAlgorithms(options.algorithms, ["RS256"], ASYMMETRIC_ALGORITHMS);
    return { source: "public-key", key, algorithms };
  }
  const url = parseJwksUrl(options.jwksUrl ?? "");
  if (options.issuer === undefined || options.audience === undefined) {
    throw new ConfigError(
      "SOORMA_JWT_JWKS_URL needs SOORMA_JWT_ISSUER and SOORMA_JWT_AUDIENCE: a key server usually signs tokens " +
        "for other services too",
    );
  }
  const key = createRemoteJWKSet(url, {
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  });
  const algorithms = checkAlgorithms(options.algorithms, ["RS256", "ES256"], ASYMMETRIC_ALGORITHMS);
  return { source: "jwks", key, algorithms };
}

function parseJwksUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new ConfigError("SOORMA_JWT_JWKS_URL is not a URL", { cause });
  }
  // Keys fetched over plain HTTP could be swapped by anyone on the path, who could then sign any token.
  const secure = url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
  if (!secure) throw new ConfigError("SOORMA_JWT_JWKS_URL must use https: (http: only on loopback)");
  return url;
}

function checkAlgorithms(
  requested: readonly string[] | undefined,
  defaults: readonly string[],
  allowed: readonly string[],
): readonly string[] {
  const algorithms = requested ?? defaults;
  const refused = algorithms.filter((alg) => !allowed.includes(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    throw new ConfigError(
      `SOORMA_JWT_ALGORITHMS: ${refused.join(", ") || "(empty)"} not usable with this key source; ` +
        `choose from ${allowed.join(", ")}`,
    );
  }
  return algorithms;
}

function toMutable(value: string | readonly string[] | undefined): string | string[] | undefined {
  if (value === undefined || typeof value === "string") return value;
  return [...value];
}
