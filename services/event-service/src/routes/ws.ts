import { ProtocolError, SoormaError, WS_PATH } from "@soorma/common";
import type { FastifyInstance } from "fastify";
import type { RawData, WebSocket } from "ws";
import { startKeepalive } from "../core/keepalive.js";
import { sendError } from "../plugins/error-handler.js";

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

/** `GET /v1/events/ws`: one protocol session per WebSocket connection. */
export async function wsRoutes(app: FastifyInstance): Promise<void> {
  const gateway = app.soorma;
  app.route({
    method: "GET",
    url: WS_PATH,
    onRequest: async (_request, reply) => {
      if (gateway.isDraining) {
        return sendError(reply, new ProtocolError("SOORMA_ERR_DRAINING", "the server is shutting down"));
      }
      return undefined;
    },
    // A plain GET (no upgrade) gets the usual error body instead of an empty 404.
    handler: async (_request, reply) =>
      sendError(
        reply,
        new SoormaError("SOORMA_ERR_NOT_FOUND", `${WS_PATH} only accepts WebSocket upgrade requests`),
      ),
    wsHandler: (socket: WebSocket) => {
      const session = gateway.openSession({
        send: (text) => {
          if (socket.readyState === socket.OPEN) socket.send(text);
        },
        close: (code, reason) => {
          if (socket.readyState === socket.CLOSED) return;
          socket.close(code, reason);
          setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
        },
      });
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

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
