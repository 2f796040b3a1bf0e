// Planner statistics (plannerStatistics.ts): a PostgreSQL table loaded in bulk and never analyzed is analyzed
// once, and again only when its row count moved, not when its rows were rewritten; SQLite needs none.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Database } from "../../src/store/database.js";
import { preferIndexLookups, refreshPlannerStatistics } from "../../src/store/plannerStatistics.js";
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

    it("does not re-analyze a table whose rows were only rewritten, but does when its row count moved (PostgreSQL)", async () => {
      if (backend === "sqlite") return;
      const reported = async (enough: (r: { n_mod: number; n_live: number }) => boolean) => {
        for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
          const [r] = await db.all<{ n_mod: number; n_live: number }>(
            `SELECT n_mod_since_analyze::int AS n_mod, n_live_tup::int AS n_live FROM pg_stat_user_tables WHERE relid = '${TABLE}'::regclass`,
          );
          if (r && enough(r)) return;
        }
        assert.fail("the row counts never reached pg_stat_user_tables");
      };
      // Every row rewritten twice: far past autovacuum's analyze threshold, yet the id lookups' selectivity is unchanged.
      await db.run(`UPDATE ${TABLE} SET device = device || 'y'`);
      await db.run(`UPDATE ${TABLE} SET device = device || 'z'`);
      await reported((r) => r.n_mod >= 6000);
      assert.deepEqual(await refreshPlannerStatistics(db, [TABLE]), []);
      // The table grows from 3,000 to 9,000 rows: the planner's estimate is off by a factor of three.
      await db.run(`INSERT INTO ${TABLE} (id, device) WITH RECURSIVE n(i) AS (SELECT 3001 UNION ALL SELECT i + 1 FROM n WHERE i < 9000) SELECT 'd' || i, 'x' || i FROM n`);
      await reported((r) => r.n_live >= 9000);
      assert.deepEqual(await refreshPlannerStatistics(db, [TABLE]), [TABLE]);
      assert.deepEqual(await refreshPlannerStatistics(db, [TABLE]), []);
    });

    it("prices random page reads near sequential ones for the rest of the transaction only (PostgreSQL)", async () => {
      if (backend === "sqlite") {
        await db.transaction((tx) => preferIndexLookups(tx));
        return;
      }
      const cost = async (x: Pick<Database, "all">) => Number((await x.all<{ random_page_cost: string }>("SHOW random_page_cost"))[0].random_page_cost);
      const before = await cost(db);
      const inside = await db.transaction(async (tx) => {
        await preferIndexLookups(tx);
        return cost(tx);
      });
      assert.equal(inside, 1.1);
      assert.equal(await cost(db), before);
    });
  });
}
