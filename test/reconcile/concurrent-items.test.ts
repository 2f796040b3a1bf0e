// Items a handler declares concurrent (one job's batches: disjoint rows) are applied two at a time, each in its own
// transaction; items of another key or kind keep the claim's order, one at a time, and a failure stops the run.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openDatabase } from "../../src/server/allotServer.js";
import { migrate } from "../../src/store/schema.js";
import { graphModel } from "../../src/graph/model/index.js";
import { mmdModel } from "../../src/mmd/mmdModel.js";
import type { Database } from "../../src/store/database.js";
import { Reconciler, type WorkHandler } from "../../src/reconcile/reconciler.js";
import { WorkQueue } from "../../src/reconcile/workQueue.js";
import { backendsToTest, dropPostgresSchema, freshStore } from "../support/allotUnderTest.js";
import { ManualClock } from "../support/manualClock.js";

const TENANT = "00000000-0000-0000-0000-0000000000c1";

for (const backend of await backendsToTest()) {
  describe(`reconciler: concurrent items (${backend})`, () => {
    const store = freshStore(backend);
    let db: Database;
    before(async () => {
      db = await openDatabase(store);
      await migrate(db, graphModel, mmdModel);
    });
    after(async () => {
      await db.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    });

    /** A reconciler whose handlers record when each item starts and ends (after a pause, to let another start). */
    function harness(fail?: string) {
      const clock = new ManualClock();
      const queue = new WorkQueue(db);
      const reconciler = new Reconciler(db, queue, clock, () => ({ kind: "immediate" }));
      const events: string[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const handler = (concurrent: boolean): WorkHandler => ({
        ...(concurrent ? { concurrent: { concurrency: 2, key: (item) => String(item.payload.job) } } : {}),
        async apply(tx, item) {
          events.push(`start ${item.subjectId}`);
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          // Each item writes in its own transaction: its work_log row is there to read.
          await tx.all(`SELECT COUNT(*) AS n FROM work_log WHERE tenant_id = ${tx.dialect.param(1)}`, [TENANT]);
          await new Promise((r) => setTimeout(r, 30));
          inFlight--;
          events.push(`end ${item.subjectId}`);
          if (item.subjectId === fail) throw new Error(`failing ${fail}`);
          return { more: false };
        },
      });
      reconciler.register("batch", handler(true));
      reconciler.register("single", handler(false));
      let n = 0;
      const enqueue = async (kind: string, subjectId: string, job: string) => {
        const due = new Date(clock.now().getTime() + n++).toISOString();
        await db.transaction((tx) => queue.enqueue(tx, { tenantId: TENANT, id: `${subjectId}-${Math.random()}`, kind, subjectId, step: 0, dueAt: due, readsLeft: null, payload: { job } }));
      };
      return { clock, reconciler, events, enqueue, maxInFlight: () => maxInFlight };
    }

    const clear = () => db.run(`DELETE FROM pending_work WHERE tenant_id = ${db.dialect.param(1)}`, [TENANT]);

    it("applies one job's items two at a time, and other jobs and kinds after them, in order", async () => {
      await clear();
      const h = harness();
      for (const s of ["a1", "a2", "a3", "a4"]) await h.enqueue("batch", s, "A");
      await h.enqueue("single", "s1", "A");
      for (const s of ["b1", "b2"]) await h.enqueue("batch", s, "B");
      h.clock.advanceSeconds(1);
      assert.equal(await h.reconciler.runOnce(), 7);
      const at = (e: string) => h.events.indexOf(e);
      // SQLite's one writer runs transactions one after another; PostgreSQL runs two of job A at once.
      assert.equal(h.maxInFlight(), backend === "postgres" ? 2 : 1);
      if (backend === "postgres") assert.ok(at("start a2") < at("end a1"), h.events.join(", "));
      for (const a of ["a1", "a2", "a3", "a4"]) assert.ok(at(`end ${a}`) < at("start s1"), h.events.join(", "));
      assert.ok(at("end s1") < at("start b1") && at("end s1") < at("start b2"), h.events.join(", "));
      assert.equal(Number((await db.all(`SELECT COUNT(*) AS n FROM pending_work WHERE tenant_id = ${db.dialect.param(1)}`, [TENANT]))[0].n), 0);
    });

    it("starts no further item after one fails, and leaves it and the unstarted ones pending", async () => {
      await clear();
      const h = harness("c2");
      for (const s of ["c1", "c2", "c3", "c4", "c5"]) await h.enqueue("batch", s, "C");
      h.clock.advanceSeconds(1);
      await assert.rejects(h.reconciler.runOnce(), /failing c2/);
      const rows = await db.all(`SELECT subject_id FROM pending_work WHERE tenant_id = ${db.dialect.param(1)} ORDER BY subject_id`, [TENANT]);
      const pending = rows.map((r) => r.subject_id as string);
      assert.ok(pending.includes("c2") && pending.includes("c5"), pending.join(", "));
      assert.ok(!pending.includes("c1"), pending.join(", "));
      assert.ok(!h.events.includes("start c5"), h.events.join(", "));
    });
  });
}
