// A store of schema version 5 (every property column written, a member's groups indexed without group_id) is
// brought to the current version at start-up, its rows kept: on SQLite the derived columns go, queries reading
// them from the documents (src/store/derivedColumns.ts), on both backends the membership index is replaced. A
// store of version 10 (derived columns as VIRTUAL generated ones) loses those columns, its rows kept; one of version
// 11 loses the audit events' low-cardinality indexes (on SQLite those properties become derived ones); one of
// version 12 keeps its memberships, their order and sequence, unique by the member-first index alone.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { graphModel } from "../../src/graph/model/index.js";
import type { Database } from "../../src/store/database.js";
import { columnSql, isDerivedColumn } from "../../src/store/derivedColumns.js";
import { Memberships } from "../../src/directory/memberships.js";
import { EntityStore } from "../../src/store/entityStore.js";
import { migrate, SCHEMA_VERSION } from "../../src/store/schema.js";
import { openDatabase } from "../../src/server/allotServer.js";
import { backendsToTest, dropPostgresSchema, freshStore } from "../support/allotUnderTest.js";

const T1 = "11111111-1111-4111-8111-111111111111";
const users = graphModel.entitySets.get("users")!.table;

const indexNames = async (db: Database, table: string) =>
  db.kind === "sqlite"
    ? (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table])).map((r) => r.name)
    : (await db.all<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1", [table])).map((r) => r.indexname);

const tableColumns = async (db: Database, table: string) =>
  db.kind === "sqlite"
    ? (await db.all<{ name: string }>(`PRAGMA table_xinfo(${table})`)).map((r) => r.name)
    : (await db.all<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", [table])).map((r) => r.column_name);

const generatedColumns = async (db: Database, table: string) =>
  db.kind === "sqlite"
    ? (await db.all<{ name: string; hidden: number }>(`PRAGMA table_xinfo(${table})`)).filter((r) => r.hidden === 2).map((r) => r.name)
    : (await db.all<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'ALWAYS'", [table])).map((r) => r.column_name);

for (const backend of await backendsToTest()) {
  describe(`schema migration from version 5 (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    const entities = new EntityStore(graphModel);
    const department = users.columns.find((c) => c.property === "department")!;
    const enabled = users.columns.find((c) => c.property === "accountEnabled")!;

    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel);
      await entities.insert(db, users, T1, { id: "u-1", type: "user", doc: { id: "u-1", displayName: "One", department: "Sales", accountEnabled: true, userPrincipalName: "one@x.test" } });
      await entities.insert(db, users, T1, { id: "u-2", type: "user", doc: { id: "u-2", displayName: "Two", department: "Legal", accountEnabled: false, userPrincipalName: "two@x.test" } });
      // Back to version 5's shape: written columns holding the documents' values, the old membership index.
      for (const c of [department, enabled]) {
        if (!isDerivedColumn(db.dialect, c)) continue;
        if ((await tableColumns(db, users.name)).includes(c.column)) await db.exec(`DROP INDEX IF EXISTS ${users.name}__${c.column}; ALTER TABLE ${users.name} DROP COLUMN ${c.column}`);
        await db.exec(`ALTER TABLE ${users.name} ADD COLUMN ${c.column} ${c.type === "Edm.Boolean" ? "INTEGER" : "TEXT COLLATE NOCASE"}`);
        await db.run(`UPDATE ${users.name} SET ${c.column} = ${db.dialect.jsonText("doc", c.property)}`);
      }
      await db.exec("DROP INDEX IF EXISTS group_members_by_member_group; CREATE INDEX group_members_by_member ON group_members (tenant_id, member_id)");
      await db.run(`UPDATE allot_meta SET value = ${db.dialect.param(1)} WHERE key = 'schema_version'`, ["5"]);
    });
    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    it("version 5 is brought to the current version with its rows, columns and indexes", async () => {
      if (db.kind === "sqlite") assert.ok(!(await generatedColumns(db, users.name)).includes(department.column), "the simulated version 5 store writes the column");
      await migrate(db, graphModel);
      const [row] = await db.all<{ value: string }>("SELECT value FROM allot_meta WHERE key = 'schema_version'");
      assert.equal(Number(row.value), SCHEMA_VERSION);
      assert.deepEqual(await generatedColumns(db, users.name), [], "no generated column");
      const columns = await tableColumns(db, users.name);
      for (const c of users.columns) assert.equal(columns.includes(c.column), !isDerivedColumn(db.dialect, c), `${c.column} a column on ${backend}`);
      const memberIndexes = await indexNames(db, "group_members");
      assert.ok(memberIndexes.includes("group_members_by_member_group") && !memberIndexes.includes("group_members_by_member"), memberIndexes.join(", "));
      const userIndexes = await indexNames(db, users.name);
      for (const c of users.columns.filter((c) => c.indexed)) assert.ok(userIndexes.includes(`${users.name}__${c.column}`), `index of ${c.column}`);
    });

    it("after the migration, derived values follow the documents on insert and replace, and filters use them", async () => {
      const sales = async () =>
        (
          await entities.list(db, users, {
            tenantId: T1,
            where: (params) => (params.push("sales"), db.dialect.compareText(columnSql(db.dialect, department), "=", db.dialect.param(params.length))),
            orderBy: [],
            top: 10,
            skip: 0,
            count: false,
          })
        ).rows.map((r) => r.id);
      assert.deepEqual(await sales(), ["u-1"]);
      await entities.insert(db, users, T1, { id: "u-3", type: "user", doc: { id: "u-3", displayName: "Three", department: "SALES", accountEnabled: true, userPrincipalName: "three@x.test" } });
      await entities.replace(db, users, T1, { id: "u-1", type: "user", doc: { id: "u-1", displayName: "One", department: "Legal", accountEnabled: true, userPrincipalName: "one@x.test" } });
      assert.deepEqual(await sales(), ["u-3"]);
      const rows = await db.all(`SELECT id, ${columnSql(db.dialect, enabled)} AS enabled FROM ${users.name} WHERE tenant_id = ${db.dialect.param(1)} ORDER BY id`, [T1]);
      assert.deepEqual(rows.map((r) => [r.id, r.enabled === true || r.enabled === 1]), [["u-1", true], ["u-2", false], ["u-3", true]]);
    });
  });
}

const identities = graphModel.entityType("deviceManagement").navigation.get("windowsAutopilotDeviceIdentities")!.table!;

for (const backend of await backendsToTest()) {
  describe(`schema migration from version 8 (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    const entities = new EntityStore(graphModel);
    const mark = identities.columns.find((c) => c.property === "_markSeq")!;
    const status = identities.columns.find((c) => c.property === "deploymentProfileAssignmentStatus")!;

    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel);
      await entities.insert(db, identities, T1, { id: "a-1", type: "windowsAutopilotDeviceIdentity", doc: { id: "a-1", deploymentProfileAssignmentStatus: "assignedInSync", _markSeq: "0000000000000042" } });
      // Version 8's shape: no mark column, and on SQLite the status derived from the document.
      await db.exec(`ALTER TABLE ${identities.name} DROP COLUMN ${mark.column}`);
      if (db.kind === "sqlite") {
        await db.exec(`ALTER TABLE ${identities.name} DROP COLUMN ${status.column}; ALTER TABLE ${identities.name} ADD COLUMN ${status.column} TEXT COLLATE NOCASE GENERATED ALWAYS AS (json_extract(doc, '$.deploymentProfileAssignmentStatus')) VIRTUAL`);
      }
      await db.run(`UPDATE allot_meta SET value = ${db.dialect.param(1)} WHERE key = 'schema_version'`, ["8"]);
    });
    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    it("the identities' mark column is added and filled from the documents, the status is a written column", async () => {
      await migrate(db, graphModel);
      assert.ok(!(await generatedColumns(db, identities.name)).includes(status.column), "the status is written");
      const [row] = await db.all(`SELECT ${mark.column} AS mark, ${status.column} AS status FROM ${identities.name} WHERE tenant_id = ${db.dialect.param(1)}`, [T1]);
      assert.deepEqual([row.mark, row.status], ["0000000000000042", "assignedInSync"]);
    });
  });
}

const managedDevices = graphModel.entityType("deviceManagement").navigation.get("managedDevices")!.table!;

for (const backend of await backendsToTest()) {
  describe(`schema migration from version 10 (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    const entities = new EntityStore(graphModel);
    const osVersion = managedDevices.columns.find((c) => c.property === "osVersion")!;
    const encrypted = managedDevices.columns.find((c) => c.property === "isEncrypted")!;

    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel);
      for (const [id, os, enc] of [["m-1", "10.0.22631.1", true], ["m-2", "10.0.19045.2", false]] as const) {
        await entities.insert(db, managedDevices, T1, { id, type: "managedDevice", doc: { id, deviceName: id, osVersion: os, isEncrypted: enc } });
      }
      // Version 10's shape on SQLite: every derived column a VIRTUAL generated column over the document.
      if (db.kind === "sqlite") {
        for (const c of managedDevices.columns.filter((c) => isDerivedColumn(db.dialect, c))) {
          const type = c.type === "Edm.Boolean" || c.type === "Edm.Int32" || c.type === "Edm.Int64" ? "INTEGER" : c.type === "Edm.Double" ? "REAL" : "TEXT COLLATE NOCASE";
          await db.exec(`ALTER TABLE ${managedDevices.name} ADD COLUMN ${c.column} ${type} GENERATED ALWAYS AS (json_extract(doc, '$.${c.property}')) VIRTUAL`);
        }
      }
      await db.run(`UPDATE allot_meta SET value = ${db.dialect.param(1)} WHERE key = 'schema_version'`, ["10"]);
    });
    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    it("the generated columns go, the rows stay, and queries read the derived values from the documents", async () => {
      if (db.kind === "sqlite") assert.ok((await generatedColumns(db, managedDevices.name)).includes(osVersion.column), "the simulated version 10 store has the generated column");
      await migrate(db, graphModel);
      const [version] = await db.all<{ value: string }>("SELECT value FROM allot_meta WHERE key = 'schema_version'");
      assert.equal(Number(version.value), SCHEMA_VERSION);
      assert.deepEqual(await generatedColumns(db, managedDevices.name), []);
      const columns = await tableColumns(db, managedDevices.name);
      for (const c of managedDevices.columns) assert.equal(columns.includes(c.column), !isDerivedColumn(db.dialect, c), `${c.column} a column on ${backend}`);
      const { rows } = await entities.list(db, managedDevices, {
        tenantId: T1,
        where: (params) => (params.push("10.0.22631.1"), db.dialect.compareText(columnSql(db.dialect, osVersion), "=", db.dialect.param(params.length))),
        orderBy: [],
        top: 10,
        skip: 0,
        count: false,
      });
      assert.deepEqual(rows.map((r) => r.id), ["m-1"]);
      const flags = await db.all(`SELECT id, ${columnSql(db.dialect, encrypted)} AS encrypted FROM ${managedDevices.name} WHERE tenant_id = ${db.dialect.param(1)} ORDER BY id`, [T1]);
      assert.deepEqual(flags.map((r) => [r.id, r.encrypted === true || r.encrypted === 1]), [["m-1", true], ["m-2", false]]);
    });
  });
}

const auditEvents = graphModel.entityType("deviceManagement").navigation.get("auditEvents")!.table!;

for (const backend of await backendsToTest()) {
  describe(`schema migration from version 11 (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    const entities = new EntityStore(graphModel);
    const unindexed = ["componentName", "activityOperationType", "activityResult", "category"].map((p) => auditEvents.columns.find((c) => c.property === p)!);

    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel);
      await entities.insert(db, auditEvents, T1, { id: "e-1", type: "auditEvent", doc: { id: "e-1", componentName: "DeviceManagement", activityType: "reassignProfile", activityOperationType: "Action", activityResult: "Success", category: "Device" } });
      // Version 11's shape: the four columns written (SQLite: they were indexed, so not derived) and indexed.
      for (const c of unindexed) {
        if (db.kind === "sqlite") {
          await db.exec(`ALTER TABLE ${auditEvents.name} ADD COLUMN ${c.column} TEXT COLLATE NOCASE`);
          await db.run(`UPDATE ${auditEvents.name} SET ${c.column} = ${db.dialect.jsonText("doc", c.property)}`);
        }
        await db.exec(`CREATE INDEX ${auditEvents.name}__${c.column} ON ${auditEvents.name} (${auditEvents.parented ? "tenant_id, parent_id" : "tenant_id"}, ${db.kind === "sqlite" ? c.column : `lower(${c.column})`})`);
      }
      await db.run(`UPDATE allot_meta SET value = ${db.dialect.param(1)} WHERE key = 'schema_version'`, ["11"]);
    });

    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    it("the audit events' low-cardinality columns lose their indexes (SQLite: read from the document), rows and filters kept", async () => {
      if (db.kind === "sqlite") assert.ok((await tableColumns(db, auditEvents.name)).includes(unindexed[0].column), "the simulated version 11 store writes the column");
      await migrate(db, graphModel);
      const [version] = await db.all<{ value: string }>("SELECT value FROM allot_meta WHERE key = 'schema_version'");
      assert.equal(Number(version.value), SCHEMA_VERSION);
      const indexes = await indexNames(db, auditEvents.name);
      const columns = await tableColumns(db, auditEvents.name);
      for (const c of unindexed) {
        assert.ok(!indexes.includes(`${auditEvents.name}__${c.column}`), `no index of ${c.column}`);
        assert.equal(columns.includes(c.column), db.kind === "postgres", `${c.column} a column on ${backend}`);
      }
      for (const c of auditEvents.columns.filter((c) => c.indexed)) assert.ok(indexes.includes(`${auditEvents.name}__${c.column}`), `index of ${c.column}`);
      await entities.insert(db, auditEvents, T1, { id: "e-2", type: "auditEvent", doc: { id: "e-2", componentName: "DeviceManagement", activityType: "assign", activityOperationType: "Action", activityResult: "Failure", category: "Device" } });
      const result = unindexed.find((c) => c.property === "activityResult")!;
      const rows = await db.all(`SELECT id FROM ${auditEvents.name} WHERE tenant_id = ${db.dialect.param(1)} AND ${db.dialect.compareText(columnSql(db.dialect, result), "=", db.dialect.param(2))} ORDER BY id`, [T1, "success"]);
      assert.deepEqual(rows.map((r) => r.id), ["e-1"]);
    });
  });
}

for (const backend of await backendsToTest()) {
  describe(`schema migration: room for in-place rewrites (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    const entities = new EntityStore(graphModel);
    const devices = graphModel.entitySets.get("devices")!.table;
    const reloptions = async () => (await db.all<{ reloptions: string[] | null }>("SELECT reloptions FROM pg_class WHERE oid = to_regclass($1)", [devices.name]))[0].reloptions ?? [];

    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel);
      await entities.insert(db, devices, T1, { id: "d-1", type: "device", doc: { id: "d-1", deviceId: "x-1", displayName: "one", devicePhysicalIds: ["[OrderID]:a"] } });
      // A store made before the Entra devices were declared rewritten in place: pages filled to the brim.
      if (db.kind === "postgres") await db.exec(`ALTER TABLE ${devices.name} RESET (fillfactor)`);
    });

    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    it("the Entra devices' table leaves half of each page for new row versions (PostgreSQL), its rows kept", async () => {
      assert.ok(devices.rewrittenInPlace, "the model declares devices rewritten in place");
      assert.ok(!graphModel.entitySets.get("users")!.table.rewrittenInPlace);
      if (db.kind === "postgres") assert.deepEqual(await reloptions(), []);
      await migrate(db, graphModel);
      if (db.kind === "postgres") {
        assert.deepEqual(await reloptions(), ["fillfactor=50"]);
        const [users] = await db.all<{ reloptions: string[] | null }>("SELECT reloptions FROM pg_class WHERE oid = to_regclass('users')");
        assert.equal(users.reloptions, null, "other tables keep the default");
        // Idempotent: a second start leaves it as it is.
        await migrate(db, graphModel);
        assert.deepEqual(await reloptions(), ["fillfactor=50"]);
      }
      assert.deepEqual((await entities.get(db, devices, T1, "d-1"))?.doc.devicePhysicalIds, ["[OrderID]:a"]);
    });
  });
}

for (const backend of await backendsToTest()) {
  describe(`schema migration from version 12 (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    const memberships = new Memberships();
    const G1 = "g-1";
    const G2 = "g-2";

    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel);
      // Version 12's shape: the key (tenant_id, group_id, member_id), the member-first index not unique.
      if (db.kind === "sqlite") {
        await db.exec(`DROP TABLE group_members;
          CREATE TABLE group_members (seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, group_id TEXT NOT NULL, member_id TEXT NOT NULL,
            member_type TEXT NOT NULL, dynamic INTEGER NOT NULL, UNIQUE (tenant_id, group_id, member_id));
          CREATE INDEX group_members_by_group_seq ON group_members (tenant_id, group_id, seq);
          CREATE INDEX group_members_by_member_group ON group_members (tenant_id, member_id, group_id)`);
      } else {
        await db.exec(`DROP INDEX group_members_by_member_group;
          CREATE INDEX group_members_by_member_group ON group_members (tenant_id, member_id, group_id);
          ALTER TABLE group_members ADD PRIMARY KEY (tenant_id, group_id, member_id)`);
      }
      for (const [groupId, memberId] of [[G1, "m-3"], [G1, "m-1"], [G2, "m-1"], [G1, "m-9"], [G1, "m-2"]]) {
        await memberships.add(db, T1, { groupId, memberId, memberType: "device", dynamic: memberId !== "m-2" });
      }
      // The newest row deleted: its seq must not come back.
      assert.equal(await memberships.remove(db, T1, G1, "m-2"), true);
      await db.run(`UPDATE allot_meta SET value = ${db.dialect.param(1)} WHERE key = 'schema_version'`, ["12"]);
    });
    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    const seqs = async () => (await db.all<{ seq: number | string }>("SELECT seq FROM group_members ORDER BY seq")).map((r) => Number(r.seq));

    it("the memberships stay, in their order, unique by (tenant_id, member_id, group_id) with no group-first key", async () => {
      const before = await seqs();
      const uniqueBefore = await uniqueIndexColumns(db);
      assert.ok(uniqueBefore.includes("tenant_id,group_id,member_id"), `the simulated version 12 store: ${uniqueBefore.join(" | ")}`);
      await migrate(db, graphModel);
      const [version] = await db.all<{ value: string }>("SELECT value FROM allot_meta WHERE key = 'schema_version'");
      assert.equal(Number(version.value), SCHEMA_VERSION);
      assert.deepEqual(await seqs(), before);
      assert.deepEqual(await uniqueIndexColumns(db), ["tenant_id,member_id,group_id"]);
      const indexes = await indexNames(db, "group_members");
      assert.ok(indexes.includes("group_members_by_member_group") && indexes.includes("group_members_by_group_seq"), indexes.join(", "));
      assert.deepEqual((await memberships.membersOf(db, T1, G1, { top: 10, offset: 0 })).map((r) => r.memberId), ["m-3", "m-1", "m-9"]);
      assert.deepEqual((await memberships.groupsOf(db, T1, "m-1")).map((r) => r.groupId), [G1, G2]);
      assert.deepEqual(await memberships.get(db, T1, G2, "m-1"), { groupId: G2, memberId: "m-1", memberType: "device", dynamic: true });
    });

    it("after the migration a membership is still unique, and a new one sorts after every earlier one, deleted ones too", async () => {
      const last = Math.max(...(await seqs()));
      await assert.rejects(memberships.add(db, T1, { groupId: G1, memberId: "m-1", memberType: "device", dynamic: false }));
      await memberships.add(db, T1, { groupId: G1, memberId: "m-2", memberType: "device", dynamic: false });
      const [row] = await db.all<{ seq: number | string }>(`SELECT seq FROM group_members WHERE tenant_id = ${db.dialect.param(1)} AND group_id = ${db.dialect.param(2)} AND member_id = ${db.dialect.param(3)}`, [T1, G1, "m-2"]);
      assert.ok(Number(row.seq) > last + 1, `seq ${row.seq} after the deleted row's ${last + 1}`);
      assert.deepEqual((await memberships.membersOf(db, T1, G1, { top: 10, offset: 0 })).map((r) => r.memberId), ["m-3", "m-1", "m-9", "m-2"]);
      await memberships.removeMany(db, T1, G1, ["m-1", "m-9"]);
      assert.deepEqual((await memberships.membersOf(db, T1, G1, { top: 10, offset: 0 })).map((r) => r.memberId), ["m-3", "m-2"]);
      assert.deepEqual((await memberships.groupsOf(db, T1, "m-1")).map((r) => r.groupId), [G2]);
    });
  });
}

/** The column lists of group_members' unique indexes and keys, each joined by commas. */
async function uniqueIndexColumns(db: Database): Promise<string[]> {
  if (db.kind === "sqlite") {
    const unique = (await db.all<{ name: string; unique: number }>("PRAGMA index_list(group_members)")).filter((i) => i.unique === 1);
    const out: string[] = [];
    for (const i of unique) out.push((await db.all<{ name: string }>(`PRAGMA index_info(${i.name})`)).map((c) => c.name).join(","));
    return out.sort();
  }
  const rows = await db.all<{ columns: string }>(
    `SELECT string_agg(a.attname, ',' ORDER BY k.ord) AS columns
       FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE n.nspname = current_schema() AND c.relname = 'group_members' AND x.indisunique
      GROUP BY x.indexrelid`,
  );
  return rows.map((r) => r.columns).sort();
}
