// Replication lag (opt-in, `--replication-lag 2s`): for a while after a Graph write, reads may see the entity as
// it was before, the way a lagging directory replica answers, so that clients' read-after-write retries can be
// exercised. A write keeps the entity's previous state (or "did not exist") in `replica_snapshots`, in its own
// transaction, with the moment it becomes visible on the one clock; reads consult the snapshots until then.
// Off (0 s), nothing is written and nothing is read: the cost is one comparison per request.

import type { StorageTable } from "../odata/compiledModel.js";
import type { SqlExecutor } from "./database.js";
import type { StoredEntity } from "./entityStore.js";

/** What a lagging replica shows for one entity: its previous state, or that it did not exist yet. */
export type LaggingState = { existed: false } | { existed: true; entity: StoredEntity };

const MAX_LAG_MS = 3_600_000;

/** `2s`, `500ms`, `0` or `off` → milliseconds. */
export function parseReplicationLag(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === "off" || t === "0") return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(t);
  if (!m) throw new Error(`not a replication lag (2s, 500ms, 0 or off): ${text}`);
  const ms = Math.round(Number(m[1]) * (m[2] === "s" ? 1000 : 1));
  if (ms > MAX_LAG_MS) throw new Error(`a replication lag of at most 1 hour, not ${text}`);
  return ms;
}

/** Seconds from the control plane's JSON (`{"seconds": 2}`) → milliseconds, or undefined when invalid. */
export function replicationLagFromSeconds(seconds: unknown): number | undefined {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || seconds * 1000 > MAX_LAG_MS) return undefined;
  return Math.round(seconds * 1000);
}

export class ReplicationLag {
  constructor(private lagMs = 0) {}

  get milliseconds(): number {
    return this.lagMs;
  }

  get enabled(): boolean {
    return this.lagMs > 0;
  }

  set(ms: number) {
    this.lagMs = ms;
  }

  /**
   * Inside a write's transaction: the entity's state before the write becomes what reads see until now + lag.
   * A write within the lag of an earlier one keeps the earlier snapshot (the replica has seen neither) and moves
   * its visibility on.
   */
  async recordWrite(x: SqlExecutor, table: StorageTable, tenantId: string, id: string, before: StoredEntity | undefined, now: Date): Promise<void> {
    if (!this.enabled) return;
    const p = (n: number) => x.dialect.param(n);
    const visibleAt = new Date(now.getTime() + this.lagMs).toISOString();
    // Expired snapshots of this tenant go first, which keeps the table as small as the writes of one lag.
    await x.run(`DELETE FROM replica_snapshots WHERE tenant_id = ${p(1)} AND visible_at <= ${p(2)}`, [tenantId, now.toISOString()]);
    const moved = await x.run(
      `UPDATE replica_snapshots SET visible_at = ${p(1)} WHERE tenant_id = ${p(2)} AND entity_table = ${p(3)} AND id = ${p(4)}`,
      [visibleAt, tenantId, table.name, id],
    );
    if (moved.changes > 0) return;
    await x.run(
      `INSERT INTO replica_snapshots (tenant_id, entity_table, id, previous, visible_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`,
      [tenantId, table.name, id, before ? JSON.stringify(before) : null, visibleAt],
    );
  }

  /** What a read of one entity sees, when a recent write is not visible yet; undefined when it sees the latest. */
  async lagging(x: SqlExecutor, table: StorageTable, tenantId: string, id: string, now: Date): Promise<LaggingState | undefined> {
    if (!this.enabled) return undefined;
    const p = (n: number) => x.dialect.param(n);
    const rows = await x.all<{ previous: string | null }>(
      `SELECT previous FROM replica_snapshots WHERE tenant_id = ${p(1)} AND entity_table = ${p(2)} AND id = ${p(3)} AND visible_at > ${p(4)}`,
      [tenantId, table.name, id, now.toISOString()],
    );
    return rows[0] ? stateOf(rows[0].previous) : undefined;
  }

  /** Every entity of a table whose latest write is not visible yet (a list page substitutes them). */
  async laggingInTable(x: SqlExecutor, table: StorageTable, tenantId: string, now: Date): Promise<Map<string, LaggingState>> {
    const found = new Map<string, LaggingState>();
    if (!this.enabled) return found;
    const p = (n: number) => x.dialect.param(n);
    const rows = await x.all<{ id: string; previous: string | null }>(
      `SELECT id, previous FROM replica_snapshots WHERE tenant_id = ${p(1)} AND entity_table = ${p(2)} AND visible_at > ${p(3)}`,
      [tenantId, table.name, now.toISOString()],
    );
    for (const row of rows) found.set(row.id, stateOf(row.previous));
    return found;
  }
}

function stateOf(previous: string | null): LaggingState {
  return previous === null ? { existed: false } : { existed: true, entity: JSON.parse(previous) as StoredEntity };
}
