// Pending lifecycle steps are rows (state is the queue): enqueued in the transaction of the write that starts
// them, claimed in bounded batches under a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so several processes share
// the work), and advanced in one transaction with the entity change and a work_log row whose key refuses a
// second application of the same step.

import type { Database, Row, SqlExecutor } from "../store/database.js";

export interface WorkItem {
  tenantId: string;
  id: string;
  kind: string;
  subjectId: string;
  /** The next step to apply. */
  step: number;
  dueAt: string;
  readsLeft: number | null;
  payload: Record<string, unknown>;
}

const toItem = (r: Row): WorkItem => ({
  tenantId: r.tenant_id as string,
  id: r.id as string,
  kind: r.kind as string,
  subjectId: r.subject_id as string,
  step: Number(r.step),
  dueAt: r.due_at as string,
  readsLeft: r.reads_left === null || r.reads_left === undefined ? null : Number(r.reads_left),
  payload: typeof r.payload === "string" ? JSON.parse(r.payload) : (r.payload as Record<string, unknown>),
});

export class WorkQueue {
  constructor(private readonly db: Database) {}

  async enqueue(x: SqlExecutor, item: WorkItem): Promise<void> {
    const p = (n: number) => x.dialect.param(n);
    await x.run(
      `INSERT INTO pending_work (tenant_id, id, kind, subject_id, step, due_at, reads_left, payload) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)})`,
      [item.tenantId, item.id, item.kind, item.subjectId, item.step, item.dueAt, item.readsLeft, JSON.stringify(item.payload)],
    );
  }

  /** Leases up to `limit` due items to `owner` until `leaseUntil`; expired leases are taken over. */
  async claim(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<WorkItem[]> {
    const nowText = now.toISOString();
    return this.db.transaction(async (x) => {
      const p = (n: number) => x.dialect.param(n);
      const lock = this.db.kind === "postgres" ? " FOR UPDATE SKIP LOCKED" : "";
      const due = await x.all(
        `SELECT tenant_id, id FROM pending_work WHERE due_at <= ${p(1)} AND (lease_until IS NULL OR lease_until < ${p(2)}) ORDER BY due_at, seq LIMIT ${p(3)}${lock}`,
        [nowText, nowText, limit],
      );
      const claimed: WorkItem[] = [];
      for (const r of due) {
        const rows = await x.all(
          `UPDATE pending_work SET lease_owner = ${p(1)}, lease_until = ${p(2)} WHERE tenant_id = ${p(3)} AND id = ${p(4)} RETURNING *`,
          [owner, leaseUntil.toISOString(), r.tenant_id, r.id],
        );
        claimed.push(...rows.map(toItem));
      }
      return claimed;
    });
  }

  /**
   * Records that `item.step` was applied; false when it already was (another process, or a retry after a crash),
   * in which case the caller's transaction must be rolled back.
   */
  async logStep(x: SqlExecutor, item: WorkItem, owner: string, at: string): Promise<boolean> {
    const p = (n: number) => x.dialect.param(n);
    const r = await x.run(
      `INSERT INTO work_log (tenant_id, work_id, step, kind, subject_id, applied_at, applied_by) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}) ON CONFLICT DO NOTHING`,
      [item.tenantId, item.id, item.step, item.kind, item.subjectId, at, owner],
    );
    return r.changes === 1;
  }

  /** Moves the item to its next step (or removes it when it was the last), releasing the lease. */
  async advance(x: SqlExecutor, item: WorkItem, next: { dueAt: string; readsLeft: number | null } | undefined): Promise<void> {
    const p = (n: number) => x.dialect.param(n);
    if (!next) {
      await x.run(`DELETE FROM pending_work WHERE tenant_id = ${p(1)} AND id = ${p(2)}`, [item.tenantId, item.id]);
      return;
    }
    await x.run(
      `UPDATE pending_work SET step = ${p(1)}, due_at = ${p(2)}, reads_left = ${p(3)}, lease_owner = NULL, lease_until = NULL WHERE tenant_id = ${p(4)} AND id = ${p(5)}`,
      [item.step + 1, next.dueAt, next.readsLeft, item.tenantId, item.id],
    );
  }

  async get(x: SqlExecutor, tenantId: string, id: string): Promise<WorkItem | undefined> {
    const [r] = await x.all(`SELECT * FROM pending_work WHERE tenant_id = ${x.dialect.param(1)} AND id = ${x.dialect.param(2)}`, [tenantId, id]);
    return r ? toItem(r) : undefined;
  }

  /**
   * One read of a subject: counts down its read-timed steps; those reaching zero become due now. A read of an
   * entity is also a read of its collection, which is the subject of work that covers many of its entities.
   */
  async noteRead(tenantId: string, subjectIds: readonly string[], now: Date): Promise<WorkItem[]> {
    return this.db.transaction(async (x) => {
      const params: unknown[] = [tenantId];
      const p = (v: unknown) => (params.push(v), x.dialect.param(params.length));
      const subjects = `tenant_id = ${x.dialect.param(1)} AND subject_id IN (${subjectIds.map(p).join(", ")})`;
      await x.run(`UPDATE pending_work SET reads_left = reads_left - 1 WHERE ${subjects} AND reads_left > 0`, params);
      const readyParams: unknown[] = [];
      const q = (v: unknown) => (readyParams.push(v), x.dialect.param(readyParams.length));
      const due = q(now.toISOString());
      const tenant = q(tenantId);
      const ready = await x.all(
        `UPDATE pending_work SET due_at = ${due}, reads_left = NULL WHERE tenant_id = ${tenant} AND subject_id IN (${subjectIds.map(q).join(", ")}) AND reads_left = 0 RETURNING *`,
        readyParams,
      );
      return ready.map(toItem);
    });
  }

  /** The earliest due time of a step that is due by `until`, if any (time control walks the clock through them). */
  async earliestDue(until: Date): Promise<Date | undefined> {
    const [r] = await this.db.all(`SELECT MIN(due_at) AS due FROM pending_work WHERE due_at <= ${this.db.dialect.param(1)}`, [until.toISOString()]);
    return r?.due ? new Date(String(r.due)) : undefined;
  }

  async pendingCount(): Promise<number> {
    const [r] = await this.db.all("SELECT COUNT(*) AS n FROM pending_work");
    return Number(r.n);
  }
}
