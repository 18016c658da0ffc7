import type { FastifyInstance } from "fastify";
import { parsePublishBody } from "../core/envelope-validation.js";

/** Body of a successful `POST /v1/events/publish`. */
export interface PublishResponse {
  readonly success: true;
  readonly event_id: string;
  /** True when the id was already stored (an idempotent retry); it was not stored twice. */
  readonly duplicate: boolean;
}

/**
 * `POST /v1/events/publish` with `{ "event": EventEnvelopeInput }`: answers 200 once the broker stored the
 * event. Errors: 400 bad JSON, 413 too large, 422 invalid envelope or topic, 503 broker unavailable or draining.
 */
export async function publishRoutes(app: FastifyInstance): Promise<void> {
  app.post("/v1/events/publish", async (request): Promise<PublishResponse> => {
    const event = parsePublishBody(request.body);
    const receipt = await app.soorma.publish(event, app.soorma.config.defaultTenant);
    return { success: true, event_id: receipt.eventId, duplicate: receipt.duplicate };
  });
}
