import { BrokerUnavailableError, SoormaError } from "@soorma/common";
import type { FastifyInstance } from "fastify";
import type { InboxStats } from "../broker/adapter.js";

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

/**
 * `GET /v1/admin/groups`: every consumer group known to the broker (its inboxes and pending counts) merged with
 * the members connected to this process.
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.get("/v1/admin/groups", async () => {
    let inboxes: InboxStats[];
    try {
      inboxes = await app.broker.listInboxes();
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
    for (const inbox of inboxes) {
      groupOf(inbox.key.tenant, inbox.key.group).topics.push({
        topic: inbox.key.topic,
        pending: inbox.pending ?? null,
      });
    }
    for (const live of app.dispatcher.snapshot()) {
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
  });
}
