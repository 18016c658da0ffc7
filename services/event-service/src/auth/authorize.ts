import { forbidden } from "./auth-errors.js";
import { matchesAllowList, type Principal } from "./principal.js";

/*
 * Access checks. Tenancy is not checked here: the gateway scopes every publish, inbox and admin query to
 * `principal.tenant`, so a principal cannot even name another tenant's topics. These checks narrow what a
 * principal may do inside its own tenant.
 */

/** True when the principal may publish events on `topic`. */
export function canPublish(principal: Principal, topic: string): boolean {
  return matchesAllowList(principal.publishTopics, topic);
}

/** True when the principal may subscribe to `topic`. */
export function canSubscribe(principal: Principal, topic: string): boolean {
  return matchesAllowList(principal.subscribeTopics, topic);
}

/**
 * True when the principal may join consumer group `group` (the `hello`'s `agent_name`, else its `agent_id`).
 * Checking the group, not only the name, matters: joining another agent's group would hand over its events.
 */
export function canUseAgentName(principal: Principal, group: string): boolean {
  return matchesAllowList(principal.agentNames, group);
}

/**
 * True when the principal may use the admin API for `tenant` (its own tenant when omitted). `admin` is limited
 * to its own tenant; `platform-admin` may look at any tenant, or all at once.
 */
export function canAdmin(principal: Principal, tenant?: string): boolean {
  if (principal.role === "platform-admin") return true;
  return principal.role === "admin" && (tenant === undefined || tenant === principal.tenant);
}

/** Throw `AuthError` `SOORMA_ERR_FORBIDDEN` unless {@link canPublish}. */
export function assertCanPublish(principal: Principal, topic: string): void {
  if (!canPublish(principal, topic)) throw forbidden(`not allowed to publish to ${topic}`, { topic });
}

/** Throw `AuthError` `SOORMA_ERR_FORBIDDEN` unless {@link canSubscribe}. */
export function assertCanSubscribe(principal: Principal, topic: string): void {
  if (!canSubscribe(principal, topic)) throw forbidden(`not allowed to subscribe to ${topic}`, { topic });
}

/** Throw `AuthError` `SOORMA_ERR_FORBIDDEN` unless {@link canUseAgentName}. */
export function assertCanUseAgentName(principal: Principal, group: string): void {
  if (!canUseAgentName(principal, group)) {
    throw forbidden(`not allowed to act as agent ${group}`, { agent_name: group });
  }
}

/**
 * The tenant filter for an admin query: the caller's tenant for `admin`; for `platform-admin` the requested
 * tenant, or `undefined` meaning every tenant. Throws `AuthError` `SOORMA_ERR_FORBIDDEN` for `agent`s and for
 * an `admin` asking about another tenant.
 */
export function adminTenantScope(principal: Principal, requestedTenant?: string): string | undefined {
  if (!canAdmin(principal, requestedTenant)) {
    throw forbidden(
      principal.role === "agent"
        ? "the admin API needs the admin role"
        : "admins see only their own tenant; platform-admin sees others",
    );
  }
  return principal.role === "platform-admin" ? requestedTenant : principal.tenant;
}
