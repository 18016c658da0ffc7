import type { FastifyInstance } from "fastify";
import { assertCanPublish } from "../auth/authorize.js";
import { parsePublishBody } from "../core/envelope-validation.js";
import { authenticateRequest } from "../plugins/authenticate.js";

/** Body of a successful `POST /v1/events/publish`. */
export interface PublishResponse {
  readonly success: true;
  readonly event_id: string;
  /** True when the id was already stored (an idempotent retry); it was not stored twice. */
  readonly duplicate: boolean;
}

/**
 * `POST /v1/events/publish` with `{ "event": EventEnvelopeInput }` and the caller's credentials in the
 * `Authorization` header: answers 200 once the broker stored the event in the caller's platform tenant (a
 * `platform_tenant_id` in the body is overwritten). Errors: 400 bad JSON, 401 no or bad credentials, 403 topic
 * not allowed, 413 too large, 422 invalid envelope or topic, 503 broker unavailable or draining.
 */
export async function publishRoutes(app: FastifyInstance): Promise<void> {
  app.post(
    "/v1/events/publish",
    { onRequest: authenticateRequest },
    async (request): Promise<PublishResponse> => {
      const principal = request.principal!;
      const event = parsePublishBody(request.body);
      assertCanPublish(principal, event.topic);
      const receipt = await app.soorma.publish(event, principal.tenant);
      return { success: true, event_id: receipt.eventId, duplicate: receipt.duplicate };
    },
  );
}
