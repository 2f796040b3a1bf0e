// How an entity becomes the values of its row, apart from any connection: the store's writes use it, and so does
// code that encodes rows on another thread (the fleet generator's worker), so both bind exactly the same values.
// A layout is plain data (no functions, no model graph): it can be posted to a worker thread.

import type { ColumnType, StorageTable } from "../odata/compiledModel.js";
import { writtenColumns } from "./derivedColumns.js";
import { postgresDialect, sqliteDialect, type SqlDialect } from "./sqlDialect.js";

export interface RowLayout {
  table: string;
  dialect: SqlDialect["name"];
  parented: boolean;
  /** The INSERT's column names, in the order `encodeRow` writes the values. */
  names: string[];
  /** The written property columns, after the fixed ones. */
  columns: { property: string; type: ColumnType }[];
}

export interface EncodableEntity {
  id: string;
  type: string;
  parentId?: string;
  doc: Record<string, unknown>;
}

const DIALECTS: Record<SqlDialect["name"], SqlDialect> = { sqlite: sqliteDialect, postgres: postgresDialect };

/**
 * Already canonical: a day every month has (1-28), valid times, milliseconds, UTC. Such a text is its own
 * toISOString, so it skips the Date round trip (a bulk write of devices binds several date-times per row).
 */
const CANONICAL_DATE_TIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Canonical form of date-time values in the store: text comparison then orders correctly. */
export const canonicalDateTime = (value: string) => (CANONICAL_DATE_TIME.test(value) ? value : new Date(value).toISOString());

export const encodeDoc = (doc: Record<string, unknown>) => JSON.stringify(doc);

export function columnValue(dialect: SqlDialect, c: { property: string; type: ColumnType }, doc: Record<string, unknown>): unknown {
  const v = doc[c.property];
  if (v === undefined || v === null) return null;
  if (c.type === "Edm.Boolean") return dialect.bindBoolean(Boolean(v));
  if (c.type === "Edm.DateTimeOffset" && typeof v === "string") return canonicalDateTime(v);
  if (typeof v === "object") return JSON.stringify(v);
  return v;
}

export function rowLayout(dialect: SqlDialect, table: StorageTable): RowLayout {
  const columns = writtenColumns(dialect, table);
  return {
    table: table.name,
    dialect: dialect.name,
    parented: table.parented,
    names: ["tenant_id", "id", ...(table.parented ? ["parent_id"] : []), "odata_type", "doc", ...columns.map((c) => c.column)],
    columns: columns.map((c) => ({ property: c.property, type: c.type })),
  };
}

/** Writes one entity's row values, in `layout.names` order, into `values` from `at`; answers the next index. */
export function encodeRow(layout: RowLayout, tenantId: string, e: EncodableEntity, values: unknown[], at: number): number {
  const dialect = DIALECTS[layout.dialect];
  values[at++] = tenantId;
  values[at++] = e.id;
  if (layout.parented) values[at++] = e.parentId;
  values[at++] = e.type;
  values[at++] = encodeDoc(e.doc);
  for (const c of layout.columns) values[at++] = columnValue(dialect, c, e.doc);
  return at;
}
