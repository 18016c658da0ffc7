import { ConfigError, DEFAULT_SERVICE_URL, WS_PATH } from "@soorma/common";

/** Environment variable naming the gateway URL (shared with the Python SDK). */
export const SERVICE_URL_ENV = "SOORMA_EVENT_SERVICE_URL";

/**
 * Turn a user-given service URL into the WebSocket endpoint URL.
 *
 * - `http://` and `https://` become `ws://` and `wss://`, so the same variable serves HTTP and WebSocket clients;
 * - a URL without a path (or just `/`) gets `/v1/events/ws` appended; a URL with a path is kept as given, which
 *   lets a reverse proxy mount the gateway elsewhere.
 *
 * @throws ConfigError when the URL cannot be parsed or uses another scheme.
 */
export function normaliseServiceUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch (cause) {
    throw new ConfigError(`invalid event service URL ${JSON.stringify(input)}`, { cause });
  }
  const schemes: Record<string, string> = { "ws:": "ws:", "wss:": "wss:", "http:": "ws:", "https:": "wss:" };
  const scheme = schemes[url.protocol];
  if (scheme === undefined) {
    throw new ConfigError(
      `event service URL must use ws, wss, http or https, got ${JSON.stringify(url.protocol)}`,
    );
  }
  url.protocol = scheme;
  if (url.pathname === "" || url.pathname === "/") url.pathname = WS_PATH;
  url.hash = "";
  return url.href;
}

/** The URL the client uses: the option, else `SOORMA_EVENT_SERVICE_URL`, else `ws://127.0.0.1:8082`. */
export function resolveServiceUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = option ?? (env[SERVICE_URL_ENV] || undefined) ?? DEFAULT_SERVICE_URL;
  return normaliseServiceUrl(raw);
}
