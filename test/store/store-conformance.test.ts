// One store suite, every backend: each backend is handed to the same tests, and a backend that passes them
// is a backend that works. No backend has private tests the other skips.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { graphModel } from "../../src/graph/model/index.js";
import { Memberships } from "../../src/directory/memberships.js";
import type { Database } from "../../src/store/database.js";
import { columnSql } from "../../src/store/derivedColumns.js";
import { EntityStore } from "../../src/store/entityStore.js";
import { hashSecret, IdentityStore, secretMatches } from "../../src/store/identityStore.js";
import { migrate, SCHEMA_VERSION } from "../../src/store/schema.js";
import { openDatabase } from "../../src/server/allotServer.js";
import { backendsToTest, dropPostgresSchema, freshStore } from "../support/allotUnderTest.js";

const T1 = "11111111-1111-4111-8111-111111111111";
const T2 = "22222222-2222-4222-8222-222222222222";
const users = graphModel.entitySets.get("users")!.table;
const department = users.columns.find((c) => c.property === "department")!;

const user = (id: string, displayName: string, department?: string) => ({
  id,
  type: "user",
  doc: { id, displayName, department, accountEnabled: true, userPrincipalName: `${id}@x.test`, createdDateTime: new Date(Date.UTC(2024, 0, Number(id.slice(-2)) || 1)).toISOString() },
});

for (const backend of await backendsToTest()) {
  describe(`store conformance (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    const entities = new EntityStore(graphModel);
    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel);
    });
    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    it("migration records the schema version and is idempotent", async () => {
      await migrate(db, graphModel);
      const [row] = await db.all<{ value: string }>("SELECT value FROM allot_meta WHERE key = 'schema_version'");
      assert.equal(Number(row.value), SCHEMA_VERSION);
    });

    it("a store from a newer Allot is refused at start-up", async () => {
      await db.run(`UPDATE allot_meta SET value = ${db.dialect.param(1)} WHERE key = 'schema_version'`, [String(SCHEMA_VERSION + 1)]);
      await assert.rejects(migrate(db, graphModel), /newer than this Allot/);
      await db.run(`UPDATE allot_meta SET value = ${db.dialect.param(1)} WHERE key = 'schema_version'`, [String(SCHEMA_VERSION)]);
    });

    it("filterable properties are real columns", async () => {
      const cols = users.columns.map((c) => c.column);
      assert.ok(cols.includes("p_display_name") && cols.includes("p_user_principal_name") && cols.includes("p_account_enabled"));
      const [row] = await db.all(`SELECT p_display_name FROM ${users.name} WHERE 1 = 0`).then((r) => [r]);
      assert.deepEqual(row, []);
    });

    it("insert, get, replace and delete, scoped by tenant", async () => {
      await db.transaction(async (tx) => {
        await entities.insert(tx, users, T1, user("u-01", "Alpha"));
        await entities.insert(tx, users, T2, user("u-01", "Other tenant's Alpha"));
      });
      assert.equal((await entities.get(db, users, T1, "u-01"))!.doc.displayName, "Alpha");
      assert.equal((await entities.get(db, users, T2, "u-01"))!.doc.displayName, "Other tenant's Alpha");
      await db.transaction((tx) => entities.replace(tx, users, T1, { ...user("u-01", "Alpha 2") }));
      assert.equal((await entities.get(db, users, T1, "u-01"))!.doc.displayName, "Alpha 2");
      assert.equal((await entities.get(db, users, T2, "u-01"))!.doc.displayName, "Other tenant's Alpha", "the other tenant's row is untouched");
      const [row] = await db.all(`SELECT p_display_name FROM ${users.name} WHERE tenant_id = ${db.dialect.param(1)} AND id = 'u-01'`, [T1]);
      assert.equal(row.p_display_name, "Alpha 2", "columns follow the document");
      await db.transaction(async (tx) => entities.delete(tx, users, T1, (await entities.get(tx, users, T1, "u-01"))!));
      assert.equal(await entities.get(db, users, T1, "u-01"), undefined);
      assert.ok(await entities.get(db, users, T2, "u-01"));
    });

    it("a failed transaction leaves nothing behind", async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await entities.insert(tx, users, T1, user("u-rollback", "Rolled back"));
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(await entities.get(db, users, T1, "u-rollback"), undefined);
    });

    it("a read during an open transaction never sees its rows if it rolls back", async () => {
      let release!: () => void;
      let inserted!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const insertedYet = new Promise<void>((r) => (inserted = r));
      const tx = db.transaction(async (x) => {
        await entities.insert(x, users, T1, user("u-uncommitted", "Not yet"));
        inserted();
        await gate;
        throw new Error("roll back");
      });
      await insertedYet;
      // SQLite serialises the read after the transaction; PostgreSQL runs it beside it. Neither sees the row.
      const read = entities.get(db, users, T1, "u-uncommitted");
      release();
      await assert.rejects(tx, /roll back/);
      assert.equal(await read, undefined);
      assert.equal(await entities.get(db, users, T1, "u-uncommitted"), undefined);
    });

    it("list: filter, order, count, keyset and offset pages run in SQL and never cross tenants", async () => {
      await db.transaction(async (tx) => {
        for (let i = 10; i < 40; i++) await entities.insert(tx, users, T1, user(`u-${i}`, `User ${i}`, i % 2 ? "Odd" : "Even"));
        await entities.insert(tx, users, T2, user("u-99", "User 99", "Odd"));
      });
      const odd = (params: unknown[]) => {
        params.push("odd");
        return db.dialect.compareText(columnSql(db.dialect, department), "=", db.dialect.param(params.length));
      };
      const first = await entities.list(db, users, { tenantId: T1, where: odd, orderBy: [], top: 10, skip: 0, count: true });
      assert.equal(first.count, 15);
      assert.equal(first.rows.length, 10);
      const second = await entities.list(db, users, { tenantId: T1, where: odd, orderBy: [], top: 10, skip: 0, afterSeq: first.rows.at(-1)!.seq, count: false });
      assert.equal(second.rows.length, 5);
      const ids = [...first.rows, ...second.rows].map((r) => r.id);
      assert.equal(new Set(ids).size, 15);
      assert.ok(!ids.includes("u-99"));
      const ordered = await entities.list(db, users, {
        tenantId: T1,
        where: odd,
        orderBy: [{ sql: db.dialect.orderText("p_display_name"), descending: true }],
        top: 3,
        skip: 2,
        count: false,
      });
      assert.deepEqual(ordered.rows.map((r) => r.doc.displayName), ["User 35", "User 33", "User 31"]);
      assert.equal(await entities.count(db, users, T2), 2);
    });

    it("memberships: add, list in order, groups of a member, forget", async () => {
      const m = new Memberships();
      await db.transaction(async (tx) => {
        await m.add(tx, T1, { groupId: "g1", memberId: "u-10", memberType: "user", dynamic: false });
        await m.add(tx, T1, { groupId: "g1", memberId: "u-11", memberType: "user", dynamic: true });
        await m.add(tx, T1, { groupId: "g2", memberId: "u-10", memberType: "user", dynamic: false });
        await m.add(tx, T2, { groupId: "g1", memberId: "u-10", memberType: "user", dynamic: false });
      });
      assert.deepEqual((await m.membersOf(db, T1, "g1", { top: 10, offset: 0 })).map((r) => [r.memberId, r.dynamic]), [["u-10", false], ["u-11", true]]);
      assert.deepEqual((await m.groupsOf(db, T1, "u-10")).map((r) => r.groupId).sort(), ["g1", "g2"]);
      await assert.rejects(db.transaction((tx) => m.add(tx, T1, { groupId: "g1", memberId: "u-10", memberType: "user", dynamic: false })));
      const removed = await db.transaction((tx) => m.forget(tx, T1, "u-10"));
      assert.equal(removed.length, 2);
      assert.equal(await m.countMembers(db, T1, "g1"), 1);
      assert.equal(await m.countMembers(db, T2, "g1"), 1, "the other tenant keeps its row");
    });

    it("identity rows: tenants, apps with hashed secrets, signing keys", async () => {
      const identity = new IdentityStore(db);
      await identity.putTenant({ id: T1, displayName: "One", domain: "one.test" });
      const secret = hashSecret("s3cret-value");
      await identity.putApp({ tenantId: T1, appId: "aaaaaaaa-0000-4000-8000-000000000001", displayName: "App", objectId: "o", secrets: [secret], roles: ["User.Read.All"], delegatedScopes: [], publicClient: false });
      const app = (await identity.getApp(T1, "AAAAAAAA-0000-4000-8000-000000000001"))!;
      assert.deepEqual(app.roles, ["User.Read.All"]);
      assert.ok(secretMatches(app.secrets[0], "s3cret-value"));
      assert.ok(!secretMatches(app.secrets[0], "s3cret-valuE"));
      assert.ok(!JSON.stringify(app).includes("s3cret-value"), "the secret is not stored in clear");
      assert.equal(await identity.getApp(T2, "aaaaaaaa-0000-4000-8000-000000000001"), undefined);
      await identity.insertSigningKey({ kid: "k1", createdAt: "2024-01-01T00:00:00.000Z", privateJwk: { kty: "RSA" }, publicJwk: { kty: "RSA" } });
      assert.deepEqual((await identity.listSigningKeys()).map((k) => k.kid), ["k1"]);
    });
  });
}
