import { SoormaError } from "@soorma/common";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Principal } from "../auth/principal.js";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * Who sent the request, once a route's `authenticate` hook ran (`null` before, and on the WebSocket route
     * when the upgrade carried no credentials: its `hello` must then carry them).
     */
    principal: Principal | null;
  }
}

/** Sent with every 401, as RFC 6750 asks of bearer-token endpoints. */
const WWW_AUTHENTICATE = 'Bearer realm="soorma"';

/**
 * Decorates every request with `principal` (initially `null`). Routes that need a caller add
 * {@link authenticateRequest} as their `onRequest` hook.
 */
export const authenticatePlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest("principal", null);
  },
  { name: "soorma-authenticate", fastify: "5.x", dependencies: ["soorma-broker"] },
);

/**
 * `onRequest` hook of HTTP routes (before the body is read, so nobody gets a body parsed before proving who
 * they are): authenticate the `Authorization` header, the only place credentials are read from (a key in the
 * query string is ignored), and set `request.principal`. In open mode every caller is the dev principal.
 * Failures become `401 SOORMA_ERR_UNAUTHENTICATED` with a `WWW-Authenticate` header.
 */
export async function authenticateRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    request.principal = await request.server.soorma.authenticator.authenticate({
      authorizationHeader: request.headers.authorization,
    });
  } catch (error) {
    markUnauthenticated(reply, error);
    throw error;
  }
}

/** Add the `WWW-Authenticate` header when `error` is an authentication failure. */
export function markUnauthenticated(reply: FastifyReply, error: unknown): void {
  if (error instanceof SoormaError && error.code === "SOORMA_ERR_UNAUTHENTICATED") {
    reply.header("www-authenticate", WWW_AUTHENTICATE);
  }
}
