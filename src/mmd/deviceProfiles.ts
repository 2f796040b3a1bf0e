// A device's MMD profile assignment (its reassigned persona and the assignment's status) in a narrow table of its
// own, not in the managed device's document: a reassignment batch marks thousands of devices at once, and
// rewriting each ~2 KB document (PostgreSQL: its TOASTed jsonb) cost more than the rest of the move (issue 8).
// Documents of stores older than schema 9 may still hold `_mmdPersona` / `_mmdProfileAssignmentStatus`; a row
// here wins over them, and they are read when there is none.

import type { EntityBehaviours } from "../graph/graphContext.js";
import type { SqlExecutor } from "../store/database.js";
import type { StoredEntity } from "../store/entityStore.js";

export interface DeviceProfile {
  persona: string;
  status: string;
}

/** Sets one persona and status for many managed devices: one statement, the ids bound as one list. */
export async function setDeviceProfiles(x: SqlExecutor, tenantId: string, managedDeviceIds: readonly string[], profile: DeviceProfile): Promise<void> {
  if (managedDeviceIds.length === 0) return;
  const d = x.dialect;
  // Parameters in the order their placeholders appear (SQLite's are positional).
  const params: unknown[] = [tenantId, profile.persona, profile.status, d.bindList(managedDeviceIds)];
  const ids = d.name === "sqlite" ? `SELECT value AS id FROM json_each(${d.param(4)})` : `SELECT unnest(${d.param(4)}::text[]) AS id`;
  // (WHERE true: SQLite's parser needs it between an INSERT's SELECT and its ON CONFLICT.)
  await x.run(
    `INSERT INTO mmd_device_profiles (tenant_id, managed_device_id, persona, status) SELECT ${d.param(1)}, v.id, ${d.param(2)}, ${d.param(3)} FROM (${ids}) AS v WHERE true
     ON CONFLICT (tenant_id, managed_device_id) DO UPDATE SET persona = excluded.persona, status = excluded.status`,
    params,
  );
}

/** The profiles of these managed devices: the table's rows, else what an older store's documents say. */
export async function deviceProfilesOf(x: SqlExecutor, tenantId: string, devices: readonly StoredEntity[]): Promise<Map<string, Partial<DeviceProfile>>> {
  const out = new Map<string, Partial<DeviceProfile>>();
  for (const m of devices) {
    const persona = m.doc._mmdPersona as string | undefined;
    const status = m.doc._mmdProfileAssignmentStatus as string | undefined;
    if (persona !== undefined || status !== undefined) out.set(m.id, { persona, status });
  }
  if (devices.length === 0) return out;
  const d = x.dialect;
  const rows = await x.all(
    `SELECT managed_device_id, persona, status FROM mmd_device_profiles WHERE tenant_id = ${d.param(1)} AND ${d.inList("managed_device_id", d.param(2))}`,
    [tenantId, d.bindList(devices.map((m) => m.id))],
  );
  for (const r of rows) out.set(r.managed_device_id as string, { persona: r.persona as string, status: r.status as string });
  return out;
}

/** A managed device deleted through Graph takes its profile row with it, in the delete's transaction. */
export function registerDeviceProfileCleanup(behaviours: EntityBehaviours) {
  behaviours.register("managedDevice", {
    async afterDelete(ctx, tx, deleted) {
      const d = tx.dialect;
      await tx.run(`DELETE FROM mmd_device_profiles WHERE tenant_id = ${d.param(1)} AND managed_device_id = ${d.param(2)}`, [ctx.tenantId, deleted.id]);
    },
  });
}
