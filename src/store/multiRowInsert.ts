// Set-based writes: many rows per INSERT statement, as many as the backend's limit on bound parameters allows.
// One statement text per (table, row count), so SQLite's statement cache keeps the full-size ones prepared.

import type { SqlExecutor } from "./database.js";
import { postgresDialect, sqliteDialect, type SqlDialect } from "./sqlDialect.js";

/** SQLite's SQLITE_MAX_VARIABLE_NUMBER (3.32+) and PostgreSQL's wire-protocol limit (a 16-bit count). */
const MAX_BOUND_PARAMETERS = new Map<SqlDialect, number>([
  [sqliteDialect, 32_766],
  [postgresDialect, 65_535],
]);

export function rowsPerStatement(dialect: SqlDialect, columnsPerRow: number): number {
  const limit = MAX_BOUND_PARAMETERS.get(dialect) ?? 999;
  return Math.max(1, Math.floor(limit / columnsPerRow));
}

const valuesClauses = new Map<string, string>();

/**
 * `(?, ?), (?, ?)` or `($1, $2), ($3, $4)` for `rows` rows of `columns` values, built once per shape. `textOf`:
 * a column whose value is bound as UTF-8 bytes and stored as the text they encode (SQLite).
 */
function valuesClause(dialect: SqlDialect, rows: number, columns: number, textOf?: number): string {
  const key = `${dialect.name}:${rows}:${columns}:${textOf ?? ""}`;
  let sql = valuesClauses.get(key);
  if (sql === undefined) {
    const tuples: string[] = new Array(rows);
    for (let r = 0, n = 1; r < rows; r++) {
      const marks: string[] = new Array(columns);
      for (let c = 0; c < columns; c++) marks[c] = c === textOf ? `CAST(${dialect.param(n++)} AS TEXT)` : dialect.param(n++);
      tuples[r] = `(${marks.join(", ")})`;
    }
    sql = tuples.join(", ");
    if (valuesClauses.size > 200) valuesClauses.clear();
    valuesClauses.set(key, sql);
  }
  return sql;
}

/**
 * Inserts `rows` into `table` in as few statements as the parameter limit allows. `write` puts one row's values,
 * in `columns` order, into `values` starting at `at`.
 */
export async function insertRows<T>(
  x: SqlExecutor,
  table: string,
  columns: readonly string[],
  rows: readonly T[],
  write: (row: T, values: unknown[], at: number) => void,
): Promise<void> {
  const width = columns.length;
  await insertInStatements(x, table, columns, rows.length, (start, count) => {
    const values: unknown[] = new Array(count * width);
    for (let i = 0; i < count; i++) write(rows[start + i], values, i * width);
    return values;
  });
}

/** Rows whose values are already laid out back to back in `columns` order (`values.length` a multiple of their count). */
export async function insertValueRows(x: SqlExecutor, table: string, columns: readonly string[], values: readonly unknown[], options: { textFromBytes?: string } = {}): Promise<void> {
  const width = columns.length;
  const textOf = options.textFromBytes === undefined ? undefined : columns.indexOf(options.textFromBytes);
  if (textOf !== undefined && (textOf < 0 || x.dialect.name !== "sqlite")) throw new Error(`Cannot bind ${options.textFromBytes} of ${table} as bytes.`);
  await insertInStatements(x, table, columns, values.length / width, (start, count) => values.slice(start * width, (start + count) * width), textOf);
}

/**
 * The rows of the next statement when `left` remain. SQLite prepares a statement per text, a few milliseconds
 * for thousands of parameters, and the last statement of a bulk write has a different row count each time (the Autopilot
 * identities of a slice, a membership flush): a rest shorter than a full statement goes in statements of powers
 * of two rows, whose few texts stay prepared. A server backend gets it in one statement (a round trip each).
 */
export function statementRows(dialect: SqlDialect, perStatement: number, left: number): number {
  if (left >= perStatement) return perStatement;
  if (dialect !== sqliteDialect) return left;
  return 1 << (31 - Math.clz32(left));
}

/** `rowCount` rows in statements of as many rows as the parameter limit allows; `valuesOf` gives one statement's. */
async function insertInStatements(
  x: SqlExecutor,
  table: string,
  columns: readonly string[],
  rowCount: number,
  valuesOf: (start: number, count: number) => unknown[],
  textOf?: number,
): Promise<void> {
  const width = columns.length;
  const perStatement = rowsPerStatement(x.dialect, width);
  const head = `INSERT INTO ${table} (${columns.join(", ")}) VALUES `;
  // One statement in flight while the next one's values are computed: a server backend works in parallel.
  let inFlight: Promise<unknown> | undefined;
  for (let start = 0, count = 0; start < rowCount; start += count) {
    count = statementRows(x.dialect, perStatement, rowCount - start);
    const values = valuesOf(start, count);
    if (inFlight) await inFlight;
    inFlight = x.run(head + valuesClause(x.dialect, count, width, textOf), values);
  }
  await inFlight;
}
