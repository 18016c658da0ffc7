import { ProtocolError } from "@soorma/common";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

/** Stands in for a JSON body that did not parse, until the request reaches `preValidation`. */
class UnparsableBody {
  constructor(readonly cause: unknown) {}
}

/**
 * JSON bodies with Fastify's own parser (prototype-poisoning protection included), except that a body that does
 * not parse becomes a `400 SOORMA_ERR_BAD_JSON` raised in `preValidation` instead of a parser error. Fastify
 * closes the connection after a parser error because the body might not have been read; a malformed JSON body
 * was read completely, so the client's keep-alive connection can stay open.
 */
export const jsonBodyPlugin = fp(
  async (app: FastifyInstance) => {
    const parse = app.getDefaultJsonParser("error", "ignore");
    app.removeContentTypeParser("application/json");
    app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
      parse(request, String(body), (error, value) => {
        if (error) done(null, new UnparsableBody(error));
        else done(null, value);
      });
    });
    app.addHook("preValidation", async (request) => {
      if (request.body instanceof UnparsableBody) {
        throw new ProtocolError("SOORMA_ERR_BAD_JSON", "the body is not valid JSON", {
          cause: request.body.cause,
        });
      }
    });
  },
  { name: "soorma-json-body", fastify: "5.x" },
);
