// Planner statistics (plannerStatistics.ts): a PostgreSQL table loaded in bulk and never analyzed is analyzed
// once, and not again while it is unchanged; SQLite needs none.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Database } from "../../src/store/database.js";
import { refreshPlannerStatistics } from "../../src/store/plannerStatistics.js";
import { openDatabase } from "../../src/server/allotServer.js";
import { backendsToTest, dropPostgresSchema, freshStore } from "../support/allotUnderTest.js";

const TABLE = "planner_statistics_probe";

for (const backend of await backendsToTest()) {
  describe(`planner statistics (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    before(async () => {
      db = await openDatabase(store);
      await db.exec(`CREATE TABLE ${TABLE} (id TEXT PRIMARY KEY, device TEXT)`);
      await db.run(`INSERT INTO ${TABLE} (id, device) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) SELECT 'd' || i, 'x' || i FROM n`);
    });
    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    it("analyzes a bulk-loaded table once (PostgreSQL) or never (SQLite)", async () => {
      if (backend === "sqlite") {
        assert.deepEqual(await refreshPlannerStatistics(db, [TABLE]), []);
        return;
      }
      // The insert's row counts reach pg_stat_user_tables when its connection reports them (within seconds).
      let analyzed: string[] = [];
      for (const end = Date.now() + 20_000; analyzed.length === 0 && Date.now() < end; ) {
        analyzed = await refreshPlannerStatistics(db, [TABLE, "no_such_table"]);
        if (analyzed.length === 0) await new Promise((r) => setTimeout(r, 250));
      }
      assert.deepEqual(analyzed, [TABLE]);
      const [row] = await db.all<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE oid = '${TABLE}'::regclass`);
      assert.equal(Number(row.reltuples), 3000);
      assert.deepEqual(await refreshPlannerStatistics(db, [TABLE]), []);
    });
  });
}
