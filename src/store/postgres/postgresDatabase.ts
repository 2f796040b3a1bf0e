// The server backend: PostgreSQL through a pg pool. Each Allot installation lives in one schema
// (default "allot"), so tests and several installations can share a database.

import pg from "pg";
import type { Database, Row, SqlExecutor } from "../database.js";
import { postgresDialect } from "../sqlDialect.js";

// Keep BIGINT (seq columns) and numerics as JS numbers: ours stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");

export class PostgresDatabase implements Database {
  readonly kind = "postgres";
  readonly dialect = postgresDialect;
  readonly description: string;
  private readonly pool: pg.Pool;

  constructor(url: string, readonly schema = "allot") {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
    this.description = `${redact(url)} (schema ${schema})`;
    // search_path as a connection option: every pooled connection starts in the installation's schema.
    this.pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
  }

  async connect() {
    const c = await this.pool.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    } finally {
      c.release();
    }
  }

  private executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
    return {
      dialect: postgresDialect,
      all: async <T extends Row>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
      run: async (sql: string, params: unknown[] = []) => ({ changes: (await client.query(sql, params)).rowCount ?? 0 }),
    };
  }

  all<T extends Row = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.executor(this.pool).all<T>(sql, params);
  }

  run(sql: string, params: unknown[] = []) {
    return this.executor(this.pool).run(sql, params);
  }

  /** Other servers' commits reach PostgreSQL with no cheap signal to this process: nothing is cached. */
  readStamp(): undefined {
    return undefined;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      try {
        const result = await work(this.executor(client));
        await client.query("COMMIT");
        return result;
      } catch (e) {
        await client.query("ROLLBACK");
        throw e;
      }
    } finally {
      client.release();
    }
  }

  async exec(script: string) {
    await this.pool.query(script);
  }

  async close() {
    await this.pool.end();
  }

  /** Drops the schema and everything in it (tests). */
  async dropSchema() {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }
}
