import { BlockList, isIP } from "node:net";
import { ConfigError } from "@soorma/common";

/**
 * How the operator asked authentication to behave (`SOORMA_AUTH_MODE`).
 * - `auto`: secured when credentials are configured; otherwise open, but only on a loopback address.
 * - `secured`: credentials must be configured; starting without them is a configuration error.
 */
export type AuthModeSetting = "auto" | "secured";

/** Input of {@link decideAuthMode}. */
export interface AuthModeInput {
  /** Address the server binds to (`SOORMA_HOST`). */
  host: string;
  /** True when at least one API key or a JWT key source is configured. */
  credentialsConfigured: boolean;
  /** @default "auto" */
  mode?: AuthModeSetting;
  /**
   * Run open on a non-loopback address anyway (`SOORMA_INSECURE_ALLOW_OPEN_NETWORK`), for a container whose
   * port is reachable only through a trusted proxy or private network. Never needed on a developer machine.
   * @default false
   */
  insecureAllowOpenNetwork?: boolean;
  /** Tenant every open-mode caller gets, named in the warning. @default "default" */
  defaultTenant?: string;
}

/** What the server does about authentication; `warning` must be logged at start, at warn level or above. */
export type AuthModeDecision =
  | { readonly mode: "secured" }
  | { readonly mode: "open"; readonly warning: string };

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * True when binding to `host` keeps the server reachable from this machine only: `localhost`, `127.0.0.0/8`,
 * `::1` in any spelling (`[::1]`, `0:0:0:0:0:0:0:1`) and IPv4-mapped loopback (`::ffff:127.0.0.1`). Wildcards
 * (`0.0.0.0`, `::`) and other host names are not loopback: a name could resolve anywhere.
 */
export function isLoopbackHost(host: string): boolean {
  let candidate = host.trim().toLowerCase();
  if (candidate.startsWith("[") && candidate.endsWith("]")) candidate = candidate.slice(1, -1);
  if (candidate === "localhost" || candidate === "localhost.") return true;
  const family = isIP(candidate);
  if (family === 0) return false;
  return LOOPBACK.check(candidate, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Decide between secured and open mode, or refuse to start. Credentials configured → secured. No credentials:
 * open with a loud warning on loopback; a `ConfigError` on any other address, because an open gateway on a
 * network lets anyone read and write every event.
 */
export function decideAuthMode(input: AuthModeInput): AuthModeDecision {
  const mode = input.mode ?? "auto";
  if (input.credentialsConfigured) return { mode: "secured" };
  if (mode === "secured") {
    throw new ConfigError(
      "SOORMA_AUTH_MODE=secured but no credentials are configured: set SOORMA_API_KEYS_FILE, SOORMA_API_KEYS, " +
        "SOORMA_JWT_SECRET, SOORMA_JWT_PUBLIC_KEY or SOORMA_JWT_JWKS_URL",
    );
  }
  const tenant = input.defaultTenant ?? "default";
  if (isLoopbackHost(input.host)) {
    return {
      mode: "open",
      warning:
        `AUTHENTICATION IS OFF (dev mode): no API keys or JWT settings are configured, so every caller is ` +
        `trusted as platform admin of tenant "${tenant}". This is allowed only because the server listens on ` +
        `loopback (${input.host}). Configure SOORMA_API_KEYS_FILE or SOORMA_JWT_* before exposing it.`,
    };
  }
  if (input.insecureAllowOpenNetwork === true) {
    return {
      mode: "open",
      warning:
        `AUTHENTICATION IS OFF ON A NETWORK ADDRESS (${input.host}): SOORMA_INSECURE_ALLOW_OPEN_NETWORK is set, ` +
        `so anyone who reaches this port reads and writes every event of tenant "${tenant}" and uses the ` +
        `admin API. Only do this behind a proxy or private network that authenticates callers.`,
    };
  }
  throw new ConfigError(
    `refusing to start: the server would listen on ${input.host} with authentication off. Configure ` +
      "SOORMA_API_KEYS_FILE / SOORMA_API_KEYS or SOORMA_JWT_*, or bind to 127.0.0.1 for local development " +
      "(see docs/security.md)",
  );
}
