import {
  AgentNameSchema,
  BrokerUnavailableError,
  SoormaError,
  TopicNameSchema,
  ValidationError,
} from "@soorma/common";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { adminTenantScope } from "../auth/authorize.js";
import { PLATFORM_TENANT_PATTERN } from "../auth/principal.js";
import { authenticateRequest } from "../plugins/authenticate.js";

/** Body of `PUT /v1/admin/inboxes`. */
const ProvisionInboxBodySchema = z.object({
  /** Consumer group (the agent name) the inbox belongs to. */
  group: AgentNameSchema,
  /** Topic whose events the inbox keeps. */
  topic: TopicNameSchema,
  /** Platform tenant; platform admins may name any, admins only their own. @default the caller's tenant */
  tenant: z.string().regex(PLATFORM_TENANT_PATTERN).optional(),
});

/** Answer of `PUT /v1/admin/inboxes`. */
export interface ProvisionInboxResponse {
  success: true;
  inbox: { tenant: string; group: string; topic: string };
}

/**
 * `PUT /v1/admin/inboxes` with `{ group, topic, tenant? }`: create a consumer group's durable inbox for a topic
 * before any of its members has connected, so events published from now on are kept for it (store-and-forward
 * from the very first event). Idempotent. Needs the `admin` role (own tenant) or `platform-admin`.
 * Errors: 401/403 as the other admin routes, 422 for an invalid group (`SOORMA_ERR_AGENT_NAME_INVALID`), topic
 * (`SOORMA_ERR_TOPIC_INVALID`) or body (`SOORMA_ERR_FRAME_INVALID`), 503 when the broker is unavailable.
 */
export async function adminInboxRoutes(app: FastifyInstance): Promise<void> {
  app.put(
    "/v1/admin/inboxes",
    { onRequest: authenticateRequest },
    async (request): Promise<ProvisionInboxResponse> => {
      const parsed = ProvisionInboxBodySchema.safeParse(request.body);
      if (!parsed.success) throw invalidBody(parsed.error.issues);
      const { group, topic } = parsed.data;
      const principal = request.principal!;
      const tenant = adminTenantScope(principal, parsed.data.tenant) ?? principal.tenant;
      try {
        await app.broker.ensureInbox({ tenant, group, topic });
      } catch (error) {
        throw error instanceof SoormaError
          ? error
          : new BrokerUnavailableError("could not create the inbox", { cause: error });
      }
      request.log.info({ tenant, group, topic }, "inbox provisioned");
      return { success: true, inbox: { tenant, group, topic } };
    },
  );
}

/** The most specific code for a bad body, as the WebSocket frames have it. */
function invalidBody(issues: readonly z.core.$ZodIssue[]): SoormaError {
  const details = issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
  const fields = new Set(issues.map((issue) => String(issue.path[0])));
  if (fields.has("topic"))
    return new ValidationError("SOORMA_ERR_TOPIC_INVALID", "invalid topic", { details });
  if (fields.has("group"))
    return new ValidationError("SOORMA_ERR_AGENT_NAME_INVALID", "invalid group", { details });
  return new ValidationError("SOORMA_ERR_FRAME_INVALID", "the body is { group, topic, tenant? }", {
    details,
  });
}
