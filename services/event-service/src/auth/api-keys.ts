import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "@soorma/common";
import { z } from "zod";
import { unauthenticated } from "./auth-errors.js";
import { AllowListSchema, PlatformTenantSchema, type Principal, ROLES } from "./principal.js";

/**
 * API keys are long random secrets, so one round of SHA-256 is enough to make a leaked key file useless: slow
 * password hashes (scrypt, bcrypt) defend low-entropy secrets, and would turn every connection attempt into a
 * CPU cost an attacker controls.
 */
export const API_KEY_HASH_PREFIX = "sha256:";

/** Shortest key {@link hashApiKey} accepts, so nobody configures a guessable key by accident. */
export const API_KEY_MIN_LENGTH = 24;

/** Longest key the store looks up; anything longer cannot be one of ours and is refused before hashing. */
export const API_KEY_MAX_LENGTH = 4096;

/** Prefix of generated keys, so secret scanners and people recognise a leaked one. */
export const GENERATED_API_KEY_PREFIX = "soorma_";

const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const HASH_PATTERN = /^sha256:[0-9a-fA-F]{64}$/;

/** One entry of the key file. Unknown fields are refused so a typo (`publish_topic`) cannot widen access. */
export const ApiKeyEntrySchema = z.strictObject({
  /** Names the key in logs and the admin API; not secret. */
  id: z.string().regex(KEY_ID_PATTERN, { message: "key ids are letters, digits, '_', '-', '.'" }),
  /** `sha256:` + 64 hex digits, as made by {@link hashApiKey} or `scripts/hash-api-key.mjs`. */
  hash: z.string().regex(HASH_PATTERN, { message: "hashes look like 'sha256:<64 hex digits>'" }),
  /** Platform tenant every event published or received with this key belongs to. */
  tenant: PlatformTenantSchema,
  role: z.enum(ROLES).default("agent"),
  agent_names: AllowListSchema.default("*"),
  publish_topics: AllowListSchema.default("*"),
  subscribe_topics: AllowListSchema.default("*"),
  /** Optional end of validity (ISO-8601), for rotation. */
  expires_at: z.iso.datetime({ offset: true }).optional(),
});

/** Schema of a key file (`SOORMA_API_KEYS_FILE`) and of the inline form (`SOORMA_API_KEYS`). */
export const ApiKeyFileSchema = z.strictObject({
  keys: z.array(ApiKeyEntrySchema).max(100_000),
});

/** A validated key file entry. */
export type ApiKeyEntry = z.output<typeof ApiKeyEntrySchema>;

/**
 * Hash an API key for the key file: `sha256:<hex>`. Throws `ConfigError` for keys shorter than
 * {@link API_KEY_MIN_LENGTH}, because a short key can be guessed whatever the hash.
 */
export function hashApiKey(key: string): string {
  if (key.length < API_KEY_MIN_LENGTH) {
    throw new ConfigError(`API keys must be at least ${API_KEY_MIN_LENGTH} characters long`);
  }
  return API_KEY_HASH_PREFIX + sha256(key).toString("hex");
}

/** A fresh random API key (256 bits of entropy) with the {@link GENERATED_API_KEY_PREFIX}. */
export function generateApiKey(): string {
  return GENERATED_API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

/**
 * Parse key file text. `source` names where it came from in error messages; the text itself is never echoed,
 * in case someone pasted a real key into it.
 */
export function parseApiKeys(text: string, source: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${source}: API keys are not valid JSON`, { cause });
  }
  if (Array.isArray((raw as { keys?: unknown } | null)?.keys)) {
    const keys = (raw as { keys: unknown[] }).keys;
    if (keys.some((entry) => typeof entry === "object" && entry !== null && "key" in entry)) {
      throw new ConfigError(
        `${source}: an entry holds a plain "key"; store only its hash (scripts/hash-api-key.mjs makes one)`,
      );
    }
  }
  const parsed = ApiKeyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const summary = parsed.error.issues
      .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new ConfigError(`${source}: invalid API keys: ${summary}`);
  }
  return parsed.data.keys;
}

/** Where {@link loadApiKeys} finds keys; both may be given and are merged. */
export interface ApiKeySources {
  /** Path of a key file (`SOORMA_API_KEYS_FILE`). */
  file?: string | undefined;
  /** Key file content given inline (`SOORMA_API_KEYS`). */
  inline?: string | undefined;
}

/** Read and validate every configured key; `ConfigError` on unreadable files, bad JSON or bad entries. */
export function loadApiKeys(sources: ApiKeySources): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  if (sources.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(sources.file, "utf8");
    } catch (cause) {
      throw new ConfigError(`cannot read API key file ${sources.file}`, { cause });
    }
    entries.push(...parseApiKeys(text, sources.file));
  }
  if (sources.inline !== undefined) entries.push(...parseApiKeys(sources.inline, "SOORMA_API_KEYS"));
  return entries;
}

/** Looks presented API keys up among the configured hashes. */
export interface ApiKeyStore {
  /** Number of configured keys. */
  readonly size: number;
  /**
   * The principal of `key`. Throws `AuthError` `SOORMA_ERR_UNAUTHENTICATED` (reason `invalid` or `expired`).
   * Takes the same time whichever entry matches, or none: see {@link createApiKeyStore}.
   */
  authenticate(key: string): Principal;
}

/** Options of {@link createApiKeyStore}. */
export interface ApiKeyStoreOptions {
  /** Clock, for expiry checks. @default Date.now */
  now?: () => number;
}

interface StoredKey {
  readonly digest: Buffer;
  readonly principal: Principal;
}

/**
 * Build the lookup over validated entries. Throws `ConfigError` when two entries share an id or a hash.
 *
 * The lookup hashes the presented key once and compares the digest with every stored digest using
 * `timingSafeEqual`, without stopping at a match: its timing reveals neither which entry matched nor how many
 * leading bytes of a guess were right.
 */
export function createApiKeyStore(
  entries: readonly ApiKeyEntry[],
  options: ApiKeyStoreOptions = {},
): ApiKeyStore {
  const now = options.now ?? Date.now;
  const stored = toStoredKeys(entries);
  return {
    size: stored.length,
    authenticate(key: string): Principal {
      if (key.length === 0 || key.length > API_KEY_MAX_LENGTH) {
        throw unauthenticated("invalid API key", "invalid");
      }
      const digest = sha256(key);
      let match: StoredKey | undefined;
      for (const candidate of stored) {
        const equal = timingSafeEqual(candidate.digest, digest);
        if (equal && match === undefined) match = candidate;
      }
      if (match === undefined) throw unauthenticated("invalid API key", "invalid");
      const { expiresAt } = match.principal;
      if (expiresAt !== undefined && expiresAt <= now()) throw unauthenticated("API key expired", "expired");
      return match.principal;
    },
  };
}

function toStoredKeys(entries: readonly ApiKeyEntry[]): StoredKey[] {
  const ids = new Set<string>();
  const hashes = new Set<string>();
  return entries.map((entry) => {
    const hash = entry.hash.toLowerCase();
    if (ids.has(entry.id)) throw new ConfigError(`API key id ${entry.id} appears twice`);
    if (hashes.has(hash)) throw new ConfigError(`API key ${entry.id} has the same hash as another key`);
    ids.add(entry.id);
    hashes.add(hash);
    const principal: Principal = {
      tenant: entry.tenant,
      subject: entry.id,
      role: entry.role,
      agentNames: entry.agent_names,
      publishTopics: entry.publish_topics,
      subscribeTopics: entry.subscribe_topics,
      credential: "api-key",
      ...(entry.expires_at === undefined ? {} : { expiresAt: Date.parse(entry.expires_at) }),
    };
    return {
      digest: Buffer.from(hash.slice(API_KEY_HASH_PREFIX.length), "hex"),
      principal: Object.freeze(principal),
    };
  });
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
