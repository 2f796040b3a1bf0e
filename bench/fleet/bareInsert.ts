// The baseline: the same number of rows, with JSON documents of the fleet's average size, written by a bare
// multi-row INSERT into a scratch table (id primary key, doc) with the same driver and the same number of
// transactions. What is left between the two is Allot's own work: indexed columns, memberships, generation, HTTP.

import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { SQLITE_PAGE_CACHE_KIB } from "../../src/store/sqlite/sqliteDatabase.js";

export interface BareInsertSpec {
  rows: number;
  docBytes: number;
  transactions: number;
}

export interface BareInsertResult {
  rows: number;
  docBytes: number;
  transactions: number;
  rowsPerStatement: number;
  seconds: number;
  rowsPerSecond: number;
}

/** A JSON document of about `bytes` bytes, distinct per row. */
function documents(bytes: number) {
  const pad = "x".repeat(Math.max(0, bytes - 40));
  return (i: number) => `{"id":"row-${String(i).padStart(10, "0")}","pad":"${pad}"}`;
}

function plan(spec: BareInsertSpec, rowsPerStatement: number) {
  const perTransaction = Math.ceil(spec.rows / Math.max(1, spec.transactions));
  return { perTransaction, rowsPerStatement: Math.min(rowsPerStatement, perTransaction) };
}

const result = (spec: BareInsertSpec, rowsPerStatement: number, seconds: number): BareInsertResult => ({
  ...spec,
  rowsPerStatement,
  seconds: Math.round(seconds * 1000) / 1000,
  rowsPerSecond: Math.round(spec.rows / seconds),
});

/** better-sqlite3 on a WAL file with Allot's pragmas. */
export function bareInsertSqlite(file: string, spec: BareInsertSpec): BareInsertResult {
  const db = new BetterSqlite3(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma(`cache_size = ${-SQLITE_PAGE_CACHE_KIB}`);
  db.exec("CREATE TABLE scratch (id TEXT PRIMARY KEY, doc TEXT NOT NULL)");
  const { perTransaction, rowsPerStatement } = plan(spec, Math.floor(32_766 / 2));
  const doc = documents(spec.docBytes);
  const statements = new Map<number, BetterSqlite3.Statement>();
  const statement = (n: number) => {
    let s = statements.get(n);
    if (!s) statements.set(n, (s = db.prepare(`INSERT INTO scratch (id, doc) VALUES ${Array(n).fill("(?, ?)").join(", ")}`)));
    return s;
  };
  const started = performance.now();
  for (let t = 0; t < spec.rows; t += perTransaction) {
    db.exec("BEGIN IMMEDIATE");
    const end = Math.min(spec.rows, t + perTransaction);
    for (let i = t; i < end; i += rowsPerStatement) {
      const n = Math.min(rowsPerStatement, end - i);
      const params: string[] = new Array(n * 2);
      for (let j = 0; j < n; j++) {
        params[2 * j] = `row-${i + j}`;
        params[2 * j + 1] = doc(i + j);
      }
      statement(n).run(...params);
    }
    db.exec("COMMIT");
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return result(spec, rowsPerStatement, seconds);
}

/** pg into a schema of its own (JSONB, like Allot's doc column), dropped afterwards. */
export async function bareInsertPostgres(url: string, schema: string, spec: BareInsertSpec): Promise<BareInsertResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`CREATE TABLE ${schema}.scratch (id TEXT PRIMARY KEY, doc JSONB NOT NULL)`);
    const { perTransaction, rowsPerStatement } = plan(spec, Math.floor(65_535 / 2));
    const doc = documents(spec.docBytes);
    const sql = new Map<number, string>();
    const text = (n: number) => {
      let s = sql.get(n);
      if (!s) sql.set(n, (s = `INSERT INTO ${schema}.scratch (id, doc) VALUES ${Array.from({ length: n }, (_, j) => `($${2 * j + 1}, $${2 * j + 2})`).join(", ")}`));
      return s;
    };
    const started = performance.now();
    for (let t = 0; t < spec.rows; t += perTransaction) {
      await client.query("BEGIN");
      const end = Math.min(spec.rows, t + perTransaction);
      for (let i = t; i < end; i += rowsPerStatement) {
        const n = Math.min(rowsPerStatement, end - i);
        const params: string[] = new Array(n * 2);
        for (let j = 0; j < n; j++) {
          params[2 * j] = `row-${i + j}`;
          params[2 * j + 1] = doc(i + j);
        }
        await client.query(text(n), params);
      }
      await client.query("COMMIT");
    }
    return result(spec, rowsPerStatement, (performance.now() - started) / 1000);
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
  }
}
