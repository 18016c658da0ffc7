import type { EventEnvelope } from "@soorma/common";
import { ValidationError } from "@soorma/common";
import type { InboxKey } from "../adapter.js";

// Tenants, groups and topics are validated names that never contain a newline, so it is a safe separator.
const SEPARATOR = "\n";

/** Map key of one inbox. */
export function inboxMapKey(key: InboxKey): string {
  return [key.tenant, key.topic, key.group].join(SEPARATOR);
}

/** Map key of every inbox an event on `topic` within `tenant` fans out to. */
export function topicMapKey(tenant: string, topic: string): string {
  return [tenant, topic].join(SEPARATOR);
}

/** Map key of a publish's idempotency id. */
export function dedupeMapKey(tenant: string, eventId: string): string {
  return [tenant, eventId].join(SEPARATOR);
}

/**
 * The platform tenant an event belongs to. The core always sets it; an event without one is a programming
 * error, refused rather than filed under a guessed tenant.
 */
export function tenantOf(event: EventEnvelope): string {
  const tenant = event.platform_tenant_id;
  if (typeof tenant !== "string" || tenant.length === 0) {
    throw new ValidationError(
      "SOORMA_ERR_ENVELOPE_INVALID",
      `event ${event.id} has no platform_tenant_id; the gateway must set it before publishing`,
    );
  }
  return tenant;
}

/** A copy of `key` holding only the three key fields, so callers cannot mutate what an adapter keeps. */
export function copyKey(key: InboxKey): InboxKey {
  return { tenant: key.tenant, group: key.group, topic: key.topic };
}
