import { readFileSync } from "node:fs";
import { ConfigError } from "@soorma/common";
import { createApiKeyStore, loadApiKeys } from "./api-keys.js";
import { unauthenticated } from "./auth-errors.js";
import type { AuthConfig } from "./config.js";
import { decideAuthMode } from "./dev-mode.js";
import { createJwtVerifier, isJwtConfigured, type JwtVerifierOptions, looksLikeJwt } from "./jwt.js";
import { devPrincipal, type Principal } from "./principal.js";

/** Where the gateway runs; decides whether open mode is allowed and which tenant it uses. */
export interface AuthenticatorContext {
  /** Address the server binds to. */
  host: string;
  /** Platform tenant of every caller in open mode. @default "default" */
  defaultTenant?: string;
  /** Clock for API key expiry and token `exp` (ms since the epoch). @default Date.now */
  now?: () => number;
}

/** Credentials as a connection or request presented them; at most one may be set. */
export interface AuthenticateInput {
  /** Raw `Authorization` header of the upgrade or HTTP request, e.g. `Bearer soorma_…`. */
  authorizationHeader?: string | undefined;
  /** `auth` of the `hello` frame, for clients that cannot set headers. */
  helloAuth?: { api_key?: string | undefined; token?: string | undefined } | undefined;
}

/** Turns presented credentials into a {@link Principal}. */
export interface Authenticator {
  /** `open`: nobody is asked for credentials (loopback dev mode). `secured`: every caller must present one. */
  readonly mode: "open" | "secured";
  /** Text the gateway must log at warn level when it starts (set in open mode). */
  readonly warning: string | undefined;
  /** Which credential kinds are accepted, for the start-up log. */
  readonly methods: readonly ("api-key" | "jwt")[];
  /**
   * The caller's principal. Rejects with `AuthError` `SOORMA_ERR_UNAUTHENTICATED` (`details.reason` says why,
   * the message never repeats the credential), or `SoormaError` `SOORMA_ERR_INTERNAL` when token keys cannot
   * be fetched. In open mode every caller gets the dev principal and credentials are ignored.
   */
  authenticate(input: AuthenticateInput): Promise<Principal>;
}

/**
 * Build the authenticator from the `auth` config section. Reads key files now, so a bad key file stops the
 * gateway at start with a `ConfigError`, never at the first connection. Also throws `ConfigError` when no
 * credentials are configured and the host is not loopback (see `dev-mode.ts`).
 */
export function createAuthenticator(config: AuthConfig, context: AuthenticatorContext): Authenticator {
  const now = context.now ?? Date.now;
  const entries = loadApiKeys({ file: config.apiKeysFile, inline: config.apiKeys });
  const keys = entries.length > 0 ? createApiKeyStore(entries, { now }) : undefined;
  const jwtOptions = jwtVerifierOptions(config.jwt, now);
  const jwt = isJwtConfigured(jwtOptions) ? createJwtVerifier(jwtOptions) : undefined;
  const methods = [...(keys ? (["api-key"] as const) : []), ...(jwt ? (["jwt"] as const) : [])];

  const decision = decideAuthMode({
    host: context.host,
    credentialsConfigured: methods.length > 0,
    mode: config.mode,
    insecureAllowOpenNetwork: config.insecureAllowOpenNetwork,
    defaultTenant: context.defaultTenant,
  });
  if (decision.mode === "open") {
    const principal = devPrincipal(context.defaultTenant ?? "default");
    return { mode: "open", warning: decision.warning, methods, authenticate: async () => principal };
  }

  return {
    mode: "secured",
    warning: undefined,
    methods,
    async authenticate(input: AuthenticateInput): Promise<Principal> {
      const { kind, value } = pickCredential(input);
      // Generated API keys never contain dots, so a JWS-shaped bearer value is a token.
      if (kind === "bearer" && jwt !== undefined && looksLikeJwt(value)) return jwt.verify(value);
      if (keys !== undefined) return keys.authenticate(value);
      if (kind === "api-key")
        throw unauthenticated("API keys are not accepted here; send a token", "invalid");
      throw unauthenticated("token is malformed", "malformed");
    },
  };
}

interface PresentedCredential {
  /** `api-key` when the client said so (`hello.auth.api_key`); `bearer` when it may be a key or a token. */
  kind: "api-key" | "bearer";
  value: string;
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

function pickCredential(input: AuthenticateInput): PresentedCredential {
  const header = input.authorizationHeader?.trim() ? input.authorizationHeader : undefined;
  const apiKey = input.helloAuth?.api_key;
  const token = input.helloAuth?.token;
  const presented = [header, apiKey, token].filter((value) => value !== undefined);
  if (presented.length === 0) {
    throw unauthenticated("credentials required: send 'Authorization: Bearer <key or token>'", "missing");
  }
  if (presented.length > 1) throw unauthenticated("present exactly one credential", "ambiguous");
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match?.[1])
      throw unauthenticated("the Authorization header must be 'Bearer <credential>'", "malformed");
    return { kind: "bearer", value: match[1] };
  }
  if (apiKey !== undefined) return { kind: "api-key", value: apiKey };
  return { kind: "bearer", value: token ?? "" };
}

function jwtVerifierOptions(jwt: AuthConfig["jwt"], now: () => number): JwtVerifierOptions {
  return {
    secret: readSecret(jwt.secret, jwt.secretFile, "SOORMA_JWT_SECRET"),
    publicKeyPem: readSecret(jwt.publicKey, jwt.publicKeyFile, "SOORMA_JWT_PUBLIC_KEY"),
    jwksUrl: jwt.jwksUrl,
    algorithms: jwt.algorithms,
    issuer: jwt.issuer,
    audience: jwt.audience,
    clockToleranceSec: jwt.clockToleranceSec,
    requireExpiry: jwt.requireExpiry,
    tenantClaim: jwt.tenantClaim,
    roleClaim: jwt.roleClaim,
    agentNamesClaim: jwt.agentNamesClaim,
    publishTopicsClaim: jwt.publishTopicsClaim,
    subscribeTopicsClaim: jwt.subscribeTopicsClaim,
    jwksCacheMaxAgeMs: jwt.jwksCacheMaxAgeMs,
    jwksCooldownMs: jwt.jwksCooldownMs,
    jwksTimeoutMs: jwt.jwksTimeoutMs,
    now,
  };
}

/** A value given inline or as a file (`X` / `X_FILE`); both at once is ambiguous and refused. */
function readSecret(inline: string | undefined, file: string | undefined, name: string): string | undefined {
  if (inline !== undefined && file !== undefined)
    throw new ConfigError(`set ${name} or ${name}_FILE, not both`);
  if (file === undefined) return inline;
  try {
    // Mounted secrets usually end with a newline that is not part of the secret.
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (cause) {
    throw new ConfigError(`cannot read ${name}_FILE ${file}`, { cause });
  }
}
