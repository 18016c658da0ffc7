import { z } from "zod";

/**
 * Roles, weakest first. `agent` publishes and subscribes; `admin` may also use the admin API for its own
 * tenant; `platform-admin` may use it for every tenant.
 */
export const ROLES = ["agent", "admin", "platform-admin"] as const;

/** What a principal may do beyond publishing and subscribing. */
export type Role = (typeof ROLES)[number];

/** How a principal proved who it is. `dev` = the open mode on loopback, where nobody proves anything. */
export type CredentialKind = "api-key" | "jwt" | "dev";

/**
 * The wildcard that allows every name. Inside a pattern list, an entry ending in `*` (e.g. `team-a-*`) allows
 * every name with that prefix.
 */
export const ALLOW_ALL = "*";

/** Names a principal may use: {@link ALLOW_ALL}, or a list of exact names and trailing-`*` prefix patterns. */
export type AllowList = typeof ALLOW_ALL | readonly string[];

/**
 * Platform tenants become part of broker names (NATS subjects, Pub/Sub ids, SQLite keys), so they follow the
 * same narrow rule the broker adapters expect.
 */
export const PLATFORM_TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Schema of a platform tenant id. */
export const PlatformTenantSchema = z.string().regex(PLATFORM_TENANT_PATTERN, {
  message: "platform tenants are 1 to 64 letters, digits, '_' or '-'",
});

/**
 * One allow-list entry: a name of letters, digits, `_` and `-` (the characters of agent and topic names),
 * optionally ending in a single `*`. A `*` anywhere else is refused so that a typo such as `team-*-a` cannot
 * silently allow more than intended.
 */
export const ALLOW_LIST_ENTRY_PATTERN = /^(?:\*|[A-Za-z0-9][A-Za-z0-9_-]{0,127}\*?)$/;

/** Schema of an allow-list: `"*"` or an array of entries (see {@link ALLOW_LIST_ENTRY_PATTERN}). */
export const AllowListSchema = z.union([
  z.literal(ALLOW_ALL),
  z
    .array(
      z.string().regex(ALLOW_LIST_ENTRY_PATTERN, {
        message: "allow-list entries are names, optionally ending in '*' (e.g. 'team-a-*'), or '*'",
      }),
    )
    .max(1000),
]);

/**
 * Who is calling, as established by the authenticator. Everything the gateway decides about tenancy and access
 * derives from this value, never from fields a client puts in a frame or an envelope.
 */
export interface Principal {
  /** Platform tenant: the namespace of every event and consumer group this principal touches. */
  readonly tenant: string;
  /** Who this is, for logs and the admin API: the API key id or the token's `sub`. Never a secret. */
  readonly subject: string;
  readonly role: Role;
  /** Consumer group names (agent names, else agent ids) this principal may join. */
  readonly agentNames: AllowList;
  /** Topics this principal may publish to. */
  readonly publishTopics: AllowList;
  /** Topics this principal may subscribe to. */
  readonly subscribeTopics: AllowList;
  /** When the credential stops being valid (ms since the epoch); absent when it never expires. */
  readonly expiresAt?: number;
  readonly credential: CredentialKind;
}

/**
 * True when `value` is allowed by `list`: the list is `"*"`, contains `"*"`, contains `value` itself, or
 * contains a prefix pattern `p*` with `value` starting with `p`.
 */
export function matchesAllowList(list: AllowList, value: string): boolean {
  if (list === ALLOW_ALL) return true;
  for (const entry of list) {
    if (entry === ALLOW_ALL || entry === value) return true;
    if (entry.endsWith("*") && value.startsWith(entry.slice(0, -1))) return true;
  }
  return false;
}

/** True when the principal's credential has expired at `now` (ms since the epoch). */
export function isExpired(principal: Principal, now: number = Date.now()): boolean {
  return principal.expiresAt !== undefined && principal.expiresAt <= now;
}

/**
 * The principal of every caller in open (dev) mode: the default tenant with every right, including the admin
 * API. Open mode only ever runs on loopback, where the caller is someone with access to this machine.
 */
export function devPrincipal(tenant: string): Principal {
  return {
    tenant,
    subject: "dev",
    role: "platform-admin",
    agentNames: ALLOW_ALL,
    publishTopics: ALLOW_ALL,
    subscribeTopics: ALLOW_ALL,
    credential: "dev",
  };
}
