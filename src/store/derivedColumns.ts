// Which property columns the store writes and which it derives from the document. On SQLite every unindexed
// column but the date-time ones is a VIRTUAL generated column over the JSON document: a row write binds fewer
// values, and the column costs nothing until a query reads it. Indexed columns stay written: an index on a
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

const written = new Map<SqlDialect, WeakMap<StorageTable, StorageColumn[]>>();

/** The columns of `table` a row write sets, in the table's order. */
export function writtenColumns(dialect: SqlDialect, table: StorageTable): StorageColumn[] {
  let byTable = written.get(dialect);
  if (!byTable) written.set(dialect, (byTable = new WeakMap()));
  let columns = byTable.get(table);
  if (!columns) byTable.set(table, (columns = table.columns.filter((c) => !isDerivedColumn(dialect, c))));
  return columns;
}
