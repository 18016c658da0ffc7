import { ProtocolError, SoormaError } from "@soorma/common";
import type { FastifyInstance } from "fastify";
import { errorBody } from "../plugins/error-handler.js";

/**
 * `GET /health` (liveness: the process answers) and `GET /ready` (readiness: the broker is connected and the
 * gateway is not draining). `/ready` answers 503 with the usual error body plus the broker state otherwise.
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get("/health", async () => ({ status: "ok" }));

  app.get("/ready", async (_request, reply) => {
    const broker = { kind: app.broker.kind, state: app.broker.status().state };
    if (app.soorma.isDraining) {
      const error = new ProtocolError("SOORMA_ERR_DRAINING", "the server is shutting down");
      return reply.code(503).send({ status: "draining", broker, ...errorBody(error) });
    }
    if (broker.state !== "ready") {
      const error = new SoormaError("SOORMA_ERR_BROKER_UNAVAILABLE", `the broker is ${broker.state}`);
      return reply.code(503).send({ status: "unavailable", broker, ...errorBody(error) });
    }
    return { status: "ready", broker };
  });
}
