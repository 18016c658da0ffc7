import type { EventEnvelope } from "@soorma/common";
import type { Principal } from "./principal.js";

/**
 * The event as it will be stored: `platform_tenant_id` set from the caller's credentials, replacing whatever
 * the client wrote there. `tenant_id` and `user_id` belong to the application and pass through unverified.
 */
export function stampPlatformTenant(
  event: EventEnvelope,
  principal: Pick<Principal, "tenant">,
): EventEnvelope {
  return { ...event, platform_tenant_id: principal.tenant };
}

/**
 * True when a stored event may be delivered to a member of `tenant`. Inboxes are already per tenant; checking
 * again right before the socket write means a bug in an adapter's namespacing drops an event instead of
 * leaking it to another tenant.
 */
export function belongsToTenant(event: Pick<EventEnvelope, "platform_tenant_id">, tenant: string): boolean {
  return event.platform_tenant_id === tenant;
}
