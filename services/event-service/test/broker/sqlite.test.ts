import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BrokerUnavailableError } from "@soorma/common";
import { waitFor } from "@soorma/test-utils";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/broker/local/sqlite-schema.js";
import { createSqliteAdapter, SQLITE_FILE_NAME } from "../../src/broker/sqlite.js";
import { describeLocalAdapter, eventFor, randomKey } from "./local-adapter-cases.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "soorma-sqlite-"));
}

describeLocalAdapter("sqlite", async (options) => {
  const dir = tempDir();
  const adapter = createSqliteAdapter({ path: join(dir, SQLITE_FILE_NAME), ...options });
  await adapter.connect();
  return [
    adapter,
    async () => {
      await adapter.close();
      rmSync(dir, { recursive: true, force: true });
    },
  ];
});

describe("sqlite adapter specifics", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function dbPath(): string {
    const dir = tempDir();
    dirs.push(dir);
    // A nested directory checks that connect creates it.
    return join(dir, "data", SQLITE_FILE_NAME);
  }
  /** Open the file directly, read-only, to look at what the adapter left on disk. */
  function inspect<T>(path: string, query: (db: Database.Database) => T): T {
    const db = new Database(path, { readonly: true });
    try {
      return query(db);
    } finally {
      db.close();
    }
  }

  it("capabilities - durable, single replica", () => {
    expect(createSqliteAdapter({ path: dbPath() }).capabilities).toEqual({
      durable: true,
      multiReplica: false,
      survivesBrokerRestart: false,
      durableDedupe: true,
    });
  });

  it("connect - creates the file in WAL mode with the current schema version", async () => {
    const path = dbPath();
    const adapter = createSqliteAdapter({ path });
    expect(adapter.status()).toEqual({ state: "connecting" });
    await expect(adapter.publish(eventFor(randomKey()))).rejects.toBeInstanceOf(BrokerUnavailableError);
    await Promise.all([adapter.connect(), adapter.connect()]);
    expect(adapter.status()).toEqual({ state: "ready" });
    await adapter.close();
    inspect(path, (db) => {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT MAX(version) FROM schema_version").pluck().get()).toBe(SCHEMA_VERSION);
    });
  });

  it("connect - an unusable file rejects with BrokerUnavailableError and may be retried", async () => {
    const path = dbPath();
    const adapter = createSqliteAdapter({ path });
    await adapter.connect();
    await adapter.close();
    writeFileSync(path, "this is not a database, but it is long enough to have a header ........");
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    const broken = createSqliteAdapter({ path });
    await expect(broken.connect()).rejects.toMatchObject({ code: "SOORMA_ERR_BROKER_UNAVAILABLE" });
    expect(broken.status()).toEqual({ state: "connecting" });
    rmSync(path);
    await broken.connect();
    expect(broken.status()).toEqual({ state: "ready" });
    await broken.close();
  });

  it("connect - a file from a newer schema version is refused", async () => {
    const path = dbPath();
    const adapter = createSqliteAdapter({ path });
    await adapter.connect();
    await adapter.close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(SCHEMA_VERSION + 1);
    db.close();
    await expect(createSqliteAdapter({ path }).connect()).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it("restart - inboxes, pending messages and dedupe keys survive close and reopen", async () => {
    const path = dbPath();
    const key = randomKey();
    const events = [eventFor(key), eventFor(key), eventFor(key)];
    const first = createSqliteAdapter({ path });
    await first.connect();
    await first.ensureInbox(key);
    for (const event of events) await first.publish(event);
    const consumer = await first.openInbox(key, { leaseMs: 30_000, maxInFlight: 10 });
    const [acked] = await consumer.pull(1, { waitMs: 1_000 });
    await acked?.ack();
    await first.close();

    const second = createSqliteAdapter({ path });
    await second.connect();
    try {
      expect(await second.listInboxes(key.tenant)).toEqual([{ key, pending: 2 }]);
      expect((await second.publish(events[0] ?? eventFor(key))).duplicate).toBe(true);
      const reopened = await second.openInbox(key, { leaseMs: 30_000, maxInFlight: 10 });
      const messages = await reopened.pull(10, { waitMs: 1_000 });
      expect(messages.map((m) => m.envelope)).toEqual(events.slice(1));
    } finally {
      await second.close();
    }
  });

  it("restart - a message leased when the process stopped is redelivered after its lease, attempt 2", async () => {
    const path = dbPath();
    const key = randomKey();
    const first = createSqliteAdapter({ path });
    await first.connect();
    const consumer = await first.openInbox(key, { leaseMs: 200, maxInFlight: 10 });
    await first.publish(eventFor(key));
    expect(await consumer.pull(10, { waitMs: 1_000 })).toHaveLength(1);
    await first.close();

    const second = createSqliteAdapter({ path });
    await second.connect();
    try {
      const reopened = await second.openInbox(key, { leaseMs: 200, maxInFlight: 10 });
      const [again] = await reopened.pull(10, { waitMs: 5_000 });
      expect(again?.attempt).toBe(2);
    } finally {
      await second.close();
    }
  });

  it("two adapters on one file - their consumers of one inbox get disjoint messages", async () => {
    const path = dbPath();
    const adapters = [createSqliteAdapter({ path }), createSqliteAdapter({ path })];
    for (const adapter of adapters) await adapter.connect();
    try {
      const key = randomKey();
      const consumers = await Promise.all(
        adapters.map((adapter) => adapter.openInbox(key, { leaseMs: 30_000, maxInFlight: 10 })),
      );
      const ids: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const event = eventFor(key);
        ids.push(event.id);
        await adapters[i % 2]?.publish(event);
      }
      const seen: string[][] = [[], []];
      for (let round = 0; (seen[0]?.length ?? 0) + (seen[1]?.length ?? 0) < ids.length; round += 1) {
        expect(round).toBeLessThan(100);
        for (const [index, consumer] of consumers.entries()) {
          for (const message of await consumer.pull(4, { waitMs: 0 })) {
            seen[index]?.push(message.envelope.id);
            await message.ack();
          }
        }
      }
      const [left = [], right = []] = seen;
      expect(left.length).toBeGreaterThan(0);
      expect(right.length).toBeGreaterThan(0);
      expect([...left, ...right].sort()).toEqual([...ids].sort());
    } finally {
      for (const adapter of adapters) await adapter.close();
    }
  });

  it("housekeeping - an event row is kept once for all inboxes and deleted when the last inbox acks it", async () => {
    const path = dbPath();
    const adapter = createSqliteAdapter({ path });
    await adapter.connect();
    try {
      const a = randomKey();
      const b = { ...a, group: `${a.group}-b` };
      const consumers = [
        await adapter.openInbox(a, { leaseMs: 30_000, maxInFlight: 10 }),
        await adapter.openInbox(b, { leaseMs: 30_000, maxInFlight: 10 }),
      ];
      await adapter.publish(eventFor(a));
      // Nobody listens on this topic: only the dedupe key is stored.
      await adapter.publish(eventFor({ tenant: a.tenant, topic: `${a.topic}-x` }));
      const countEvents = () =>
        inspect(path, (db) => db.prepare("SELECT COUNT(*) FROM events").pluck().get());
      expect(countEvents()).toBe(1);
      const [fromA] = (await consumers[0]?.pull(1, { waitMs: 1_000 })) ?? [];
      await fromA?.ack();
      expect(countEvents()).toBe(1);
      const [fromB] = (await consumers[1]?.pull(1, { waitMs: 1_000 })) ?? [];
      await fromB?.ack();
      expect(countEvents()).toBe(0);
    } finally {
      await adapter.close();
    }
  });

  it("housekeeping - expired dedupe keys are deleted by the periodic sweep", async () => {
    const path = dbPath();
    const adapter = createSqliteAdapter({ path, dedupeWindowMs: 50, housekeepingIntervalMs: 50 });
    await adapter.connect();
    try {
      await adapter.publish(eventFor(randomKey()));
      const countIds = () => inspect(path, (db) => db.prepare("SELECT COUNT(*) FROM dedupe").pluck().get());
      expect(countIds()).toBe(1);
      await waitFor(() => countIds() === 0, { timeoutMs: 5_000, message: "dedupe key never purged" });
    } finally {
      await adapter.close();
    }
  });
});
