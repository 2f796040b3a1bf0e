// Planner statistics of tables that bulk work reads by long id lists. A PostgreSQL table never analyzed (autovacuum
// off, or not yet run after a bulk load) has no statistics for its expression indexes (lower(column)), so the
// planner guesses that `lower(x) = ANY(2,000 ids)` matches the whole table and scans it: each batch then costs time
// in proportion to the fleet (issue 8: 2.7 s per batch of 2,000 at 100,000 devices). Analyzing when the statistics
// are stale, as autovacuum would, keeps those lookups on their indexes.

import type { SqlExecutor } from "./database.js";

/** ANALYZEs those of `tables` whose statistics are missing or stale; answers their names. */
export async function refreshPlannerStatistics(x: SqlExecutor, tables: readonly string[]): Promise<string[]> {
  const sql = x.dialect.staleStatisticsSql;
  if (!sql || tables.length === 0) return [];
  const stale = (await x.all<{ relname: string }>(sql, [x.dialect.bindList(tables)])).map((r) => r.relname);
  // The names come from the catalogue and match the model's table names (plain identifiers).
  if (stale.length === 0) return stale;
  // A small sample (3,000 rows, not 30,000): what the id-list lookups need is the row count and that the ids are
  // distinct, which it gives as well, and the full sample cost a bulk-loaded fleet's first batch ~1.6 s at 20,000
  // devices. LOCAL: for this transaction's ANALYZE only (callers run inside one).
  await x.run("SET LOCAL default_statistics_target = 10");
  await x.run(`ANALYZE ${stale.join(", ")}`);
  return stale;
}

/**
 * PostgreSQL, for the rest of the caller's transaction: a random page read costs the planner about what a
 * sequential one does (1.1 against the default 4), as it does for a store whose pages are cached or on SSD. Bulk
 * work reads by id lists of thousands; under the default, sampled statistics that overestimate a few rows per id
 * tipped those reads over to whole-table scans (issue 8, traced at 100,000 devices: every batch's dynamic
 * memberships of its 2,000 devices read by a parallel scan of all 320,000 memberships, ~75 ms against ~14 ms by
 * the member index; the Autopilot identities of the retagged devices by a hash join over all identities, ~120
 * against ~28 ms). SQLite has no such cost model to set.
 */
export async function preferIndexLookups(x: SqlExecutor): Promise<void> {
  if (x.dialect.name === "postgres") await x.run("SET LOCAL random_page_cost = 1.1");
}
