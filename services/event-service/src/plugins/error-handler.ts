import { type ErrorCode, SoormaError } from "@soorma/common";
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import fp from "fastify-plugin";

/** The body of every HTTP error response. */
export interface ErrorBody {
  readonly success: false;
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly details?: unknown };
}

/** The HTTP error body of `error`. */
export function errorBody(error: SoormaError): ErrorBody {
  return {
    success: false,
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/** Answer `reply` with `error`'s status and body. */
export function sendError(reply: FastifyReply, error: SoormaError): FastifyReply {
  return reply.code(error.statusCode).send(errorBody(error));
}

/** Fastify's own errors, mapped to the stable Soorma codes clients branch on. */
const FASTIFY_CODES: Readonly<Record<string, { code: ErrorCode; message?: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "SOORMA_ERR_MESSAGE_TOO_LARGE" },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "SOORMA_ERR_BAD_JSON", message: "the body is not valid JSON" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: "SOORMA_ERR_BAD_JSON", message: "the JSON body is empty" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "SOORMA_ERR_BAD_JSON",
    message: "the body must be JSON (content-type: application/json)",
  },
  FST_ERR_BAD_URL: { code: "SOORMA_ERR_NOT_FOUND", message: "malformed URL" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: "SOORMA_ERR_BAD_JSON",
    message: "content-length does not match the body",
  },
};

/** Turn anything a route or Fastify threw into a SoormaError. Unknown errors become `SOORMA_ERR_INTERNAL`. */
export function toSoormaError(error: unknown): SoormaError {
  if (error instanceof SoormaError) return error;
  const fastifyError = error as Partial<FastifyError>;
  const known = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (known !== undefined) {
    return new SoormaError(known.code, known.message ?? fastifyError.message ?? known.code, { cause: error });
  }
  if (fastifyError.statusCode === 404) {
    return new SoormaError("SOORMA_ERR_NOT_FOUND", "no such route", { cause: error });
  }
  if (fastifyError.statusCode === 400 && error instanceof SyntaxError) {
    return new SoormaError("SOORMA_ERR_BAD_JSON", "the body is not valid JSON", { cause: error });
  }
  return new SoormaError("SOORMA_ERR_INTERNAL", "internal server error; the request may be retried", {
    cause: error,
  });
}

/**
 * One error shape for every HTTP response: `{ success: false, error: { code, message, details? } }` with the
 * code's status; unknown routes are `404 SOORMA_ERR_NOT_FOUND`.
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error, request, reply) => {
      const soorma = toSoormaError(error);
      if (soorma.statusCode >= 500 && soorma.code === "SOORMA_ERR_INTERNAL") {
        request.log.error({ err: error }, "request failed");
      }
      return sendError(reply, soorma);
    });
    app.setNotFoundHandler((request, reply) =>
      sendError(
        reply,
        new SoormaError("SOORMA_ERR_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`),
      ),
    );
  },
  { name: "soorma-error-handler", fastify: "5.x" },
);
