// SQLite's WAL is copied back into the database file by a worker thread (walCheckpointer.ts), not by the COMMIT
// that grew it: after a commit far below the writer's own backstop threshold, the file grows on its own, the
// writer's connection keeps working, and closing the store leaves no WAL behind.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SqliteDatabase } from "../../src/store/sqlite/sqliteDatabase.js";

describe("background WAL checkpoints (SQLite)", () => {
  it("copies committed pages into the database file off the writer's thread", async () => {
    const dir = mkdtempSync(join(os.tmpdir(), "allot-wal-"));
    const file = join(dir, "allot.db");
    try {
      const db = new SqliteDatabase("SQLite test", file);
      await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      const before = statSync(file).size;
      // ~2 MB in one commit: ~500 pages, far below the writer's backstop of 16,384.
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t (v) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT printf('%.1000c', 'x') FROM n");
      });
      let grown = false;
      for (const end = Date.now() + 10_000; !grown && Date.now() < end; await new Promise((r) => setTimeout(r, 25))) grown = statSync(file).size > before + 1_000_000;
      assert.ok(grown, "the worker copied the WAL back");
      assert.equal(Number((await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM t"))[0].n), 2000);
      await db.close();
      assert.equal(existsSync(`${file}-wal`), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
