import { type ClientFrameInput, PROTOCOL_VERSION, type SoormaError } from "@soorma/common";
import { SDK_CLIENT_NAME } from "../version.js";
import type { AuthOptions, ResolvedClientOptions } from "./options.js";
import { authFailureReason, isHelloTimeout, TERMINAL_ERROR_CODES } from "./remote-error.js";

/** The `hello` frame every connection of a client opens with. */
export function helloFrame(options: ResolvedClientOptions): ClientFrameInput {
  return {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    agent_id: options.agentId,
    prefetch: options.prefetch,
    client: SDK_CLIENT_NAME,
    ...(options.agentName === undefined ? {} : { agent_name: options.agentName }),
  };
}

/**
 * Headers of the WebSocket upgrade: the credentials as a bearer token, never in the URL. A `token` function is
 * called for every connection, so each one carries a fresh token.
 * @throws whatever the `token` function throws; the client retries the connection later.
 */
export async function upgradeHeaders(auth: AuthOptions | undefined): Promise<Record<string, string>> {
  const token = typeof auth?.token === "function" ? await auth.token() : (auth?.token ?? auth?.apiKey);
  return token === undefined || token === "" ? {} : { Authorization: `Bearer ${token}` };
}

/**
 * True when reconnecting cannot help, so the client must stop. Expired credentials are the exception when the
 * `token` option is a function: it is called again for the next connection and may return a fresh token. A
 * `hello` that came too late is retried too.
 */
export function isTerminalError(error: SoormaError, auth: AuthOptions | undefined): boolean {
  if (!TERMINAL_ERROR_CODES.has(error.code)) return false;
  if (isHelloTimeout(error)) return false;
  const refreshable = typeof auth?.token === "function";
  return !(refreshable && authFailureReason(error) === "expired");
}
