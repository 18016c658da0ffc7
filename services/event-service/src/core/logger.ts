/**
 * The structured logger the dispatch core writes to. pino (and so Fastify's `app.log`) fits as is; the core
 * does not import pino so that it can run under any logger.
 */
export interface CoreLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** A logger that drops everything, for unit tests of the core. */
export const silentLogger: CoreLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
