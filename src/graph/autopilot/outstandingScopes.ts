// Outstanding Autopilot scopes: a scope-wide change (an assignment created, changed or deleted; a profile deleted
// or retyped) writes what it reaches as a few rows of `autopilot_scopes` in its own transaction, instead of a
// mark on every reached identity, so its answer costs the same whatever the group's size. Until the change's
// work item settles an identity, every read overlays `pending` on it: the identity is reached by an outstanding
// scope newer than its own mark (`_markSeq`: the change that last marked or settled it).
//
// A mark is the pending_work seq of the change's item, zero-padded so that both backends compare it as text.

import type { SqlDialect } from "../../store/sqlDialect.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EvaluationScope } from "./autopilotAssignments.js";

export const SCOPES_TABLE = "autopilot_scopes";
export const MARK_FIELD = "_markSeq";

/** A change's order as text (every mark has the same width). */
export const markOf = (seq: number) => String(seq).padStart(16, "0");

/** The mark of the newest change enqueued so far: a new identity is not reached by scopes already outstanding. */
export async function currentMark(x: SqlExecutor): Promise<string> {
  const [row] = await x.all(`SELECT MAX(seq) AS m FROM pending_work`);
  return markOf(Number(row?.m ?? 0));
}

/** The rows one scope is held as: every device, the holders of a profile, or the members of each group. */
export function scopeRows(scope: EvaluationScope): { kind: string; target: string }[] {
  if (scope.kind === "all") return [{ kind: "all", target: "" }];
  if (scope.kind === "profileHolders") return [{ kind: "profile", target: scope.profileId }];
  return [...new Set(scope.groupIds)].map((g) => ({ kind: "group", target: g }));
}

export async function recordScope(x: SqlExecutor, tenantId: string, workId: string, mark: string, scope: EvaluationScope): Promise<number> {
  const rows = scopeRows(scope);
  const p = (n: number) => x.dialect.param(n);
  for (const r of rows) {
    await x.run(`INSERT INTO ${SCOPES_TABLE} (tenant_id, work_id, mark, kind, target) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`, [tenantId, workId, mark, r.kind, r.target]);
  }
  return rows.length;
}

export async function dropScope(x: SqlExecutor, tenantId: string, workId: string): Promise<void> {
  await x.run(`DELETE FROM ${SCOPES_TABLE} WHERE tenant_id = ${x.dialect.param(1)} AND work_id = ${x.dialect.param(2)}`, [tenantId, workId]);
}

/** Locks a scope's rows until the transaction ends (PostgreSQL; SQLite's one writer serializes anyway). */
export async function lockScope(x: SqlExecutor, tenantId: string, workId: string): Promise<void> {
  const p = (n: number) => x.dialect.param(n);
  await x.all(`SELECT mark FROM ${SCOPES_TABLE} WHERE tenant_id = ${p(1)} AND work_id = ${p(2)}${x.dialect.lockForUpdate}`, [tenantId, workId]);
}

/** One row of an outstanding scope, as read back by its own work item. */
export interface ScopeRow {
  mark: string;
  kind: string;
  target: string;
}

/** The rows of one change's scope. */
export async function scopeOf(x: SqlExecutor, tenantId: string, workId: string): Promise<ScopeRow[]> {
  const p = (n: number) => x.dialect.param(n);
  const rows = await x.all(`SELECT mark, kind, target FROM ${SCOPES_TABLE} WHERE tenant_id = ${p(1)} AND work_id = ${p(2)}`, [tenantId, workId]);
  return rows.map((r) => ({ mark: String(r.mark), kind: String(r.kind), target: String(r.target) }));
}

/** The groups a scope names: its own step reads their memberships with the ones the engine reads. */
export const scopeGroups = (scope: readonly ScopeRow[]) => scope.filter((r) => r.kind === "group").map((r) => r.target);

/**
 * reachedSql narrowed to one scope, tested on an identity the step has read: the same truth value, from the
 * identity's mark, the profile fields it holds and the groups (among those the scope names) its Entra device is
 * in. Marks have one width and digits only, so comparing them as JS strings orders them as both backends do.
 */
export function reachedBy(scope: readonly ScopeRow[], mark: string | null, holds: readonly unknown[], groups: ReadonlySet<string> | undefined): boolean {
  const own = mark ?? "";
  return scope.some(
    (s) => s.mark > own && (s.kind === "all" || (s.kind === "profile" && holds.some((h) => h === s.target)) || (s.kind === "group" && groups !== undefined && groups.has(s.target))),
  );
}

export interface ScopeTables {
  identities: string;
  entraDevices: string;
  /**
   * The identities' written column of MARK_FIELD. Every write keeps it equal to the document field (schema 10
   * filled it from the documents), so the predicate reads the column only: a NULL one (an identity never marked,
   * as every one a fleet creates) has no document field either, and reading it parsed every such document.
   */
  markColumn: string;
}

/**
 * Whether the identity row `ref` is reached by an outstanding scope newer than its mark: a correlated SQL
 * predicate with no bound values (usable wherever a column is). `workIdSql` narrows it to one change's scope.
 */
// Each group test is led by the row's own keys (its Entra device by the indexed device id, a scalar subquery so
// that the membership is then probed by its whole unique key even without planner statistics, as right after a
// bulk load), so the predicate costs a few index probes per row whatever the group's size.
export function reachedSql(dialect: SqlDialect, tables: ScopeTables, ref: string, workIdSql?: string): string {
  const field = (f: string) => dialect.jsonText(`${ref}.doc`, f);
  const fold = (c: string) => dialect.foldText(c);
  const holds = ["_deploymentProfileId", "_intendedProfileId", "_directProfileId"].map((f) => `${field(f)} = s.target`).join(" OR ");
  return `EXISTS (SELECT 1 FROM ${SCOPES_TABLE} s WHERE s.tenant_id = ${ref}.tenant_id${workIdSql ? ` AND s.work_id = ${workIdSql}` : ""}
    AND s.mark > COALESCE(${ref}.${tables.markColumn}, '') AND (s.kind = 'all'
      OR (s.kind = 'profile' AND (${holds}))
      OR (s.kind = 'group' AND EXISTS (SELECT 1 FROM group_members gm WHERE gm.tenant_id = ${ref}.tenant_id AND gm.group_id = s.target
        AND gm.member_id = (SELECT e.id FROM ${tables.entraDevices} e
          WHERE e.tenant_id = ${ref}.tenant_id AND ${fold("e.p_device_id")} = ${fold(`${ref}.p_azure_ad_device_id`)} LIMIT 1)))))`;
}

/** The status a read shows: `pending` while an outstanding scope reaches the identity, else the stored one. */
export function shownStatusSql(dialect: SqlDialect, tables: ScopeTables, statusColumn: string): string {
  return `(CASE WHEN ${reachedSql(dialect, tables, tables.identities)} THEN 'pending' ELSE ${tables.identities}.${statusColumn} END)`;
}

/**
 * `shown status = value` with the same truth value (NULL included) but the stored column tested directly:
 * pending is shown for a stored pending or a reached row, any other status only for an unreached row storing it.
 */
export function shownStatusEqualsSql(dialect: SqlDialect, tables: ScopeTables, statusColumn: string, paramSql: string, value: string): string {
  const stored = dialect.compareText(`${tables.identities}.${statusColumn}`, "=", paramSql);
  const reached = reachedSql(dialect, tables, tables.identities);
  return value.toLowerCase() === "pending" ? `(${stored} OR ${reached})` : `(${stored} AND NOT ${reached})`;
}
