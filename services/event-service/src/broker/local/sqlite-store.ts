import type { EventEnvelope } from "@soorma/common";
import type { Database, Transaction } from "better-sqlite3";
import type { InboxKey, InboxStats } from "../adapter.js";
import type { LeaseAttempt } from "./pull-wait.js";

/** A message leased by {@link SqliteStore.lease}; `attempt` identifies the lease. */
export interface SqliteLease {
  readonly inboxId: number;
  readonly seq: number;
  readonly attempt: number;
  readonly envelope: EventEnvelope;
}

/** What {@link SqliteStore.publish} did. */
export interface SqlitePublishResult {
  readonly duplicate: boolean;
  /** Inboxes that received a copy (empty for a duplicate). */
  readonly inboxIds: readonly number[];
}

interface LeaseRow {
  seq: number;
  attempt: number;
  envelope: string;
}

interface InboxRow {
  tenant: string;
  topic: string;
  group_name: string;
  pending: number;
}

// Expired dedupe keys are deleted in batches of this many rows, so no single transaction holds the write lock
// for long.
const DEDUPE_PURGE_BATCH = 1_000;

/**
 * The SQL of the SQLite adapter: every statement prepared once, every multi-statement change in one
 * `BEGIN IMMEDIATE` transaction (taking the write lock up front, so concurrent connections wait on the busy
 * timeout instead of failing to upgrade a read lock). Methods are synchronous, as better-sqlite3 is; the
 * adapter maps errors and wakes waiting pulls.
 */
export class SqliteStore {
  readonly #db: Database;
  readonly #dedupeWindowMs: number;
  readonly #sql: ReturnType<typeof prepareStatements>;
  readonly #publish: Transaction<(event: EventEnvelope, tenant: string, now: number) => SqlitePublishResult>;
  readonly #lease: Transaction<
    (inboxId: number, max: number, leaseMs: number, now: number) => LeaseAttempt<SqliteLease>
  >;
  readonly #ack: Transaction<(inboxId: number, seq: number, attempt: number) => boolean>;

  constructor(db: Database, dedupeWindowMs: number) {
    this.#db = db;
    this.#dedupeWindowMs = dedupeWindowMs;
    const sql = prepareStatements(db);
    this.#sql = sql;

    this.#publish = db.transaction(
      (event: EventEnvelope, tenant: string, now: number): SqlitePublishResult => {
        const expiresAt = sql.dedupeExpiry.get(tenant, event.id);
        if (expiresAt !== undefined && expiresAt > now) return { duplicate: true, inboxIds: [] };
        sql.rememberId.run(tenant, event.id, now + this.#dedupeWindowMs);
        const inboxIds = sql.inboxesOfTopic.all(tenant, event.topic);
        // An event no inbox wants is not stored: only its id is kept, for dedupe.
        if (inboxIds.length === 0) return { duplicate: false, inboxIds };
        const seq = Number(sql.insertEvent.run(JSON.stringify(event), inboxIds.length).lastInsertRowid);
        for (const inboxId of inboxIds) sql.insertMessage.run(inboxId, seq, now);
        return { duplicate: false, inboxIds };
      },
    );

    this.#lease = db.transaction(
      (inboxId: number, max: number, leaseMs: number, now: number): LeaseAttempt<SqliteLease> => {
        const rows = sql.visible.all(inboxId, now, max);
        if (rows.length === 0) {
          return { messages: [], nextVisibleAt: sql.nextVisibleAt.get(inboxId) ?? undefined };
        }
        const messages = rows.map((row) => {
          sql.leaseMessage.run(now + leaseMs, inboxId, row.seq);
          return {
            inboxId,
            seq: row.seq,
            attempt: row.attempt + 1,
            envelope: JSON.parse(row.envelope) as EventEnvelope,
          };
        });
        return { messages, nextVisibleAt: undefined };
      },
    );

    this.#ack = db.transaction((inboxId: number, seq: number, attempt: number): boolean => {
      if (sql.deleteMessage.run(inboxId, seq, attempt).changes === 0) return false;
      sql.releaseEvent.run(seq);
      sql.deleteUnreferencedEvent.run(seq);
      return true;
    });
  }

  /**
   * Store `event` and put a copy in every inbox of `(tenant, event.topic)`, unless its id was stored within the
   * dedupe window. Committed when this returns.
   */
  publish(event: EventEnvelope, tenant: string, now: number): SqlitePublishResult {
    return this.#publish.immediate(event, tenant, now);
  }

  /** Create the inbox if missing and return its id. */
  ensureInbox(key: InboxKey, now: number): number {
    this.#sql.insertInbox.run(key.tenant, key.topic, key.group, now);
    const inboxId = this.#sql.inboxId.get(key.tenant, key.topic, key.group);
    if (inboxId === undefined) throw new Error(`inbox ${key.tenant}/${key.group}/${key.topic} vanished`);
    return inboxId;
  }

  /** Lease up to `max` visible messages for `leaseMs`, longest visible first. */
  lease(inboxId: number, max: number, leaseMs: number, now: number): LeaseAttempt<SqliteLease> {
    return this.#lease.immediate(inboxId, max, leaseMs, now);
  }

  /** Delete a leased message (and its event once no inbox holds it). False when the lease was superseded. */
  ack(lease: SqliteLease): boolean {
    return this.#ack.immediate(lease.inboxId, lease.seq, lease.attempt);
  }

  /** Set when a leased message becomes visible again. False when the lease was superseded or it was acked. */
  setVisibleAt(lease: SqliteLease, visibleAt: number): boolean {
    return this.#sql.setVisibleAt.run(visibleAt, lease.inboxId, lease.seq, lease.attempt).changes > 0;
  }

  /** Every inbox (of one tenant, if given) with its count of messages not acked. */
  listInboxes(tenant: string | undefined): InboxStats[] {
    const rows = tenant === undefined ? this.#sql.listAll.all() : this.#sql.listTenant.all(tenant);
    return rows.map((row) => ({
      key: { tenant: row.tenant, group: row.group_name, topic: row.topic },
      pending: row.pending,
    }));
  }

  /** Delete one batch of dedupe keys that expired by `now`; true when more may remain. */
  purgeExpiredIds(now: number): boolean {
    return this.#sql.purgeIds.run(now, DEDUPE_PURGE_BATCH).changes >= DEDUPE_PURGE_BATCH;
  }

  /** The underlying connection. */
  get db(): Database {
    return this.#db;
  }
}

function prepareStatements(db: Database) {
  return {
    dedupeExpiry: db
      .prepare<[string, string], number>("SELECT expires_at FROM dedupe WHERE tenant = ? AND event_id = ?")
      .pluck(),
    rememberId: db.prepare<[string, string, number]>(
      `INSERT INTO dedupe (tenant, event_id, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (tenant, event_id) DO UPDATE SET expires_at = excluded.expires_at`,
    ),
    purgeIds: db.prepare<[number, number]>(
      `DELETE FROM dedupe WHERE (tenant, event_id) IN
         (SELECT tenant, event_id FROM dedupe WHERE expires_at <= ? LIMIT ?)`,
    ),
    inboxesOfTopic: db
      .prepare<[string, string], number>("SELECT inbox_id FROM inboxes WHERE tenant = ? AND topic = ?")
      .pluck(),
    insertEvent: db.prepare<[string, number]>("INSERT INTO events (envelope, remaining) VALUES (?, ?)"),
    insertMessage: db.prepare<[number, number, number]>(
      "INSERT INTO messages (inbox_id, event_seq, visible_at, attempt) VALUES (?, ?, ?, 0)",
    ),
    insertInbox: db.prepare<[string, string, string, number]>(
      `INSERT INTO inboxes (tenant, topic, group_name, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant, topic, group_name) DO NOTHING`,
    ),
    inboxId: db
      .prepare<[string, string, string], number>(
        "SELECT inbox_id FROM inboxes WHERE tenant = ? AND topic = ? AND group_name = ?",
      )
      .pluck(),
    visible: db.prepare<[number, number, number], LeaseRow>(
      `SELECT m.event_seq AS seq, m.attempt AS attempt, e.envelope AS envelope
         FROM messages m JOIN events e ON e.seq = m.event_seq
        WHERE m.inbox_id = ? AND m.visible_at <= ?
        ORDER BY m.visible_at, m.event_seq
        LIMIT ?`,
    ),
    nextVisibleAt: db
      .prepare<[number], number | null>("SELECT MIN(visible_at) FROM messages WHERE inbox_id = ?")
      .pluck(),
    leaseMessage: db.prepare<[number, number, number]>(
      "UPDATE messages SET attempt = attempt + 1, visible_at = ? WHERE inbox_id = ? AND event_seq = ?",
    ),
    setVisibleAt: db.prepare<[number, number, number, number]>(
      "UPDATE messages SET visible_at = ? WHERE inbox_id = ? AND event_seq = ? AND attempt = ?",
    ),
    deleteMessage: db.prepare<[number, number, number]>(
      "DELETE FROM messages WHERE inbox_id = ? AND event_seq = ? AND attempt = ?",
    ),
    releaseEvent: db.prepare<[number]>("UPDATE events SET remaining = remaining - 1 WHERE seq = ?"),
    deleteUnreferencedEvent: db.prepare<[number]>("DELETE FROM events WHERE seq = ? AND remaining <= 0"),
    listAll: db.prepare<[], InboxRow>(
      `SELECT i.tenant, i.topic, i.group_name,
              (SELECT COUNT(*) FROM messages m WHERE m.inbox_id = i.inbox_id) AS pending
         FROM inboxes i ORDER BY i.tenant, i.group_name, i.topic`,
    ),
    listTenant: db.prepare<[string], InboxRow>(
      `SELECT i.tenant, i.topic, i.group_name,
              (SELECT COUNT(*) FROM messages m WHERE m.inbox_id = i.inbox_id) AS pending
         FROM inboxes i WHERE i.tenant = ? ORDER BY i.group_name, i.topic`,
    ),
  };
}
