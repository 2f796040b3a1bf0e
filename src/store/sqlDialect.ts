// What differs between the two SQL backends when a statement is built from the model or a $filter.
// Statement builders ask the dialect; they never test the backend's name themselves.

export type ComparisonOperator = "=" | "<>" | ">" | ">=" | "<" | "<=";

export interface SqlDialect {
  readonly name: "sqlite" | "postgres";
  /** Placeholder for the n-th bound parameter, 1-based: `?` for SQLite, `$n` for PostgreSQL. */
  param(n: number): string;
  /**
   * Case-insensitive comparison of a string column with a bound string parameter. String columns are
   * case-insensitive throughout Allot (SQLite declares them COLLATE NOCASE, PostgreSQL compares lower()).
   */
  compareText(columnSql: string, op: ComparisonOperator, paramSql: string): string;
  /** Case-insensitive LIKE; the pattern parameter uses `\` as its escape character. */
  likeText(columnSql: string, patternParamSql: string): string;
  /** The value to bind for a boolean (SQLite has no boolean type). */
  bindBoolean(value: boolean): unknown;
  /** SQL for "the JSON array at `$.name` in the document column contains an element satisfying `predicate`",
   *  where `predicate` refers to the element through `elementSql`. */
  jsonArrayAny(documentColumnSql: string, propertyName: string, predicate: (elementSql: string) => string): string;
  /** Expression that sorts a text column case-insensitively. */
  orderText(columnSql: string): string;
  /** The text of a top-level field of a JSON document column. */
  jsonText(documentColumnSql: string, field: string): string;
  /** A JSON array of top-level fields of a JSON document column, in order, null for an absent one (one parse per row). */
  jsonFields(documentColumnSql: string, fields: readonly string[]): string;
  /** `column IN (the list bound at paramSql)`: a list of any length as one parameter (see bindList). */
  inList(columnSql: string, paramSql: string): string;
  bindList(values: readonly string[]): unknown;
  /** `(a, b) IN (the pairs bound at paramSql)`, the pairs bound with bindPairs. */
  inPairs(aSql: string, bSql: string, paramSql: string): string;
  bindPairs(pairs: readonly (readonly [string, string])[]): unknown;
  /**
   * A bound value (or a column of a VALUES list) read as a stored value of this kind: PostgreSQL types an
   * untyped VALUES column as text, SQLite stores what it is given.
   */
  typed(sql: string, kind: "json" | "text" | "integer" | "real" | "boolean"): string;
  /** A text expression folded for case-insensitive equality with another folded one (`IN` lists, joins). */
  foldText(sql: string): string;
  /** Appended to a SELECT whose rows the transaction is about to change: waits for, then locks, those rows. */
  readonly lockForUpdate: string;
  /**
   * The document with top-level fields removed and others set, each to a scalar SQL expression of text (NULL
   * sets JSON null; `json`: the expression is JSON text, set as the value it encodes). Every expression sees the
   * row as it was before the statement.
   */
  jsonPatch(documentColumnSql: string, set: readonly { field: string; valueSql: string; json?: boolean }[], remove: readonly string[]): string;
  /**
   * A query answering (`relname`) which of the tables bound as the list `$1` have planner statistics that are
   * missing or stale, or undefined when the backend needs none (plannerStatistics.ts).
   */
  readonly staleStatisticsSql: string | undefined;
}

export const sqliteDialect: SqlDialect = {
  name: "sqlite",
  param: () => "?",
  compareText: (c, op, p) => `${c} ${op} ${p}`,
  likeText: (c, p) => `${c} LIKE ${p} ESCAPE '\\'`,
  bindBoolean: (v) => (v ? 1 : 0),
  jsonArrayAny: (doc, name, predicate) =>
    `EXISTS (SELECT 1 FROM json_each(${doc}, '$.${name}') AS e WHERE ${predicate("e.value COLLATE NOCASE")})`,
  orderText: (c) => c,
  jsonText: (doc, field) => `json_extract(${doc}, '$.${field}')`,
  jsonFields: (doc, fields) => `json_extract(${doc}, ${fields.map((f) => `'$.${f}'`).join(", ")})`,
  inList: (c, p) => `${c} IN (SELECT value FROM json_each(${p}))`,
  bindList: (values) => JSON.stringify(values),
  inPairs: (a, b, p) => `(${a}, ${b}) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(${p}))`,
  bindPairs: (pairs) => JSON.stringify(pairs),
  typed: (sql) => sql,
  foldText: (sql) => sql,
  // One writer at a time: the transaction already excludes every other.
  lockForUpdate: "",
  // SQLite's planner picks the indexes of these lookups without statistics.
  staleStatisticsSql: undefined,
  jsonPatch: (doc, set, remove) => {
    const removed = remove.length ? `json_remove(${doc}, ${remove.map((f) => `'$.${f}'`).join(", ")})` : doc;
    return set.length ? `json_set(${removed}, ${set.map((e) => `'$.${e.field}', ${e.json ? `json(${e.valueSql})` : e.valueSql}`).join(", ")})` : removed;
  },
};

export const postgresDialect: SqlDialect = {
  name: "postgres",
  param: (n) => `$${n}`,
  compareText: (c, op, p) => `lower(${c}) ${op} lower(${p})`,
  likeText: (c, p) => `${c} ILIKE ${p} ESCAPE '\\'`,
  bindBoolean: (v) => v,
  jsonArrayAny: (doc, name, predicate) =>
    `EXISTS (SELECT 1 FROM jsonb_array_elements_text(${doc}->'${name}') AS e(v) WHERE ${predicate("e.v")})`,
  orderText: (c) => `lower(${c})`,
  jsonText: (doc, field) => `(${doc}->>'${field}')`,
  jsonFields: (doc, fields) => `jsonb_build_array(${fields.map((f) => `${doc}->'${f}'`).join(", ")})`,
  inList: (c, p) => `${c} = ANY(${p}::text[])`,
  bindList: (values) => [...values],
  inPairs: (a, b, p) => `(${a}, ${b}) IN (SELECT e->>0, e->>1 FROM jsonb_array_elements(${p}::jsonb) AS e)`,
  bindPairs: (pairs) => JSON.stringify(pairs),
  typed: (sql, kind) => `CAST(${sql} AS ${{ json: "jsonb", text: "text", integer: "bigint", real: "double precision", boolean: "boolean" }[kind]})`,
  foldText: (sql) => `lower(${sql})`,
  lockForUpdate: " FOR UPDATE",
  // Stale means never analyzed (with enough changed rows to matter), or a row count that moved by more than a base
  // plus half of the one the planner last estimated (pg_class.reltuples, -1 before any). Updates do not count:
  // bulk work looks rows up by id lists, whose selectivity follows the row count, and re-analyzing a table of
  // wide documents because its rows were rewritten cost up to ~0.7 s a time inside a batch (issue 8).
  staleStatisticsSql: `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[])
    AND ((s.last_analyze IS NULL AND s.last_autoanalyze IS NULL AND s.n_mod_since_analyze > 1000 + 0.5 * s.n_live_tup)
      OR abs(s.n_live_tup - greatest(c.reltuples, 0)) > 1000 + 0.5 * greatest(c.reltuples, 0))`,
  jsonPatch: (doc, set, remove) => {
    const removed = remove.length ? `(${doc} - ARRAY[${remove.map((f) => `'${f}'`).join(", ")}]::text[])` : doc;
    return set.length ? `(${removed} || jsonb_build_object(${set.map((e) => `'${e.field}', CAST(${e.valueSql} AS ${e.json ? "jsonb" : "text"})`).join(", ")}))` : removed;
  },
};
