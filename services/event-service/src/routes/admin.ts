import { BrokerUnavailableError, SoormaError } from "@soorma/common";
import type { FastifyInstance } from "fastify";
import { adminTenantScope } from "../auth/authorize.js";
import { PLATFORM_TENANT_PATTERN } from "../auth/principal.js";
import type { InboxStats } from "../broker/adapter.js";
import { authenticateRequest } from "../plugins/authenticate.js";

/** One consumer group in `GET /v1/admin/groups`. */
export interface AdminGroup {
  tenant: string;
  group: string;
  /** Members connected to this gateway process. */
  members: Array<{
    agent_id: string;
    connection_id: string;
    prefetch: number;
    in_flight: number;
    topics: string[];
  }>;
  /** The group's inboxes; `pending` is `null` when the broker cannot tell. */
  topics: Array<{ topic: string; pending: number | null }>;
}

/** Query string of the admin routes. */
interface AdminQuery {
  /** Platform tenant to show (platform admins only; admins may name only their own). */
  tenant?: unknown;
}

/**
 * `GET /v1/admin/groups[?tenant=T]`: every consumer group known to the broker (its inboxes and pending counts)
 * merged with the members connected to this process. Needs the `admin` role, which sees its own tenant only,
 * or `platform-admin`, which sees every tenant or the one named by `tenant`. Errors: 401 without valid
 * credentials, 403 for agents and for admins naming another tenant, 404 for a malformed tenant name.
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: AdminQuery }>(
    "/v1/admin/groups",
    { onRequest: authenticateRequest },
    async (request) => {
      const requested = request.query.tenant;
      const scope = adminTenantScope(
        request.principal!,
        requested === undefined ? undefined : String(requested),
      );
      if (
        requested !== undefined &&
        (typeof requested !== "string" || !PLATFORM_TENANT_PATTERN.test(requested))
      ) {
        throw new SoormaError("SOORMA_ERR_NOT_FOUND", "no platform tenant has that name", {
          details: { rule: PLATFORM_TENANT_PATTERN.source },
        });
      }
      let inboxes: InboxStats[];
      try {
        inboxes = await app.broker.listInboxes(scope);
      } catch (error) {
        throw error instanceof SoormaError
          ? error
          : new BrokerUnavailableError("could not list the inboxes", { cause: error });
      }
      const groups = new Map<string, AdminGroup>();
      const groupOf = (tenant: string, group: string): AdminGroup => {
        const id = `${tenant}\u0000${group}`;
        let entry = groups.get(id);
        if (entry === undefined) {
          entry = { tenant, group, members: [], topics: [] };
          groups.set(id, entry);
        }
        return entry;
      };
      // Filtered here too: the admin view must not depend on every adapter honouring the tenant argument.
      for (const inbox of inboxes.filter((i) => scope === undefined || i.key.tenant === scope)) {
        groupOf(inbox.key.tenant, inbox.key.group).topics.push({
          topic: inbox.key.topic,
          pending: inbox.pending ?? null,
        });
      }
      const liveGroups = app.dispatcher
        .snapshot()
        .filter((group) => scope === undefined || group.tenant === scope);
      for (const live of liveGroups) {
        const entry = groupOf(live.tenant, live.group);
        entry.members = live.members.map((member) => ({
          agent_id: member.agentId,
          connection_id: member.connectionId,
          prefetch: member.prefetch,
          in_flight: member.inFlight,
          topics: member.topics,
        }));
        for (const topic of live.topics) {
          if (!entry.topics.some((t) => t.topic === topic)) entry.topics.push({ topic, pending: null });
        }
      }
      const sorted = [...groups.values()].sort(
        (a, b) => a.tenant.localeCompare(b.tenant) || a.group.localeCompare(b.group),
      );
      for (const group of sorted) group.topics.sort((a, b) => a.topic.localeCompare(b.topic));
      return { groups: sorted };
    },
  );
}
