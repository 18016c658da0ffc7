import type { EventBusClient } from "../../src/client/event-bus-client.js";
import type { ClientStatus } from "../../src/client/status.js";

/** Resolve when `client` reaches `status` (at once if it is there), or reject after `timeoutMs`. */
export function waitForStatus(client: EventBusClient, status: ClientStatus, timeoutMs = 5000): Promise<void> {
  if (client.status === status) return Promise.resolve();
  const error = new Error(`client did not reach status ${status} within ${timeoutMs} ms`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(error);
    }, timeoutMs);
    const off = client.onStatus((change) => {
      if (change.status !== status) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Poll `condition` every 10 ms until it holds; reject with `message` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, message: string, timeoutMs = 5000): Promise<void> {
  const error = new Error(`condition not met within ${timeoutMs} ms: ${message}`);
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) throw error;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
