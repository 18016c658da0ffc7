import { createHash } from "node:crypto";
import type { InboxKey } from "../adapter.js";

/**
 * Durable consumer names and descriptions of inboxes.
 *
 * A durable name must be one NATS token without `.`, `*`, `>`, whitespace or path separators, and the server
 * keeps it as a directory name, so it must stay well under file-name limits. Tenants, groups and topics only use
 * `[A-Za-z0-9_-]`, but together they can reach 250+ characters and `_` inside them makes a plain join ambiguous.
 * The name is therefore a readable head (cut to {@link READABLE_HEAD_LENGTH}) plus a hash of the exact key:
 * deterministic, so every gateway replica finds the same consumer, and unique per key.
 */

const READABLE_HEAD_LENGTH = 80;
const HASH_LENGTH = 16;
const DESCRIPTION_PREFIX = "soorma-inbox ";

/** The durable consumer name of an inbox. At most 97 characters. */
export function durableName(key: InboxKey): string {
  const readable = `${key.tenant}_${key.group}_${key.topic}`.slice(0, READABLE_HEAD_LENGTH);
  const hash = createHash("sha256")
    .update(`${key.tenant}\n${key.group}\n${key.topic}`)
    .digest("hex")
    .slice(0, HASH_LENGTH);
  return `${readable}_${hash}`;
}

/**
 * The consumer description: marks the consumer as a Soorma inbox and keeps its exact key, because the server
 * this adapter targets (2.9) has no consumer metadata and the durable name is hashed.
 */
export function inboxDescription(key: InboxKey): string {
  return `${DESCRIPTION_PREFIX}${JSON.stringify({ tenant: key.tenant, group: key.group, topic: key.topic })}`;
}

/** The inbox key kept in a consumer description, or `undefined` for consumers that are not Soorma inboxes. */
export function parseInboxDescription(description: string | undefined): InboxKey | undefined {
  if (description === undefined || !description.startsWith(DESCRIPTION_PREFIX)) return undefined;
  try {
    const value: unknown = JSON.parse(description.slice(DESCRIPTION_PREFIX.length));
    if (typeof value !== "object" || value === null) return undefined;
    const { tenant, group, topic } = value as Record<string, unknown>;
    if (typeof tenant !== "string" || typeof group !== "string" || typeof topic !== "string")
      return undefined;
    return { tenant, group, topic };
  } catch {
    return undefined;
  }
}
