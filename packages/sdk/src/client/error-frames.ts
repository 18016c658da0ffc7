import type { ErrorFrame, RemoteError } from "@soorma/common";
import { isTerminalError } from "./handshake.js";
import type { ResolvedClientOptions } from "./options.js";
import { authFailureReason, TERMINAL_ERROR_CODES } from "./remote-error.js";

/**
 * Decide what an `error` frame means for the client as a whole, once the request it answers (if any) was failed:
 * true when the client must close for good. A fatal frame that reconnecting can fix only gets logged, because the
 * gateway closes the socket after it and the reconnect loop takes over.
 *
 * @param welcomed whether the current connection got its `welcome`.
 */
export function errorFrameEndsClient(
  frame: ErrorFrame,
  error: RemoteError,
  welcomed: boolean,
  options: Pick<ResolvedClientOptions, "auth" | "logger">,
): boolean {
  const log = options.logger;
  // A frame answering a request is reported with that request.
  if (frame.req_id === undefined) {
    if (frame.delivery_id !== undefined) {
      log.debug("the gateway refused a settlement", { delivery_id: frame.delivery_id, error });
    } else if (!frame.fatal && !TERMINAL_ERROR_CODES.has(error.code)) {
      log.warn("error from the gateway", { error });
    }
  }
  // Before `welcome` a terminal code answers the hello itself, fatal flag or not: saying the same hello again
  // cannot succeed, so waiting for a welcome that never comes would only hide the cause.
  const refusesHello = !welcomed && frame.req_id === undefined && frame.delivery_id === undefined;
  if (isTerminalError(error, options.auth) && (frame.fatal || refusesHello)) return true;
  if (!frame.fatal) return false;
  if (authFailureReason(error) === "expired") {
    log.info("credentials expired; reconnecting with a fresh token", { code: error.code });
    return false;
  }
  // The gateway closes the socket after a fatal frame; the close handler reconnects.
  log.warn("fatal error from the gateway; reconnecting", { error });
  return false;
}
