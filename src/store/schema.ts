// Start-up migration. The fixed tables are versioned migrations; the entity tables are derived from the model
// and reconciled additively on every start (a new filterable property becomes a new column and index).

import type { CompiledModel, StorageColumn, StorageTable } from "../odata/compiledModel.js";
import type { Database, SqlExecutor } from "./database.js";
import { isDerivedColumn } from "./derivedColumns.js";
import type { SqlDialect } from "./sqlDialect.js";

export const SCHEMA_VERSION = 13;

interface ExistingColumn {
  name: string;
  /** A generated column (SQLite: virtual or stored), computed from the row rather than written. */
  generated: boolean;
}

/**
 * PostgreSQL: how full (%) pages of a table whose rows are rewritten in place (`rewrittenInPlace`) are filled by
 * inserts. An UPDATE that changes no indexed column stays on its page when the page has room (a HOT update: no
 * new entry in any of the table's indexes); pages filled to the brim move every new row version to another page,
 * with an entry in each index. Half a page free holds a new version of each of its rows, so a bulk rewrite of
 * every row (a retag of the fleet, its rows on a page often in one batch) stays HOT. Applies to pages written
 * from then on; SQLite has no such setting (it rewrites the row in its B-tree leaf).
 */
const REWRITTEN_FILL_FACTOR = 50;

interface Ddl {
  json: string;
  seqColumn: string;
  columnType(c: StorageColumn): string;
  indexExpression(c: StorageColumn): string;
  existingColumns(db: Database, table: string): Promise<ExistingColumn[]>;
}

const sqliteColumnType = (c: StorageColumn) =>
  c.type === "Edm.Boolean" || c.type === "Edm.Int32" || c.type === "Edm.Int64"
    ? "INTEGER"
    : c.type === "Edm.Double"
      ? "REAL"
      : "TEXT COLLATE NOCASE";

const sqliteDdl: Ddl = {
  json: "TEXT",
  seqColumn: "seq INTEGER PRIMARY KEY AUTOINCREMENT",
  columnType: sqliteColumnType,
  indexExpression: (c) => c.column,
  // table_xinfo also lists generated columns (hidden 2: virtual, 3: stored), which table_info leaves out.
  existingColumns: async (db, table) =>
    (await db.all<{ name: string; hidden: number }>(`PRAGMA table_xinfo(${table})`)).map((r) => ({ name: r.name, generated: r.hidden === 2 || r.hidden === 3 })),
};

const isText = (c: StorageColumn) => !["Edm.Boolean", "Edm.Int32", "Edm.Int64", "Edm.Double"].includes(c.type);

const postgresDdl: Ddl = {
  json: "JSONB",
  seqColumn: "seq BIGSERIAL",
  columnType: (c) =>
    c.type === "Edm.Boolean"
      ? "BOOLEAN"
      : c.type === "Edm.Int32" || c.type === "Edm.Int64"
        ? "BIGINT"
        : c.type === "Edm.Double"
          ? "DOUBLE PRECISION"
          : "TEXT",
  indexExpression: (c) => (isText(c) ? `lower(${c.column})` : c.column),
  existingColumns: async (db, table) =>
    (
      await db.all<{ column_name: string; is_generated: string }>(
        "SELECT column_name, is_generated FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
        [table],
      )
    ).map((r) => ({ name: r.column_name, generated: r.is_generated === "ALWAYS" })),
};

const ddlFor = (db: Database) => (db.kind === "sqlite" ? sqliteDdl : postgresDdl);

/** The fixed tables, one entry per schema version. */
function fixedMigrations(ddl: Ddl): string[] {
  const seqKeyed = (name: string, columns: string, key: string) =>
    ddl === sqliteDdl
      ? `CREATE TABLE IF NOT EXISTS ${name} (${ddl.seqColumn}, ${columns}, UNIQUE (${key}))`
      : `CREATE TABLE IF NOT EXISTS ${name} (${ddl.seqColumn}, ${columns}, PRIMARY KEY (${key}))`;
  return [
    [
      "CREATE TABLE IF NOT EXISTS allot_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      `CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, doc ${ddl.json} NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS app_registrations (tenant_id TEXT NOT NULL, app_id TEXT NOT NULL, doc ${ddl.json} NOT NULL, PRIMARY KEY (tenant_id, app_id))`,
      `CREATE TABLE IF NOT EXISTS signing_keys (kid TEXT PRIMARY KEY, created_at TEXT NOT NULL, doc ${ddl.json} NOT NULL)`,
      seqKeyed(
        "group_members",
        "tenant_id TEXT NOT NULL, group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_type TEXT NOT NULL, dynamic INTEGER NOT NULL",
        "tenant_id, group_id, member_id",
      ),
      "CREATE INDEX IF NOT EXISTS group_members_by_member ON group_members (tenant_id, member_id)",
      "CREATE INDEX IF NOT EXISTS group_members_by_group_seq ON group_members (tenant_id, group_id, seq)",
    ].join(";\n"),
    // 2: the reconciler's queue (pending lifecycle steps) and its log of applied steps, whose key makes every
    // step happen at most once whatever crashes or competing processes do.
    [
      seqKeyed(
        "pending_work",
        `tenant_id TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, subject_id TEXT NOT NULL, step INTEGER NOT NULL,
         due_at TEXT NOT NULL, reads_left INTEGER, payload ${ddl.json} NOT NULL, lease_owner TEXT, lease_until TEXT`,
        "tenant_id, id",
      ),
      "CREATE INDEX IF NOT EXISTS pending_work_due ON pending_work (due_at)",
      "CREATE INDEX IF NOT EXISTS pending_work_subject ON pending_work (tenant_id, subject_id)",
      `CREATE TABLE IF NOT EXISTS work_log (tenant_id TEXT NOT NULL, work_id TEXT NOT NULL, step INTEGER NOT NULL, kind TEXT NOT NULL,
         subject_id TEXT NOT NULL, applied_at TEXT NOT NULL, applied_by TEXT NOT NULL, PRIMARY KEY (tenant_id, work_id, step))`,
    ].join(";\n"),
    // 3: throttling windows (one row per counter and window, shared by every process on the store) and fault
    // rules (shared too, so "the next N" is counted once across processes).
    [
      // Unlogged on PostgreSQL: counters of 20-second windows need no crash safety, and skipping the WAL takes
      // a commit flush off every throttled request.
      `CREATE ${ddl === postgresDdl ? "UNLOGGED " : ""}TABLE IF NOT EXISTS throttle_windows (tenant_id TEXT NOT NULL, counter TEXT NOT NULL, window_start BIGINT NOT NULL,
         hits INTEGER NOT NULL, PRIMARY KEY (tenant_id, counter, window_start))`,
      "CREATE INDEX IF NOT EXISTS throttle_windows_start ON throttle_windows (window_start)",
      seqKeyed("fault_rules", `id TEXT NOT NULL, tenant_id TEXT, remaining INTEGER, doc ${ddl.json} NOT NULL`, "id"),
    ].join(";\n"),
    // 4: replication lag's snapshots: an entity's state before a recent write (NULL: it did not exist), shown
    // to reads until visible_at (src/store/replicationLag.ts).
    [
      `CREATE TABLE IF NOT EXISTS replica_snapshots (tenant_id TEXT NOT NULL, entity_table TEXT NOT NULL, id TEXT NOT NULL,
         previous TEXT, visible_at TEXT NOT NULL, PRIMARY KEY (tenant_id, entity_table, id))`,
    ].join(";\n"),
    // 5: the configuration engine's maintained state: one row per (configuration, managed device) it is assigned
    // to, with its status and the lifecycle step (wave) that settles it, and per configuration the counts of
    // deviceStatusOverview, kept by deltas in the transaction of every change.
    [
      `CREATE TABLE IF NOT EXISTS configuration_device_states (tenant_id TEXT NOT NULL, configuration_id TEXT NOT NULL,
         managed_device_id TEXT NOT NULL, status TEXT NOT NULL, final_status TEXT NOT NULL, wave_id TEXT, reported_at TEXT NOT NULL,
         PRIMARY KEY (tenant_id, configuration_id, managed_device_id))`,
      "CREATE INDEX IF NOT EXISTS configuration_device_states_by_device ON configuration_device_states (tenant_id, managed_device_id)",
      "CREATE INDEX IF NOT EXISTS configuration_device_states_by_wave ON configuration_device_states (tenant_id, wave_id)",
      `CREATE TABLE IF NOT EXISTS configuration_status_counts (tenant_id TEXT NOT NULL, configuration_id TEXT NOT NULL,
         pending_count INTEGER NOT NULL, success_count INTEGER NOT NULL, not_applicable_count INTEGER NOT NULL,
         error_count INTEGER NOT NULL, conflict_count INTEGER NOT NULL, last_update TEXT NOT NULL,
         PRIMARY KEY (tenant_id, configuration_id))`,
    ].join(";\n"),
    // 6: Autopilot's outstanding scopes: what a scope-wide change (an assignment created, changed or deleted, a
    // profile deleted or retyped) reaches, written in its request instead of a mark on every reached identity;
    // reads overlay `pending` on the identities it reaches until its work item settles them. `mark` orders
    // changes (zero-padded, compared as text): a device marked or settled by a newer change is not reached.
    [
      `CREATE TABLE IF NOT EXISTS autopilot_scopes (tenant_id TEXT NOT NULL, work_id TEXT NOT NULL, mark TEXT NOT NULL,
         kind TEXT NOT NULL, target TEXT NOT NULL, PRIMARY KEY (tenant_id, work_id, kind, target))`,
    ].join(";\n"),
    // 7: the groups of many members read from the index alone. Without group_id in it, SQLite's planner preferred
    // scanning the tenant's whole (tenant_id, group_id, member_id) key for "member_id IN (list)", which grew with
    // every membership (issue 8: seconds per batch of a 100,000-device reassignProfile).
    [
      "CREATE INDEX IF NOT EXISTS group_members_by_member_group ON group_members (tenant_id, member_id, group_id)",
      "DROP INDEX IF EXISTS group_members_by_member",
    ].join(";\n"),
    // 8: on SQLite the entity tables' property columns other than date-times are virtual generated columns over
    // the document (src/store/derivedColumns.ts). The entity tables are the model's, so that conversion is in the
    // reconciliation below (convertColumn); the version number keeps an older Allot, which would write them, off
    // the store. Nothing to run here but a check that the covering membership index of version 7 is there.
    [
      "CREATE INDEX IF NOT EXISTS group_members_by_member_group ON group_members (tenant_id, member_id, group_id)",
    ].join(";\n"),
    // 9: MMD's profile assignment per managed device (persona, status), apart from the device's document, which a
    // reassignment batch would otherwise rewrite for every device it moves (src/mmd/deviceProfiles.ts).
    [
      `CREATE TABLE IF NOT EXISTS mmd_device_profiles (tenant_id TEXT NOT NULL, managed_device_id TEXT NOT NULL, persona TEXT NOT NULL,
         status TEXT NOT NULL, PRIMARY KEY (tenant_id, managed_device_id))`,
    ].join(";\n"),
    // 10: columns declared stored (an Autopilot identity's status) are written on SQLite too, and bookkeeping
    // columns (its `_markSeq`) are added and filled from the documents; both happen in the column reconciliation
    // below, so this step has no statement of its own: the version number keeps an older Allot, which would derive
    // the status again and not write the mark, off the store.
    [
      "SELECT 1",
    ].join(";\n"),
    // 11: on SQLite the derived columns are no longer columns (VIRTUAL generated ones up to here): queries read the
    // document's field instead (columnSql), since SQLite computed every generated column on each INSERT and UPDATE.
    // The column reconciliation below drops them; the version number keeps an older Allot, which would query them,
    // off the store.
    [
      "SELECT 1",
    ].join(";\n"),
    // 12: the audit events' componentName, activityOperationType, activityResult and category lose their indexes
    // (a handful of values each; a bulk reassignment writes thousands of events a batch, issue 8), so on SQLite
    // they become derived properties read from the document, like every unindexed one (11). The column
    // reconciliation below does both; the version number keeps an older Allot, which would write them, off the store.
    [
      "SELECT 1",
    ].join(";\n"),
    // 13: a membership's uniqueness is kept by the (tenant_id, member_id, group_id) index, which already serves the
    // groups of many members, instead of a (tenant_id, group_id, member_id) key of its own: one B-tree of three
    // 36-character ids fewer per membership. One group's members are read through (tenant_id, group_id, seq), a
    // (group, member) pair through the member-first index. A bulk load (the fleet generator) inserts members in
    // random id order, so each call dirtied pages all over both random-order B-trees; now over one.
    ddl === sqliteDdl ? sqliteMembershipKeyByMember : postgresMembershipKeyByMember,
  ];
}

/** SQLite cannot drop a table's UNIQUE constraint: the table is rebuilt, its rows and sequence kept. */
const sqliteMembershipKeyByMember = [
  "BEGIN",
  "DROP TABLE IF EXISTS group_members_v13",
  `CREATE TABLE group_members_v13 (seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, group_id TEXT NOT NULL,
     member_id TEXT NOT NULL, member_type TEXT NOT NULL, dynamic INTEGER NOT NULL)`,
  `INSERT INTO group_members_v13 (seq, tenant_id, group_id, member_id, member_type, dynamic)
     SELECT seq, tenant_id, group_id, member_id, member_type, dynamic FROM group_members ORDER BY seq`,
  // AUTOINCREMENT never reuses a seq, even of rows since deleted: the new table goes on from the old one's.
  "DELETE FROM sqlite_sequence WHERE name = 'group_members_v13'",
  "INSERT INTO sqlite_sequence (name, seq) SELECT 'group_members_v13', seq FROM sqlite_sequence WHERE name = 'group_members'",
  "DROP TABLE group_members",
  "ALTER TABLE group_members_v13 RENAME TO group_members",
  "CREATE UNIQUE INDEX group_members_by_member_group ON group_members (tenant_id, member_id, group_id)",
  "CREATE INDEX group_members_by_group_seq ON group_members (tenant_id, group_id, seq)",
  "COMMIT",
].join(";\n");

const postgresMembershipKeyByMember = [
  "DROP INDEX IF EXISTS group_members_by_member_group",
  "CREATE UNIQUE INDEX group_members_by_member_group ON group_members (tenant_id, member_id, group_id)",
  "ALTER TABLE group_members DROP CONSTRAINT IF EXISTS group_members_pkey",
].join(";\n");

function entityTableStatements(ddl: Ddl, dialect: SqlDialect, t: StorageTable): string[] {
  const columns = [
    "tenant_id TEXT NOT NULL",
    "id TEXT NOT NULL",
    ...(t.parented ? ["parent_id TEXT NOT NULL"] : []),
    "odata_type TEXT NOT NULL",
    `doc ${ddl.json} NOT NULL`,
    ...t.columns.filter((c) => !isDerivedColumn(dialect, c)).map((c) => `${c.column} ${ddl.columnType(c)}`),
  ];
  const key = "tenant_id, id";
  const create =
    ddl === sqliteDdl
      ? `CREATE TABLE IF NOT EXISTS ${t.name} (${ddl.seqColumn}, ${columns.join(", ")}, UNIQUE (${key}))`
      : `CREATE TABLE IF NOT EXISTS ${t.name} (${ddl.seqColumn}, ${columns.join(", ")}, PRIMARY KEY (${key}))`;
  const scope = t.parented ? "tenant_id, parent_id" : "tenant_id";
  return [
    create,
    `CREATE INDEX IF NOT EXISTS ${t.name}__seq ON ${t.name} (${scope}, seq)`,
    ...t.columns.map((c) =>
      c.indexed
        ? `CREATE INDEX IF NOT EXISTS ${t.name}__${c.column} ON ${t.name} (${scope}, ${ddl.indexExpression(c)})`
        : // A store made before the model dropped this index keeps its column and loses the index.
          `DROP INDEX IF EXISTS ${t.name}__${c.column}`,
    ),
  ];
}

export async function migrate(db: Database, model: CompiledModel, ...moreModels: CompiledModel[]): Promise<void> {
  const ddl = ddlFor(db);
  await db.exec("CREATE TABLE IF NOT EXISTS allot_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const current = Number((await db.all<{ value: string }>("SELECT value FROM allot_meta WHERE key = 'schema_version'"))[0]?.value ?? 0);
  if (current > SCHEMA_VERSION) {
    throw new Error(`the store has schema version ${current}, newer than this Allot (${SCHEMA_VERSION}); upgrade Allot`);
  }
  const migrations = fixedMigrations(ddl);
  for (let v = current; v < SCHEMA_VERSION; v++) {
    try {
      await db.exec(migrations[v]);
    } catch (e) {
      // A SQLite step that opened its own transaction (13) leaves nothing half done.
      if (db.kind === "sqlite") await db.exec("ROLLBACK").catch(() => undefined);
      throw e;
    }
  }
  for (const table of [model, ...moreModels].flatMap((m) => m.tables)) {
    const [create, ...indexes] = entityTableStatements(ddl, db.dialect, table);
    await db.exec(create);
    const existing = new Map((await ddl.existingColumns(db, table.name)).map((c) => [c.name, c]));
    for (const c of table.columns) {
      const found = existing.get(c.column);
      if (isDerivedColumn(db.dialect, c)) {
        if (found) await dropColumn(db, table, c);
      } else if (!found) await addColumn(db, ddl, table, c);
      else if (found.generated) await convertColumn(db, ddl, table, c);
    }
    await db.exec(indexes.join(";\n"));
    if (db.kind === "postgres" && table.rewrittenInPlace) await leaveRoomForRewrites(db, table.name);
  }
  const upsert = `INSERT INTO allot_meta (key, value) VALUES ('schema_version', ${db.dialect.param(1)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;

  await db.run(upsert, [String(SCHEMA_VERSION)]);
}

/** PostgreSQL: sets the table's fill factor (REWRITTEN_FILL_FACTOR) unless it has it already. */
async function leaveRoomForRewrites(db: Database, table: string) {
  const setting = `fillfactor=${REWRITTEN_FILL_FACTOR}`;
  const [row] = await db.all<{ reloptions: string[] | null }>("SELECT reloptions FROM pg_class WHERE oid = to_regclass($1)", [table]);
  if (row && !(row.reloptions ?? []).includes(setting)) await db.exec(`ALTER TABLE ${table} SET (fillfactor = ${REWRITTEN_FILL_FACTOR})`);
}

/** A written column the model added, filled from the documents already stored. */
async function addColumn(db: Database, ddl: Ddl, table: StorageTable, c: StorageColumn) {
  await db.exec(
    [
      `ALTER TABLE ${table.name} ADD COLUMN ${c.column} ${ddl.columnType(c)}`,
      `UPDATE ${table.name} SET ${c.column} = ${db.dialect.typed(db.dialect.jsonText("doc", c.property), valueKind(c))}`,
    ].join(";\n"),
  );
}

/**
 * A column that queries now read from the document (a generated column of schema versions 8 to 10, or a written
 * one of version 5 or less): it goes with any index of it. Dropping a virtual column rewrites no row.
 */
async function dropColumn(db: Database, table: StorageTable, c: StorageColumn) {
  await db.exec([`DROP INDEX IF EXISTS ${table.name}__${c.column}`, `ALTER TABLE ${table.name} DROP COLUMN ${c.column}`].join(";\n"));
}

const valueKind = (c: StorageColumn) =>
  c.type === "Edm.Boolean" ? "boolean" : c.type === "Edm.Int32" || c.type === "Edm.Int64" ? "integer" : c.type === "Edm.Double" ? "real" : "text";

/**
 * A generated column (schema versions 8 to 10) that is written now (a column declared stored, or one that became
 * indexed): its index goes, the column is dropped, added anew and filled from the documents once, and the index
 * comes back with the others.
 */
async function convertColumn(db: Database, ddl: Ddl, table: StorageTable, c: StorageColumn) {
  await db.exec(
    [
      `DROP INDEX IF EXISTS ${table.name}__${c.column}`,
      `ALTER TABLE ${table.name} DROP COLUMN ${c.column}`,
      `ALTER TABLE ${table.name} ADD COLUMN ${c.column} ${ddl.columnType(c)}`,
      `UPDATE ${table.name} SET ${c.column} = ${db.dialect.jsonText("doc", c.property)}`,
    ].join(";\n"),
  );
}

/** Every table that holds per-tenant rows, for a tenant reset. */
export const tenantTables = (models: CompiledModel[]) => [...models.flatMap((m) => m.tables.map((t) => t.name)), "group_members", "pending_work", "work_log", "throttle_windows", "replica_snapshots", "configuration_device_states", "configuration_status_counts", "autopilot_scopes", "mmd_device_profiles"];

/** Deletes one tenant's Graph state (not its identity: tenant row, apps and keys stay). */
export async function wipeTenantState(x: SqlExecutor, models: CompiledModel[], tenantId: string) {
  for (const table of tenantTables(models)) await x.run(`DELETE FROM ${table} WHERE tenant_id = ${x.dialect.param(1)}`, [tenantId]);
}
