// The one storage interface. Both backends (SQLite, PostgreSQL) implement it completely; everything above it
// (repositories, migrations) builds its SQL through the backend's dialect and never tests which backend it is.

import type { SqlDialect } from "./sqlDialect.js";

export type Row = Record<string, unknown>;

/** Runs statements; inside a transaction, on that transaction's connection. */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  all<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
}

export interface Database extends SqlExecutor {
  readonly kind: "sqlite" | "postgres";
  /** A human description for logs and /_allot/health (file path, in-memory, database URL without password). */
  readonly description: string;
  /**
   * Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. `bulk`: a large
   * write (the fleet generator) whose backend housekeeping may wait until the store is idle (SQLite: the WAL
   * checkpoint); durability is the same.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: { bulk?: boolean }): Promise<T>;
  /**
   * A number that stays the same only while no committed data of the store has changed since it was last read:
   * this connection's writes and other connections' (other processes') commits both move it on. Undefined when
   * the backend cannot tell cheaply; nothing may then be kept across requests (the Graph read cache).
   */
  readStamp(): number | undefined;
  /** Executes a multi-statement DDL script (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}
