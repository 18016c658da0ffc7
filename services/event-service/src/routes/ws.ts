import { ProtocolError, SoormaError, WS_PATH } from "@soorma/common";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RawData, WebSocket } from "ws";
import { startKeepalive } from "../core/keepalive.js";
import type { SessionTransport } from "../core/session.js";
import { markUnauthenticated } from "../plugins/authenticate.js";
import { sendError, toSoormaError } from "../plugins/error-handler.js";

/** After a close frame, how long a peer has to answer before its socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * Largest frame the WebSocket layer reads. It is above `maxMessageBytes` on purpose: a frame between the two is
 * read, answered with an `error` frame `SOORMA_ERR_MESSAGE_TOO_LARGE` and the connection stays open. Only
 * frames above this hard cap make `ws` close the connection with code 1009 (Message Too Big).
 */
export function wsMaxPayloadBytes(maxMessageBytes: number): number {
  return maxMessageBytes + Math.max(64 * 1024, maxMessageBytes);
}

/**
 * `GET /v1/events/ws`: one protocol session per WebSocket connection.
 *
 * Credentials in the upgrade's `Authorization` header are checked before upgrading: a bad one is answered with
 * HTTP 401 and no socket is opened. Without the header the upgrade proceeds and the `hello` must carry
 * credentials (in open mode nobody needs any). The URL, query string included, is never read for credentials.
 */
export async function wsRoutes(app: FastifyInstance): Promise<void> {
  const gateway = app.soorma;
  app.route({
    method: "GET",
    url: WS_PATH,
    onRequest: async (request, reply) => {
      if (gateway.isDraining) {
        return sendError(reply, new ProtocolError("SOORMA_ERR_DRAINING", "the server is shutting down"));
      }
      return authenticateUpgrade(request, reply);
    },
    // A plain GET (no upgrade) gets the usual error body instead of an empty 404.
    handler: async (_request, reply) =>
      sendError(
        reply,
        new SoormaError("SOORMA_ERR_NOT_FOUND", `${WS_PATH} only accepts WebSocket upgrade requests`),
      ),
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const session = gateway.openSession(transportOf(socket), request.principal ?? undefined);
      const stopKeepalive = startKeepalive(socket, gateway.config.pingIntervalMs);
      socket.on("message", (data: RawData) => {
        const bytes = toBuffer(data);
        session.receive(bytes.toString("utf8"), bytes.byteLength);
      });
      socket.on("close", () => {
        stopKeepalive();
        gateway.closeSession(session);
      });
    },
  });
}

/**
 * Authenticate the upgrade when it can be: with an `Authorization` header, or in open mode (where everybody is
 * the dev principal). Answers 401 (or 500 when token keys cannot be fetched) instead of upgrading on failure.
 */
async function authenticateUpgrade(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const { authenticator } = request.server.soorma;
  const header = request.headers.authorization;
  if (authenticator.mode === "secured" && header === undefined) return undefined;
  try {
    request.principal = await authenticator.authenticate({ authorizationHeader: header });
    return undefined;
  } catch (error) {
    const soorma = toSoormaError(error);
    if (soorma.code !== "SOORMA_ERR_UNAUTHENTICATED") {
      request.log.warn({ err: error }, "could not check the credentials of a WebSocket upgrade");
    }
    markUnauthenticated(reply, soorma);
    return sendError(reply, soorma);
  }
}

function transportOf(socket: WebSocket): SessionTransport {
  return {
    send: (text) => {
      if (socket.readyState === socket.OPEN) socket.send(text);
    },
    close: (code, reason) => {
      if (socket.readyState === socket.CLOSED) return;
      socket.close(code, reason);
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    },
    get bufferedBytes() {
      return socket.bufferedAmount;
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
