// Which property columns the store writes and which it derives from the document. On SQLite every column but
// the date-time ones is a VIRTUAL generated column over the JSON document: a row write then writes the document
// alone, and an index on such a column computes its value once, when the row is written. Date-time columns stay
// written, since the store keeps them in canonical form (canonicalDateTime) whatever form the document has.
// PostgreSQL writes every column (its generated columns are stored ones, no cheaper than a written column).

import type { StorageColumn, StorageTable } from "../odata/compiledModel.js";
import type { SqlDialect } from "./sqlDialect.js";

export const isDerivedColumn = (dialect: SqlDialect, c: StorageColumn) => dialect.name === "sqlite" && c.type !== "Edm.DateTimeOffset";

const written = new Map<SqlDialect, WeakMap<StorageTable, StorageColumn[]>>();

/** The columns of `table` a row write sets, in the table's order. */
export function writtenColumns(dialect: SqlDialect, table: StorageTable): StorageColumn[] {
  let byTable = written.get(dialect);
  if (!byTable) written.set(dialect, (byTable = new WeakMap()));
  let columns = byTable.get(table);
  if (!columns) byTable.set(table, (columns = table.columns.filter((c) => !isDerivedColumn(dialect, c))));
  return columns;
}
