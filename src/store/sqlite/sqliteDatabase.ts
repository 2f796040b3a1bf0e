// The embedded backend: better-sqlite3 in WAL mode, a file in the data directory or in memory.
// better-sqlite3 is synchronous; transactions span awaits, so one lock keeps statements of other requests out
// of an open transaction (they would otherwise run on the same connection and see uncommitted rows).

import { statSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import type { Database, Row, SqlExecutor } from "../database.js";
import { sqliteDialect } from "../sqlDialect.js";
import { WalIndexHeader } from "./walIndexHeader.js";
import { WalCheckpointer } from "./walCheckpointer.js";

class Lock {
  private tail: Promise<void> = Promise.resolve();
  /** Holders and waiters: zero means a statement may run at once, with nothing to wait for. */
  private pending = 0;

  get idle() {
    return this.pending === 0;
  }

  async acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const previous = this.tail;
    this.tail = previous.then(() => next);
    this.pending++;
    await previous;
    return () => {
      this.pending--;
      release();
    };
  }
}

/** The page cache each connection may grow to (the benchmarks' baselines use it too). */
export const SQLITE_PAGE_CACHE_KIB = 256 * 1024;
/** SQLite's default automatic checkpoint threshold, restored after a bulk commit. */
const AUTOCHECKPOINT_PAGES = 1000;
/**
 * With a background checkpointer, the writer's own automatic checkpoint is only a backstop for a WAL the worker
 * has not kept up with (64 MiB of 4 KiB pages).
 */
const BACKSTOP_CHECKPOINT_PAGES = 16_384;
/** A bulk commit checkpoints as usual once the WAL has grown past this. */
const DEFERRED_WAL_BYTES = 1024 * 1024 * 1024;
const CHECKPOINT_IDLE_MS = 200;

/** Booleans as 0/1 and undefined as NULL; the array itself when nothing needs converting (the common case). */
function bindable(params: unknown[]): unknown[] {
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (typeof p === "boolean" || p === undefined) return params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p === undefined ? null : p));
  }
  return params;
}

/** A SELECT reads only; any other statement may write (an UPDATE … RETURNING through `all`, a PRAGMA, DDL). */
const readsOnly = (sql: string) => sql.startsWith("SELECT");
const DML = /^\s*(INSERT|UPDATE|DELETE|REPLACE|WITH)\b/i;

/**
 * Whether a statement run with `run` may have changed the store: a DML statement that reports no changed row
 * did not (better-sqlite3 reports SQLite's total_changes difference, trigger rows included); any other one may.
 * `changes` undefined: unknown (the statement threw, or ran in a transaction of its own making).
 */
function mayHaveWritten(sql: string, changes: number | undefined): boolean {
  if (readsOnly(sql)) return false;
  return changes === undefined || changes > 0 || !DML.test(sql);
}

export class SqliteDatabase implements Database {
  readonly kind = "sqlite";
  readonly dialect = sqliteDialect;
  private readonly db: BetterSqlite3.Database;
  private readonly lock = new Lock();
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /**
   * `readStamp`: moved on after every statement of this connection that may have written outside a transaction,
   * after every transaction in which one did (when it commits or rolls back), after every `exec`, and whenever
   * another connection's commit shows (the WAL-index header, else `PRAGMA data_version`). A transaction that only
   * reads (the reconciler's idle poll) leaves it alone.
   */
  private writes = 0;
  /** A statement of the open transaction may have written. */
  private dirty = false;
  private dataVersion: BetterSqlite3.Statement | undefined;
  private seenDataVersion: unknown;
  /** In WAL mode on a file: the WAL-index header; null once it proved unreadable. */
  private walIndex: WalIndexHeader | null | undefined;
  private readonly wal: boolean;
  /** Copies the WAL back on a thread of its own (a file store only). */
  private readonly checkpointer?: WalCheckpointer;
  private readonly autocheckpointPages: number;

  constructor(readonly description: string, private readonly file: string) {
    this.db = new BetterSqlite3(file);
    this.wal = this.db.pragma("journal_mode = WAL", { simple: true }) === "wal";
    // A WAL grown by deferred checkpoints is truncated back to this when it restarts.
    this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    // Up to 256 MiB of page cache (SQLite's default is 2 MiB), taken only as pages are used: a bulk load (the fleet
    // generator) keeps its index pages in memory instead of spilling and re-reading them for every batch.
    this.db.pragma(`cache_size = ${-SQLITE_PAGE_CACHE_KIB}`);
    if (file !== ":memory:") this.checkpointer = new WalCheckpointer(file);
    this.autocheckpointPages = this.checkpointer ? BACKSTOP_CHECKPOINT_PAGES : AUTOCHECKPOINT_PAGES;
    this.db.pragma(`wal_autocheckpoint = ${this.autocheckpointPages}`);
  }

  private statement(sql: string) {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.statements.size > 2000) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * Another connection's (another process's, or another Database's on the same file) commits show in the
   * WAL-index header (walIndexHeader.ts); without one (not in WAL mode, in memory), in `PRAGMA data_version`, which
   * changes when another connection has committed since this one last looked. This connection's own writes are
   * counted in `writes` either way. Costs: docs/decisions.md, "The Graph read cache".
   */
  readStamp(): number | undefined {
    if (!this.db.open) return undefined;
    if (this.walIndex === undefined) this.walIndex = this.wal && this.file !== ":memory:" ? (WalIndexHeader.open(this.file) ?? null) : null;
    if (this.walIndex !== null) {
      const changed = this.walIndex.changed();
      if (changed === false) return this.writes;
      if (changed === true) return ++this.writes;
      this.walIndex.close();
      this.walIndex = null;
      this.writes++;
    }
    const version = (this.dataVersion ??= this.db.prepare("PRAGMA data_version").pluck()).get();
    if (version !== this.seenDataVersion) {
      this.seenDataVersion = version;
      this.writes++;
    }
    return this.writes;
  }

  private direct: SqlExecutor = {
    dialect: sqliteDialect,
    all: async <T extends Row>(sql: string, params: unknown[] = []) => {
      if (!readsOnly(sql)) this.dirty = true;
      return this.statement(sql).all(bindable(params)) as T[];
    },
    run: async (sql: string, params: unknown[] = []) => {
      const changes = this.statement(sql).run(bindable(params)).changes;
      if (mayHaveWritten(sql, changes)) this.dirty = true;
      return { changes };
    },
  };

  async all<T extends Row = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    // A single statement while no transaction is open or waiting: run it now rather than queue behind nobody.
    try {
      if (this.lock.idle) return this.statement(sql).all(bindable(params)) as T[];
      const release = await this.lock.acquire();
      try {
        return (await this.direct.all(sql, params)) as T[];
      } finally {
        this.dirty = false;
        release();
      }
    } finally {
      if (!readsOnly(sql)) this.writes++;
    }
  }

  async run(sql: string, params: unknown[] = []) {
    let changes: number | undefined;
    try {
      if (this.lock.idle) return { changes: (changes = this.statement(sql).run(bindable(params)).changes) };
      const release = await this.lock.acquire();
      try {
        const result = await this.direct.run(sql, params);
        changes = result.changes;
        return result;
      } finally {
        this.dirty = false;
        release();
      }
    } finally {
      if (mayHaveWritten(sql, changes)) this.writes++;
    }
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options: { bulk?: boolean } = {}): Promise<T> {
    const release = await this.lock.acquire();
    // A bulk commit leaves its checkpoint to the next idle moment, while the WAL stays under its bound: calls that
    // follow each other (a fleet in batches) then write back each page once for several of them.
    const defer = options.bulk === true && this.file !== ":memory:" && this.walBytes() < DEFERRED_WAL_BYTES;
    this.dirty = false;
    try {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(this.direct);
        if (defer) this.db.pragma("wal_autocheckpoint = 0");
        try {
          this.db.exec("COMMIT");
        } finally {
          if (defer) this.db.pragma(`wal_autocheckpoint = ${this.autocheckpointPages}`);
        }
        if (defer) this.checkpointWhenIdle();
        else this.checkpointer?.nudge();
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw e;
      }
    } finally {
      // Committed or not, in the same synchronous step as COMMIT: no read can be kept from before it.
      if (this.dirty) this.writes++;
      this.dirty = false;
      release();
    }
  }

  private walBytes(): number {
    try {
      return statSync(`${this.file}-wal`).size;
    } catch {
      return 0;
    }
  }

  private checkpointTimer: NodeJS.Timeout | undefined;

  /** A PASSIVE checkpoint once nothing has used the store for a moment (the next bulk call would postpone it). */
  private checkpointWhenIdle() {
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      if (!this.db.open) return;
      if (!this.lock.idle) return this.checkpointWhenIdle();
      this.db.pragma("wal_checkpoint(PASSIVE)");
    }, CHECKPOINT_IDLE_MS);
    this.checkpointTimer.unref();
  }

  async exec(script: string) {
    const release = await this.lock.acquire();
    try {
      this.db.exec(script);
    } finally {
      this.writes++;
      release();
    }
  }

  async close() {
    const release = await this.lock.acquire();
    clearTimeout(this.checkpointTimer);
    try {
      this.walIndex?.close();
      this.walIndex = null;
      await this.checkpointer?.stop();
      if (this.db.open) this.db.close();
    } finally {
      release();
    }
  }
}
