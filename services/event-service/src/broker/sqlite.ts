import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { EventEnvelope } from "@soorma/common";
import { BrokerUnavailableError, SoormaError } from "@soorma/common";
import Database from "better-sqlite3";
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
import { copyKey, inboxMapKey, tenantOf } from "./local/keys.js";
import { createLeasedMessage } from "./local/leased-message.js";
import { LocalLifecycle } from "./local/lifecycle.js";
import { pullWithWait } from "./local/pull-wait.js";
import { migrate } from "./local/sqlite-schema.js";
import { SqliteStore } from "./local/sqlite-store.js";
import { WakeNotifier } from "./local/wake-notifier.js";

/** File name of the database inside the gateway's data directory. */
export const SQLITE_FILE_NAME = "events.db";

/** How SQLite syncs commits to disk; see docs/adapters/sqlite.md. */
export type SqliteSynchronous = "normal" | "full";

/** Options of {@link createSqliteAdapter}. */
export interface SqliteAdapterOptions {
  /**
   * Database file. Its directory is created when missing. The gateway uses `<dataDir>/events.db`
   * ({@link SQLITE_FILE_NAME}). SQLite adds `-wal` and `-shm` files next to it.
   */
  readonly path: string;
  /**
   * How long a published event id is remembered per tenant; a second publish of the same id within this window
   * resolves with `duplicate: true` and stores nothing.
   * @default 120000
   */
  readonly dedupeWindowMs?: number;
  /**
   * `"normal"`: a confirmed publish survives the gateway process dying (even `kill -9`) but the last commits
   * may be lost if the machine loses power. `"full"`: it also survives power loss, at the cost of an fsync per
   * commit.
   * @default "normal"
   */
  readonly synchronous?: SqliteSynchronous;
  /**
   * How long a statement waits for a lock held by another connection to the same file before failing.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * How often expired dedupe keys are deleted.
   * @default 30000
   */
  readonly housekeepingIntervalMs?: number;
}

const SQLITE_CAPABILITIES: AdapterCapabilities = Object.freeze({
  durable: true,
  multiReplica: false,
  // There is no separate broker to restart: the store lives in the gateway process, and surviving a restart of
  // that process is what `durable` promises (and the conformance suite's restart section checks).
  survivesBrokerRestart: false,
  durableDedupe: true,
});

/**
 * The default adapter: events and inboxes in one SQLite file (WAL mode) embedded in the gateway process, so a
 * single node needs nothing else to run. A publish resolves after its transaction committed. One gateway
 * process per file; see docs/adapters/sqlite.md.
 */
export function createSqliteAdapter(options: SqliteAdapterOptions): BrokerAdapter {
  const dedupeWindowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const synchronous = options.synchronous ?? "normal";
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const housekeepingIntervalMs = options.housekeepingIntervalMs ?? 30_000;
  const lifecycle = new LocalLifecycle("sqlite");
  // Inboxes are never deleted, so their ids can be cached for the life of the connection.
  const inboxIds = new Map<string, number>();
  // Wakers of inboxes that have a consumer in this process, by inbox id.
  const notifiers = new Map<number, WakeNotifier>();
  let store: SqliteStore | undefined;
  let housekeeping: NodeJS.Timeout | undefined;
  let purging = false;
  let connectPromise: Promise<void> | undefined;
  let closePromise: Promise<void> | undefined;

  /** Run a store operation, turning any failure that is not already a Soorma error into BrokerUnavailableError. */
  function withStore<T>(what: string, operation: (current: SqliteStore) => T): T {
    lifecycle.assertReady();
    try {
      return operation(store as SqliteStore);
    } catch (error) {
      if (error instanceof SoormaError) throw error;
      throw new BrokerUnavailableError(`sqlite ${what} failed: ${messageOf(error)}`, { cause: error });
    }
  }

  function open(): void {
    mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path, { timeout: busyTimeoutMs });
    try {
      // WAL: readers never block the writer, and a commit is one append to the log.
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal" && !db.memory) throw new Error(`could not switch to WAL (journal_mode is ${mode})`);
      db.pragma(`synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
      migrate(db);
      store = new SqliteStore(db, dedupeWindowMs);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Delete expired dedupe keys a batch at a time, yielding between batches so pulls and publishes interleave. */
  async function purgeExpiredIds(): Promise<void> {
    if (purging) return;
    purging = true;
    try {
      while (
        lifecycle.status.state === "ready" &&
        withStore("housekeeping", (s) => s.purgeExpiredIds(Date.now()))
      ) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch {
      // Best effort: the next run retries, and a failing database shows up in publish and pull errors.
    } finally {
      purging = false;
    }
  }

  async function connectOnce(): Promise<void> {
    lifecycle.assertNotClosed();
    try {
      open();
    } catch (error) {
      if (error instanceof SoormaError) throw error;
      throw new BrokerUnavailableError(`cannot open SQLite database ${options.path}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    housekeeping = setInterval(() => void purgeExpiredIds(), housekeepingIntervalMs);
    housekeeping.unref();
    lifecycle.markReady();
  }

  function inboxIdOf(key: InboxKey): number {
    const mapKey = inboxMapKey(key);
    let id = inboxIds.get(mapKey);
    if (id === undefined) {
      id = withStore("ensureInbox", (s) => s.ensureInbox(key, Date.now()));
      inboxIds.set(mapKey, id);
    }
    return id;
  }

  function notifierOf(id: number): WakeNotifier {
    let notifier = notifiers.get(id);
    if (notifier === undefined) {
      notifier = new WakeNotifier();
      notifiers.set(id, notifier);
    }
    return notifier;
  }

  function openConsumer(key: InboxKey, id: number, openOptions: OpenInboxOptions): InboxConsumer {
    const leaseMs = openOptions.leaseMs;
    const notifier = notifierOf(id);
    const stop = new AbortController();
    const stopOnAdapterClose = (): void => stop.abort();
    lifecycle.signal.addEventListener("abort", stopOnAdapterClose, { once: true });

    function lease(max: number) {
      const attempt = withStore("pull", (s) => s.lease(id, max, leaseMs, Date.now()));
      const messages: BrokerMessage[] = attempt.messages.map((leased) =>
        createLeasedMessage(leased.envelope, leased.attempt, {
          ack: () => {
            withStore("ack", (s) => s.ack(leased));
          },
          nack: (delayMs) => {
            withStore("nack", (s) => s.setVisibleAt(leased, Date.now() + delayMs));
            // Parked pulls re-check: the message may be visible now, or sooner than their timer.
            notifier.notify();
          },
          touch: () => {
            withStore("touch", (s) => s.setVisibleAt(leased, Date.now() + leaseMs));
          },
        }),
      );
      return { messages, nextVisibleAt: attempt.nextVisibleAt };
    }

    return {
      key,
      async pull(max, pullOptions) {
        lifecycle.assertReady();
        if (stop.signal.aborted) throw new BrokerUnavailableError("inbox consumer is closed");
        if (max <= 0) return [];
        return pullWithWait(() => lease(max), notifier, pullOptions, stop.signal);
      },
      async close() {
        lifecycle.signal.removeEventListener("abort", stopOnAdapterClose);
        stop.abort();
      },
    };
  }

  const adapter: BrokerAdapter = {
    kind: "sqlite",
    capabilities: SQLITE_CAPABILITIES,

    connect() {
      // A failed connect may be retried; a successful one is shared by every caller.
      connectPromise ??= connectOnce().catch((error: unknown) => {
        connectPromise = undefined;
        throw error;
      });
      return connectPromise;
    },

    close() {
      closePromise ??= (async () => {
        lifecycle.markClosed();
        clearInterval(housekeeping);
        notifiers.clear();
        store?.db.close();
        store = undefined;
      })();
      return closePromise;
    },

    status(): AdapterStatus {
      return lifecycle.status;
    },

    async publish(event: EventEnvelope): Promise<PublishReceipt> {
      const tenant = tenantOf(event);
      const result = withStore("publish", (s) => s.publish(event, tenant, Date.now()));
      for (const id of result.inboxIds) notifiers.get(id)?.notify();
      return { eventId: event.id, duplicate: result.duplicate };
    },

    async ensureInbox(key: InboxKey) {
      inboxIdOf(key);
    },

    async openInbox(key: InboxKey, openOptions: OpenInboxOptions) {
      return openConsumer(copyKey(key), inboxIdOf(key), openOptions);
    },

    async listInboxes(tenant?: string): Promise<InboxStats[]> {
      return withStore("listInboxes", (s) => s.listInboxes(tenant));
    },

    [Symbol.asyncDispose]() {
      return adapter.close();
    },
  };
  return adapter;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
