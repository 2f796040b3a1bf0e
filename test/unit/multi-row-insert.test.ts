// How a bulk write is cut into multi-row INSERT statements (src/store/multiRowInsert.ts).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rowsPerStatement, statementRows } from "../../src/store/multiRowInsert.js";
import { postgresDialect, sqliteDialect } from "../../src/store/sqlDialect.js";

const cut = (dialect: typeof sqliteDialect, perStatement: number, rows: number) => {
  const counts: number[] = [];
  for (let left = rows; left > 0; left -= counts.at(-1)!) counts.push(statementRows(dialect, perStatement, left));
  return counts;
};

describe("multi-row INSERT statements", () => {
  it("on SQLite, full statements, then the rest in powers of two rows (a few statement texts, kept prepared)", () => {
    assert.deepEqual(cut(sqliteDialect, 1_000, 2_345), [1_000, 1_000, 256, 64, 16, 8, 1]);
    assert.deepEqual(cut(sqliteDialect, 1_000, 1_000), [1_000]);
    assert.deepEqual(cut(sqliteDialect, 1_560, 1), [1]);
    const shapes = new Set<number>();
    for (let rows = 1; rows <= 5_000; rows++) {
      const counts = cut(sqliteDialect, rowsPerStatement(sqliteDialect, 21), rows);
      assert.equal(counts.reduce((a, b) => a + b, 0), rows);
      for (const c of counts) shapes.add(c);
    }
    assert.ok(shapes.size <= 12, `${shapes.size} statement shapes`);
  });

  it("on PostgreSQL, the rest in one statement (each is a round trip)", () => {
    assert.deepEqual(cut(postgresDialect, 1_000, 2_345), [1_000, 1_000, 345]);
  });
});
