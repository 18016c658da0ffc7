import { EventBusClient } from "../../src/client/event-bus-client.js";
import type { EventBusClientOptions } from "../../src/client/options.js";
import { createConsoleLogger } from "../../src/logger.js";
import type { ScriptedPeer } from "./scripted-peer.js";

/**
 * A client for tests against a {@link ScriptedPeer}: silent, and reconnecting within milliseconds so
 * reconnect scenarios run fast. It is added to `track` so the test file's `afterEach` can close it.
 */
export function scriptedClient(
  peer: ScriptedPeer,
  options: EventBusClientOptions,
  track: EventBusClient[],
): EventBusClient {
  const client = new EventBusClient({
    url: peer.url,
    logger: createConsoleLogger("silent"),
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  track.push(client);
  return client;
}
