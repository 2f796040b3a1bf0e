// A reassignment's devices read InProgress while their batch is pending. The batches (pending_work rows written in
// the request's transaction) are the job's durable record, so the request itself writes no device row: marking
// 100,000 managed-device documents InProgress took seconds, longer than the call may (issue 8).

import type { SqlExecutor } from "../store/database.js";

/** Kind of the per-device items an older store may still hold. */
export const MMD_REASSIGN_WORK = "mmdReassign";
/** Kind of the items that move a batch of devices. */
export const MMD_REASSIGN_BATCH_WORK = "mmdReassignBatch";

const decode = (payload: unknown) => (typeof payload === "string" ? JSON.parse(payload) : payload) as { devices?: [string, string][] };

/** The managed devices of a pending item: its batch, or the one subject of an older per-device item. */
function devicesOf(row: Record<string, unknown>): string[] {
  if (row.kind === MMD_REASSIGN_WORK) return [row.subject_id as string];
  return (decode(row.payload).devices ?? []).map(([managedId]) => managedId);
}

/**
 * Managed device ids named by a reassignment still pending. With `newerThan`, only by items enqueued after that
 * item and belonging to another job (the newer reassignment of a device wins; one job names a device once).
 * `jobItems`, when the item knows them, are the ids of its job's items: those later items are known to be of the
 * same job without reading their payloads (on PostgreSQL each a TOASTed jsonb of 2,000 device pairs, ~40 ms a
 * batch to read the job of the 50 items a 100,000-device job leaves pending at first).
 */
export async function devicesInFlight(x: SqlExecutor, tenantId: string, newerThan?: { itemId: string; job: string; jobItems?: readonly string[] }): Promise<Set<string>> {
  const d = x.dialect;
  const params: unknown[] = [tenantId, MMD_REASSIGN_WORK, MMD_REASSIGN_BATCH_WORK];
  let where = `tenant_id = ${d.param(1)} AND kind IN (${d.param(2)}, ${d.param(3)})`;
  if (newerThan?.jobItems) {
    const sameJob = new Set(newerThan.jobItems);
    const later = await x.all(
      `SELECT id FROM pending_work WHERE ${where} AND seq > (SELECT seq FROM pending_work WHERE tenant_id = ${d.param(4)} AND id = ${d.param(5)})`,
      [...params, tenantId, newerThan.itemId],
    );
    const others = later.map((r) => r.id as string).filter((id) => !sameJob.has(id));
    if (others.length === 0) return new Set();
    params.push(d.bindList(others));
    where += ` AND ${d.inList("id", d.param(4))}`;
  }
  if (newerThan) {
    const n = params.length;
    params.push(tenantId, newerThan.itemId, newerThan.job);
    const job = d.jsonText("payload", "job");
    where += ` AND seq > (SELECT seq FROM pending_work WHERE tenant_id = ${d.param(n + 1)} AND id = ${d.param(n + 2)}) AND (${job} IS NULL OR ${job} <> ${d.param(n + 3)})`;
  }
  const out = new Set<string>();
  for (const row of await x.all(`SELECT kind, subject_id, payload FROM pending_work WHERE ${where}`, params)) for (const id of devicesOf(row)) out.add(id);
  return out;
}
