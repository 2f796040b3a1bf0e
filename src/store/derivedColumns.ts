// Which property columns the store writes and which it derives from the document. On SQLite every unindexed
// column but the date-time ones is read from the JSON document by the queries that use it (columnSql), with no
// column in the table: a row write binds fewer values, and the value costs nothing until a query reads it. (They
// were VIRTUAL generated columns up to schema version 10, but SQLite computes every generated column of a row on
// each INSERT and UPDATE, virtual ones too: 25 JSON lookups per managed device written, about a third of its
// INSERT's time.) Indexed columns stay written: an index on a
// generated column makes every UPDATE of the document re-extract each indexed value for the old and the new row
// (measured: reassigning 30,000 MMD devices settled 25% slower with them generated, and a bare UPDATE of the
// documents took 4x as long). Date-time columns stay written too, since the store keeps them in canonical form
// (canonicalDateTime) whatever form the document has, and so do columns declared stored (a status a client polls
// with a $count over every row, the bookkeeping fields an overlay tests per row): reading a written column costs
// no parse of the document. PostgreSQL writes every column (its generated columns are
// stored ones, no cheaper than a written column).

import type { StorageColumn, StorageTable } from "../odata/compiledModel.js";
import type { SqlDialect } from "./sqlDialect.js";

export const isDerivedColumn = (dialect: SqlDialect, c: StorageColumn) => dialect.name === "sqlite" && c.type !== "Edm.DateTimeOffset" && !c.indexed && !c.stored;

/**
 * SQL reading a property column's value in a row (`qualifier`: the table's alias and a dot, if any): the column,
 * or for a derived one the document's field with the affinity and collation the column would declare.
 */
export function columnSql(dialect: SqlDialect, c: StorageColumn, qualifier = ""): string {
  if (!isDerivedColumn(dialect, c)) return `${qualifier}${c.column}`;
  const value = dialect.jsonText(`${qualifier}doc`, c.property);
  if (c.type === "Edm.Boolean" || c.type === "Edm.Int32" || c.type === "Edm.Int64") return value;
  if (c.type === "Edm.Double") return `CAST(${value} AS REAL)`;
  return `(CAST(${value} AS TEXT) COLLATE NOCASE)`;
}

/** `columnSql` of the column of one of `table`'s properties: callers name properties, whatever their storage. */
export function propertySql(dialect: SqlDialect, table: StorageTable, property: string, qualifier = ""): string {
  const column = table.columns.find((c) => c.property === property);
  if (!column) throw new Error(`${table.name} has no column for ${property}`);
  return columnSql(dialect, column, qualifier);
}

const written = new Map<SqlDialect, WeakMap<StorageTable, StorageColumn[]>>();

/** The columns of `table` a row write sets, in the table's order. */
export function writtenColumns(dialect: SqlDialect, table: StorageTable): StorageColumn[] {
  let byTable = written.get(dialect);
  if (!byTable) written.set(dialect, (byTable = new WeakMap()));
  let columns = byTable.get(table);
  if (!columns) byTable.set(table, (columns = table.columns.filter((c) => !isDerivedColumn(dialect, c))));
  return columns;
}
