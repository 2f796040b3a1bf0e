// Generic persistence of Graph entities: one row per entity, its JSON document plus the indexed columns the
// model derives. Every statement is scoped by tenant_id; there is no method that can cross tenants.

import type { CompiledModel, EntityType, StorageColumn, StorageTable } from "../odata/compiledModel.js";
import type { Row, SqlExecutor } from "./database.js";
import { columnSql, propertySql, writtenColumns } from "./derivedColumns.js";
import { canonicalDateTime, columnValue, encodeDoc, encodeRow, rowLayout, type RowLayout } from "./entityRows.js";
import { insertRows, insertValueRows, rowsPerStatement } from "./multiRowInsert.js";

export type EntityDocument = Record<string, unknown>;

export interface StoredEntity {
  id: string;
  /** Unqualified entity type name of the row (a derived type of the table's declared type). */
  type: string;
  parentId?: string;
  seq: number;
  doc: EntityDocument;
}

/**
 * A value `patch` sets: a constant (text or null), or a copy of another top-level text field of the same row
 * (`keep`: only when the field has no value yet).
 */
export type PatchValue = string | null | { copyOf: string; keep?: boolean };

/** Ids per statement of `patchMany`: far below both backends' limits on bound parameters. */
const PATCH_CHUNK = 5_000;

export interface OrderTerm {
  sql: string;
  descending: boolean;
}

export interface ListQuery {
  tenantId: string;
  parentId?: string;
  /** Restrict to these entity types (a type-cast segment: the type and its descendants). */
  types?: string[];
  /** Adds a WHERE fragment; receives the params array so far and pushes its own values. */
  where?: (params: unknown[]) => string;
  orderBy: OrderTerm[];
  top: number;
  skip: number;
  /** Keyset continuation in insertion order (only when orderBy is empty). */
  afterSeq?: number;
  count: boolean;
}

export interface ListResult {
  rows: StoredEntity[];
  count?: number;
}

const ENTITY_COLUMNS = (table: StorageTable) => (table.parented ? "id, parent_id, odata_type, seq, doc" : "id, odata_type, seq, doc");

export { canonicalDateTime };

export class EntityStore {
  constructor(readonly model: CompiledModel) {}

  private columnValue(x: SqlExecutor, c: StorageColumn, doc: EntityDocument): unknown {
    return columnValue(x.dialect, c, doc);
  }

  private decode(x: SqlExecutor, row: Row): StoredEntity {
    const raw = row.doc;
    return {
      id: row.id as string,
      type: row.odata_type as string,
      parentId: (row.parent_id as string | undefined) ?? undefined,
      seq: Number(row.seq),
      doc: typeof raw === "string" ? (JSON.parse(raw) as EntityDocument) : (raw as EntityDocument),
    };
  }

  private encodeDoc(x: SqlExecutor, doc: EntityDocument) {
    return encodeDoc(doc);
  }

  async insert(x: SqlExecutor, table: StorageTable, tenantId: string, e: Omit<StoredEntity, "seq">): Promise<void> {
    const columns = writtenColumns(x.dialect, table);
    const names = ["tenant_id", "id", ...(table.parented ? ["parent_id"] : []), "odata_type", "doc", ...columns.map((c) => c.column)];
    const values = [
      tenantId,
      e.id,
      ...(table.parented ? [e.parentId] : []),
      e.type,
      this.encodeDoc(x, e.doc),
      ...columns.map((c) => this.columnValue(x, c, e.doc)),
    ];
    const placeholders = values.map((_, i) => x.dialect.param(i + 1));
    await x.run(`INSERT INTO ${table.name} (${names.join(", ")}) VALUES (${placeholders.join(", ")})`, values);
  }

  /**
   * Inserts many entities of one table with multi-row INSERTs (chunked to the backend's parameter limit), each
   * row's values computed exactly as `insert` computes them.
   */
  async insertMany(x: SqlExecutor, table: StorageTable, tenantId: string, entities: readonly Omit<StoredEntity, "seq">[]): Promise<void> {
    const layout = rowLayout(x.dialect, table);
    await insertRows(x, table.name, layout.names, entities, (e, values, at) => encodeRow(layout, tenantId, e, values, at));
  }

  /**
   * Rows already encoded with `encodeRow` (elsewhere, e.g. on a worker thread): `values` holds them back to back.
   * `docAsBytes` (SQLite): each row's document is its JSON text as UTF-8 bytes, stored as the text they encode.
   */
  async insertEncoded(x: SqlExecutor, layout: RowLayout, values: readonly unknown[], options: { docAsBytes?: boolean } = {}): Promise<void> {
    await insertValueRows(x, layout.table, layout.names, values, options.docAsBytes ? { textFromBytes: "doc" } : {});
  }

  /**
   * Some properties of every entity of a tenant, in insertion order, without decoding documents: indexed
   * properties come from their columns, others from the document (as text).
   */
  async listProperties(x: SqlExecutor, table: StorageTable, tenantId: string, properties: readonly string[]): Promise<{ id: string; values: Record<string, unknown> }[]> {
    const selected = properties.map((property, i) => {
      const column = table.columns.find((c) => c.property === property);
      return `${column ? columnSql(x.dialect, column) : x.dialect.jsonText("doc", property)} AS v${i}`;
    });
    const rows = await x.all(`SELECT id${selected.map((s) => `, ${s}`).join("")} FROM ${table.name} WHERE tenant_id = ${x.dialect.param(1)} ORDER BY seq`, [tenantId]);
    return rows.map((r) => ({ id: r.id as string, values: Object.fromEntries(properties.map((p, i) => [p, r[`v${i}`]])) }));
  }

  /** Every row of a tenant in a contained table, whatever its parent, in insertion order (engines read them whole). */
  async listAcrossParents(x: SqlExecutor, table: StorageTable, tenantId: string): Promise<StoredEntity[]> {
    const rows = await x.all(`SELECT ${ENTITY_COLUMNS(table)} FROM ${table.name} WHERE tenant_id = ${x.dialect.param(1)} ORDER BY seq`, [tenantId]);
    return rows.map((r) => this.decode(x, r));
  }

  /** The by-key SELECT of each table and dialect, built once: the hottest statement of every read. */
  private readonly getStatements = new Map<StorageTable, Map<SqlExecutor["dialect"], { byKey: string; underParent: string }>>();

  private getSql(x: SqlExecutor, table: StorageTable) {
    let byDialect = this.getStatements.get(table);
    if (!byDialect) this.getStatements.set(table, (byDialect = new Map()));
    let sql = byDialect.get(x.dialect);
    if (!sql) {
      const p = (n: number) => x.dialect.param(n);
      const byKey = `SELECT ${ENTITY_COLUMNS(table)} FROM ${table.name} WHERE tenant_id = ${p(1)} AND id = ${p(2)}`;
      byDialect.set(x.dialect, (sql = { byKey, underParent: `${byKey} AND parent_id = ${p(3)}` }));
    }
    return sql;
  }

  async get(x: SqlExecutor, table: StorageTable, tenantId: string, id: string, parentId?: string): Promise<StoredEntity | undefined> {
    const sql = this.getSql(x, table);
    const rows = table.parented && parentId !== undefined ? await x.all(sql.underParent, [tenantId, id, parentId]) : await x.all(sql.byKey, [tenantId, id]);
    return rows[0] ? this.decode(x, rows[0]) : undefined;
  }

  /** Fetches several entities by id in one statement; missing ids are absent from the map. */
  async getMany(x: SqlExecutor, table: StorageTable, tenantId: string, ids: string[]): Promise<Map<string, StoredEntity>> {
    const found = new Map<string, StoredEntity>();
    if (ids.length === 0) return found;
    const params: unknown[] = [tenantId, ...ids];
    const list = ids.map((_, i) => x.dialect.param(i + 2)).join(", ");
    for (const row of await x.all(`SELECT ${ENTITY_COLUMNS(table)} FROM ${table.name} WHERE tenant_id = ${x.dialect.param(1)} AND id IN (${list})`, params)) {
      const e = this.decode(x, row);
      found.set(e.id, e);
    }
    return found;
  }

  async replace(x: SqlExecutor, table: StorageTable, tenantId: string, e: Omit<StoredEntity, "seq" | "parentId">): Promise<void> {
    const columns = writtenColumns(x.dialect, table);
    const sets = ["odata_type", "doc", ...columns.map((c) => c.column)];
    const values: unknown[] = [e.type, this.encodeDoc(x, e.doc), ...columns.map((c) => this.columnValue(x, c, e.doc))];
    const assignments = sets.map((s, i) => `${s} = ${x.dialect.param(i + 1)}`).join(", ");
    values.push(tenantId, e.id);
    await x.run(
      `UPDATE ${table.name} SET ${assignments} WHERE tenant_id = ${x.dialect.param(values.length - 1)} AND id = ${x.dialect.param(values.length)}`,
      values,
    );
  }

  /**
   * Set-based change of many rows in one statement: the same fields set (or copied, or removed) in every
   * document the WHERE fragment selects, and the indexed columns of the set fields kept equal. Answers the
   * number of rows changed.
   */
  async patch(
    x: SqlExecutor,
    table: StorageTable,
    tenantId: string,
    set: Readonly<Record<string, PatchValue>>,
    remove: readonly string[],
    where: (params: unknown[]) => string,
  ): Promise<number> {
    // Parameters are pushed in the order their placeholders appear (SQLite's are positional).
    const params: unknown[] = [];
    const mark = (v: unknown) => (params.push(v), x.dialect.param(params.length));
    const valueSql = (field: string, v: PatchValue) => {
      if (v === null || typeof v !== "object") return mark(v);
      const copy = x.dialect.jsonText("doc", v.copyOf);
      return v.keep ? `COALESCE(${x.dialect.jsonText("doc", field)}, ${copy})` : copy;
    };
    const entries = Object.entries(set);
    const doc = x.dialect.jsonPatch("doc", entries.map(([field, v]) => ({ field, valueSql: valueSql(field, v) })), remove);
    const columns: string[] = [];
    for (const c of writtenColumns(x.dialect, table)) {
      if (remove.includes(c.property)) columns.push(`${c.column} = NULL`);
      if (!(c.property in set)) continue;
      const v = set[c.property];
      const constant = v === null || typeof v !== "object";
      columns.push(`${c.column} = ${constant ? mark(this.columnValue(x, c, { [c.property]: v })) : valueSql(c.property, v)}`);
    }
    const tenant = mark(tenantId);
    const sql = `UPDATE ${table.name} SET ${["doc = " + doc, ...columns].join(", ")} WHERE tenant_id = ${tenant} AND (${where(params)})`;
    return (await x.run(sql, params)).changes;
  }

  /** `patch` of the rows with these ids (in chunks, each bound as one list), optionally narrowed by a further condition. */
  async patchMany(
    x: SqlExecutor,
    table: StorageTable,
    tenantId: string,
    ids: readonly string[],
    set: Readonly<Record<string, PatchValue>>,
    remove: readonly string[] = [],
    also?: (params: unknown[]) => string,
  ): Promise<number> {
    let changed = 0;
    for (let i = 0; i < ids.length; i += PATCH_CHUNK) {
      const slice = ids.slice(i, i + PATCH_CHUNK);
      changed += await this.patch(x, table, tenantId, set, remove, (params) => {
        params.push(x.dialect.bindList(slice));
        return `${x.dialect.inList("id", x.dialect.param(params.length))}${also ? ` AND (${also(params)})` : ""}`;
      });
    }
    return changed;
  }

  /**
   * Sets one unindexed field of many documents, each row its own (JSON) value, in as few statements as the
   * parameter limit allows: the rest of each document and every indexed column stay untouched.
   */
  async patchEach(x: SqlExecutor, table: StorageTable, tenantId: string, field: string, rows: readonly { id: string; value: unknown }[]): Promise<void> {
    if (writtenColumns(x.dialect, table).some((c) => c.property === field)) throw new Error(`${field} is a written column of ${table.name}; use replaceMany`);
    const perStatement = Math.max(1, rowsPerStatement(x.dialect, 2) - 1);
    const doc = x.dialect.jsonPatch("doc", [{ field, valueSql: "v.value", json: true }], []);
    for (let start = 0; start < rows.length; start += perStatement) {
      const params: unknown[] = [];
      const mark = (v: unknown) => (params.push(v), x.dialect.param(params.length));
      const tuples = rows.slice(start, start + perStatement).map((r) => `(${mark(r.id)}, ${mark(JSON.stringify(r.value))})`);
      const tenant = mark(tenantId);
      await x.run(`WITH v (id, value) AS (VALUES ${tuples.join(", ")}) UPDATE ${table.name} SET doc = ${doc} FROM v WHERE ${table.name}.tenant_id = ${tenant} AND ${table.name}.id = v.id`, params);
    }
  }

  /**
   * Replaces many entities of one table (documents and indexed columns, each row its own values) in as few
   * statements as the parameter limit allows: an UPDATE … FROM a VALUES list.
   */
  async replaceMany(x: SqlExecutor, table: StorageTable, tenantId: string, entities: readonly Omit<StoredEntity, "seq" | "parentId">[]): Promise<void> {
    const kindOf = (c: StorageColumn) =>
      c.type === "Edm.Boolean" ? "boolean" : c.type === "Edm.Int32" || c.type === "Edm.Int64" ? "integer" : c.type === "Edm.Double" ? "real" : "text";
    const columns = writtenColumns(x.dialect, table);
    const names = ["id", "odata_type", "doc", ...columns.map((c) => c.column)];
    const width = names.length;
    const perStatement = Math.max(1, rowsPerStatement(x.dialect, width) - 1);
    const sets = [
      `odata_type = v.odata_type`,
      `doc = ${x.dialect.typed("v.doc", "json")}`,
      ...columns.map((c) => `${c.column} = ${x.dialect.typed(`v.${c.column}`, kindOf(c))}`),
    ].join(", ");
    for (let start = 0; start < entities.length; start += perStatement) {
      const slice = entities.slice(start, start + perStatement);
      const params: unknown[] = [];
      const tuples = slice.map((e) => {
        const values = [e.id, e.type, this.encodeDoc(x, e.doc), ...columns.map((c) => this.columnValue(x, c, e.doc))];
        return `(${values.map((v) => (params.push(v), x.dialect.param(params.length))).join(", ")})`;
      });
      params.push(tenantId);
      const tenant = x.dialect.param(params.length);
      await x.run(`WITH v (${names.join(", ")}) AS (VALUES ${tuples.join(", ")}) UPDATE ${table.name} SET ${sets} FROM v WHERE ${table.name}.tenant_id = ${tenant} AND ${table.name}.id = v.id`, params);
    }
  }

  /** Deletes an entity and, recursively, everything contained in it. */
  async delete(x: SqlExecutor, table: StorageTable, tenantId: string, entity: StoredEntity): Promise<void> {
    await this.deleteContained(x, tenantId, this.model.entityType(entity.type), [entity.id]);
    await x.run(`DELETE FROM ${table.name} WHERE tenant_id = ${x.dialect.param(1)} AND id = ${x.dialect.param(2)}`, [tenantId, entity.id]);
  }

  private async deleteContained(x: SqlExecutor, tenantId: string, type: EntityType, parentIds: string[]): Promise<void> {
    if (parentIds.length === 0) return;
    const navs = new Map<string, { table: StorageTable; target: EntityType }>();
    const visit = (t: EntityType) => {
      for (const nav of t.navigation.values()) {
        if (nav.table?.parented) navs.set(nav.table.name, { table: nav.table, target: this.model.entityType(nav.target) });
      }
      t.derived.forEach(visit);
    };
    visit(type);
    for (const { table, target } of navs.values()) {
      const list = parentIds.map((_, i) => x.dialect.param(i + 2)).join(", ");
      const params = [tenantId, ...parentIds];
      const children = await x.all<{ id: string }>(`SELECT id FROM ${table.name} WHERE tenant_id = ${x.dialect.param(1)} AND parent_id IN (${list})`, params);
      await this.deleteContained(x, tenantId, target, children.map((c) => c.id));
      await x.run(`DELETE FROM ${table.name} WHERE tenant_id = ${x.dialect.param(1)} AND parent_id IN (${list})`, params);
    }
  }

  async list(x: SqlExecutor, table: StorageTable, q: ListQuery): Promise<ListResult> {
    const params: unknown[] = [q.tenantId];
    const p = () => x.dialect.param(params.length);
    const conditions = [`tenant_id = ${x.dialect.param(1)}`];
    if (table.parented) {
      params.push(q.parentId);
      conditions.push(`parent_id = ${p()}`);
    }
    if (q.types) {
      const marks = q.types.map((t) => {
        params.push(t);
        return p();
      });
      conditions.push(`odata_type IN (${marks.join(", ")})`);
    }
    if (q.where) conditions.push(`(${q.where(params)})`);
    const where = conditions.join(" AND ");
    let count: number | undefined;
    if (q.count) {
      const [row] = await x.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table.name} WHERE ${where}`, params);
      count = Number(row.n);
    }
    // No row past the skipped ones (the page's conditions only narrow the counted ones): the page query would
    // test every row only to find none, which with a per-row overlay predicate costs as much as the count.
    if (q.top === 0 || (count !== undefined && count <= q.skip)) return { rows: [], count };
    const pageParams = [...params];
    let pageWhere = where;
    if (q.afterSeq !== undefined) {
      pageParams.push(q.afterSeq);
      pageWhere += ` AND seq > ${x.dialect.param(pageParams.length)}`;
    }
    const order = [...q.orderBy.map((o) => `${o.sql} ${o.descending ? "DESC" : "ASC"}`), "seq ASC"].join(", ");
    pageParams.push(q.top, q.skip);
    // Only what decode() reads: the indexed columns stay in the table.
    const sql = `SELECT ${ENTITY_COLUMNS(table)} FROM ${table.name} WHERE ${pageWhere} ORDER BY ${order} LIMIT ${x.dialect.param(pageParams.length - 1)} OFFSET ${x.dialect.param(pageParams.length)}`;
    const rows = (await x.all(sql, pageParams)).map((r) => this.decode(x, r));
    return { rows, count };
  }

  /** Entities whose (case-insensitive, indexed) column equals a value: lookups by UPN, name, serial number. */
  async findBy(x: SqlExecutor, table: StorageTable, tenantId: string, property: string, value: string, limit = 1): Promise<StoredEntity[]> {
    const column = propertySql(x.dialect, table, property);
    const { rows } = await this.list(x, table, {
      tenantId,
      where: (params) => (params.push(value), x.dialect.compareText(column, "=", x.dialect.param(params.length))),
      orderBy: [],
      top: limit,
      skip: 0,
      count: false,
    });
    return rows;
  }

  async count(x: SqlExecutor, table: StorageTable, tenantId: string): Promise<number> {
    const [row] = await x.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table.name} WHERE tenant_id = ${x.dialect.param(1)}`, [tenantId]);
    return Number(row.n);
  }
}
