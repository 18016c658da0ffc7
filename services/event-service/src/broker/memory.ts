import type { EventEnvelope } from "@soorma/common";
import { BrokerUnavailableError } from "@soorma/common";
import type {
  AdapterCapabilities,
  AdapterStatus,
  BrokerAdapter,
  BrokerMessage,
  InboxConsumer,
  InboxKey,
  InboxStats,
  OpenInboxOptions,
  PublishReceipt,
} from "./adapter.js";
import { DEFAULT_DEDUPE_WINDOW_MS } from "./local/defaults.js";
import { copyKey, dedupeMapKey, inboxMapKey, tenantOf, topicMapKey } from "./local/keys.js";
import { createLeasedMessage } from "./local/leased-message.js";
import { LocalLifecycle } from "./local/lifecycle.js";
import { MemoryInbox } from "./local/memory-inbox.js";
import { pullWithWait } from "./local/pull-wait.js";

/** Options of {@link createMemoryAdapter}. */
export interface MemoryAdapterOptions {
  /**
   * How long a published event id is remembered per tenant; a second publish of the same id within this window
   * resolves with `duplicate: true` and stores nothing.
   * @default 120000
   */
  readonly dedupeWindowMs?: number;
}

const MEMORY_CAPABILITIES: AdapterCapabilities = Object.freeze({
  durable: false,
  multiReplica: false,
  survivesBrokerRestart: false,
  durableDedupe: false,
});

/**
 * An adapter that keeps events and inboxes in this process's memory: the full delivery contract (fan-out,
 * leases, redelivery, dedupe, waiting pulls) while the process lives, nothing after it exits. Meant for tests,
 * demos and development; see docs/adapters/memory.md.
 */
export function createMemoryAdapter(options: MemoryAdapterOptions = {}): BrokerAdapter {
  const dedupeWindowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const lifecycle = new LocalLifecycle("memory");
  const inboxes = new Map<string, MemoryInbox>();
  const inboxesByTopic = new Map<string, MemoryInbox[]>();
  // Insertion order is expiry order (the window is constant), so expired ids are pruned from the front.
  const recentIds = new Map<string, number>();
  let nextSeq = 1;
  let closePromise: Promise<void> | undefined;

  function pruneRecentIds(now: number): void {
    for (const [id, expiresAt] of recentIds) {
      if (expiresAt > now) return;
      recentIds.delete(id);
    }
  }

  function ensure(key: InboxKey): MemoryInbox {
    const id = inboxMapKey(key);
    let inbox = inboxes.get(id);
    if (inbox === undefined) {
      inbox = new MemoryInbox(copyKey(key));
      inboxes.set(id, inbox);
      const byTopic = topicMapKey(key.tenant, key.topic);
      const siblings = inboxesByTopic.get(byTopic);
      if (siblings === undefined) inboxesByTopic.set(byTopic, [inbox]);
      else siblings.push(inbox);
    }
    return inbox;
  }

  function openConsumer(inbox: MemoryInbox, openOptions: OpenInboxOptions): InboxConsumer {
    const leaseMs = openOptions.leaseMs;
    const stop = new AbortController();
    const stopOnAdapterClose = (): void => stop.abort();
    lifecycle.signal.addEventListener("abort", stopOnAdapterClose, { once: true });

    function toBrokerMessages(now: number, max: number) {
      const attempt = inbox.lease(max, leaseMs, now);
      const messages: BrokerMessage[] = attempt.messages.map((lease) =>
        createLeasedMessage(JSON.parse(lease.message.body) as EventEnvelope, lease.attempt, {
          ack: () => {
            lifecycle.assertReady();
            inbox.ack(lease);
          },
          nack: (delayMs) => {
            lifecycle.assertReady();
            inbox.nack(lease, delayMs, Date.now());
          },
          touch: () => {
            lifecycle.assertReady();
            inbox.touch(lease, leaseMs, Date.now());
          },
        }),
      );
      return { messages, nextVisibleAt: attempt.nextVisibleAt };
    }

    return {
      key: inbox.key,
      async pull(max, pullOptions) {
        lifecycle.assertReady();
        if (stop.signal.aborted) throw new BrokerUnavailableError("inbox consumer is closed");
        if (max <= 0) return [];
        return pullWithWait(
          () => toBrokerMessages(Date.now(), max),
          inbox.notifier,
          pullOptions,
          stop.signal,
        );
      },
      async close() {
        lifecycle.signal.removeEventListener("abort", stopOnAdapterClose);
        stop.abort();
      },
    };
  }

  const adapter: BrokerAdapter = {
    kind: "memory",
    capabilities: MEMORY_CAPABILITIES,

    async connect() {
      lifecycle.assertNotClosed();
      lifecycle.markReady();
    },

    close() {
      closePromise ??= (async () => {
        lifecycle.markClosed();
        for (const inbox of inboxes.values()) inbox.clear();
        inboxes.clear();
        inboxesByTopic.clear();
        recentIds.clear();
      })();
      return closePromise;
    },

    status(): AdapterStatus {
      return lifecycle.status;
    },

    async publish(event: EventEnvelope): Promise<PublishReceipt> {
      lifecycle.assertReady();
      const tenant = tenantOf(event);
      const now = Date.now();
      pruneRecentIds(now);
      const idKey = dedupeMapKey(tenant, event.id);
      if (recentIds.has(idKey)) return { eventId: event.id, duplicate: true };
      recentIds.set(idKey, now + dedupeWindowMs);
      const seq = nextSeq++;
      // Stored as JSON, like the SQLite adapter: later changes to the caller's object do not reach consumers.
      const body = JSON.stringify(event);
      for (const inbox of inboxesByTopic.get(topicMapKey(tenant, event.topic)) ?? []) {
        inbox.deliver(seq, body, now);
      }
      return { eventId: event.id, duplicate: false };
    },

    async ensureInbox(key: InboxKey) {
      lifecycle.assertReady();
      ensure(key);
    },

    async openInbox(key: InboxKey, openOptions: OpenInboxOptions) {
      lifecycle.assertReady();
      return openConsumer(ensure(key), openOptions);
    },

    async listInboxes(tenant?: string): Promise<InboxStats[]> {
      lifecycle.assertReady();
      const stats: InboxStats[] = [];
      for (const inbox of inboxes.values()) {
        if (tenant === undefined || inbox.key.tenant === tenant) {
          stats.push({ key: inbox.key, pending: inbox.pending });
        }
      }
      return stats;
    },

    [Symbol.asyncDispose]() {
      return adapter.close();
    },
  };
  return adapter;
}
