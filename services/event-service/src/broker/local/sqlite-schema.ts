import { BrokerUnavailableError } from "@soorma/common";
import type { Database } from "better-sqlite3";

/**
 * Each entry upgrades the database by one version; index 0 creates version 1. Entries are never edited once
 * released: a change of schema is a new entry, applied in order by {@link migrate}.
 */
const MIGRATIONS: readonly string[] = [
  `
  -- One row per stored event; the envelope JSON is kept once however many inboxes hold it.
  -- remaining = inbox rows still referencing the event; the row is deleted when the last one is acked.
  CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,
    envelope  TEXT    NOT NULL,
    remaining INTEGER NOT NULL
  );

  -- Publish idempotency keys, kept for the dedupe window even after their event is gone.
  CREATE TABLE dedupe (
    tenant     TEXT    NOT NULL,
    event_id   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, event_id)
  ) WITHOUT ROWID;
  CREATE INDEX dedupe_by_expiry ON dedupe (expires_at);

  -- One durable inbox per (tenant, topic, group). Publish looks inboxes up by (tenant, topic).
  CREATE TABLE inboxes (
    inbox_id   INTEGER PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    topic      TEXT    NOT NULL,
    group_name TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant, topic, group_name)
  );

  -- One row per (inbox, event) not yet acked. visible_at is when it may be leased: its publish time, the end of
  -- its current lease or of its nack delay. attempt counts leases and identifies the current one.
  -- inbox_id and event_seq point at inboxes and events without a FOREIGN KEY clause: the adapter keeps them
  -- consistent in its transactions (events.remaining), and an enforced key would need one more index on
  -- event_seq for SQLite to check every event delete.
  CREATE TABLE messages (
    inbox_id   INTEGER NOT NULL,
    event_seq  INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    attempt    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (inbox_id, event_seq)
  ) WITHOUT ROWID;
  -- The pull query: visible messages of one inbox, longest visible first.
  CREATE INDEX messages_by_visibility ON messages (inbox_id, visible_at, event_seq);
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Bring the database to {@link SCHEMA_VERSION}, one migration per transaction. Refuses a database written by a
 * newer version rather than guess at its layout.
 */
export function migrate(db: Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const readVersion = db.prepare<[], number>("SELECT COALESCE(MAX(version), 0) FROM schema_version").pluck();
  const record = db.prepare<[number]>("INSERT INTO schema_version (version) VALUES (?)");
  const current = readVersion.get() ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new BrokerUnavailableError(
      `the SQLite file has schema version ${current}, newer than the ${SCHEMA_VERSION} this version supports`,
    );
  }
  for (let version = current + 1; version <= SCHEMA_VERSION; version += 1) {
    const sql = MIGRATIONS[version - 1] as string;
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if ((readVersion.get() ?? 0) >= version) return;
      db.exec(sql);
      record.run(version);
    }).immediate();
  }
}
