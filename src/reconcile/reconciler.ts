// The reconciler: claims due work in bounded batches and applies each step exactly once, in one transaction with
// the change it makes. Nothing is held in memory that a restart would lose: a crashed process's leases expire and
// the work is claimed again; the work_log key turns a repeated step into a no-op.

import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { LifecycleTiming } from "../engine/lifecycleTiming.js";
import { scheduleStep } from "../engine/lifecycleTiming.js";
import type { Database, SqlExecutor } from "../store/database.js";
import type { Clock } from "../time/clock.js";
import type { WorkItem, WorkQueue } from "./workQueue.js";

export interface StepResult {
  /** Further steps follow. */
  more: boolean;
  /**
   * The next step is due at once rather than on the lifecycle clock: the item is a bounded batch of a larger
   * piece of work (one batch per step, each in its own transaction) and has more to do.
   */
  continueNow?: boolean;
}

export interface WorkHandler {
  /** Applies `item.step`; answers whether further steps follow. */
  apply(tx: SqlExecutor, item: WorkItem, at: Date, owner: string): Promise<StepResult>;
  /**
   * Items of this kind with the same key, claimed one after another, may be applied `concurrency` at once, each
   * in its own transaction: the handler promises their changes touch disjoint rows (one job's batches of
   * different devices). PostgreSQL then overlaps one item's statements with another's commit and with the
   * worker's own computing; SQLite's one writer applies them one after another anyway.
   */
  concurrent?: { concurrency: number; key(item: WorkItem): string };
}

export interface ReconcilerOptions {
  batchSize?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
}

class AlreadyApplied extends Error {}

export class Reconciler {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly handlers = new Map<string, WorkHandler>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly db: Database,
    readonly queue: WorkQueue,
    private readonly clock: Clock,
    /** The timing of a lifecycle, by work kind. */
    private readonly timing: (kind: string) => LifecycleTiming,
    private readonly options: ReconcilerOptions = {},
  ) {}

  register(kind: string, handler: WorkHandler) {
    this.handlers.set(kind, handler);
  }

  start() {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      let applied = 0;
      this.running = this.runOnce()
        .then((n) => (applied = n))
        .catch((e) => process.stderr.write(`allot reconciler: ${(e as Error).stack ?? e}\n`))
        .finally(() => {
          // While there is work, drain it (batched work continues at once); when there is none, poll.
          if (!this.stopped) this.timer = setTimeout(tick, applied > 0 ? 0 : (this.options.pollIntervalMs ?? 100));
        });
    };
    tick();
  }

  /** Stops claiming; waits for the batch in progress to finish. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Waits for the batch the background loop is applying, if any. */
  async settle() {
    await this.running;
  }

  /** Claims and applies one batch; answers how many steps were applied. */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const items = await this.queue.claim(this.owner, now, new Date(now.getTime() + (this.options.leaseMs ?? 10_000)), this.options.batchSize ?? 500);
    let applied = 0;
    for (let i = 0; i < items.length; ) {
      // A run of items of one kind that may be applied together; any other item alone, in the claim's order.
      const concurrent = this.handlers.get(items[i].kind)?.concurrent;
      let end = i + 1;
      if (concurrent) {
        const key = concurrent.key(items[i]);
        while (end < items.length && items[end].kind === items[i].kind && concurrent.key(items[end]) === key) end++;
      }
      applied += await this.applyAll(items.slice(i, end), end - i > 1 ? concurrent!.concurrency : 1);
      i = end;
    }
    return applied;
  }

  /** Applies items with up to `concurrency` in flight; the first failure is thrown once all have settled. */
  private async applyAll(items: readonly WorkItem[], concurrency: number): Promise<number> {
    let next = 0;
    let applied = 0;
    const failures: unknown[] = [];
    const lane = async () => {
      while (next < items.length && failures.length === 0) {
        const item = items[next++];
        try {
          if (await this.applyStep(item)) applied++;
        } catch (e) {
          failures.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
    if (failures.length) throw failures[0];
    return applied;
  }

  /** Applies batches until nothing more is due now (after the clock was advanced); answers the steps applied. */
  async runDue(maxBatches = 1000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const applied = await this.runOnce();
      total += applied;
      if (applied === 0) break;
    }
    return total;
  }

  /** Applies the item's current step; false when the step had already been applied elsewhere. */
  async applyStep(item: WorkItem, within?: SqlExecutor): Promise<boolean> {
    const handler = this.handlers.get(item.kind);
    if (!handler) throw new Error(`no handler for work of kind ${item.kind}`);
    const work = async (tx: SqlExecutor) => {
      const at = this.clock.now();
      if (!(await this.queue.logStep(tx, item, this.owner, at.toISOString()))) throw new AlreadyApplied();
      const { more, continueNow } = await handler.apply(tx, item, at, this.owner);
      const next = !more ? undefined : continueNow ? { dueAt: at.toISOString(), readsLeft: null } : scheduleStep(this.timing(item.kind), at);
      await this.queue.advance(tx, item, next);
    };
    try {
      if (within) await work(within);
      else await this.db.transaction(work);
      return true;
    } catch (e) {
      if (e instanceof AlreadyApplied) {
        // Someone applied this step already; the row it left behind is current, so just drop our stale copy.
        return false;
      }
      throw e;
    }
  }

  /** Runs every remaining step of an item at once, inside the caller's transaction (immediate timing). */
  async runToCompletion(tx: SqlExecutor, item: WorkItem): Promise<void> {
    let current: WorkItem | undefined = item;
    while (current) {
      await this.applyStep(current, tx);
      current = await this.queue.get(tx, item.tenantId, item.id);
    }
  }

  /** A read of a subject: read-timed steps that come due are applied before the read is answered. */
  async observeRead(tenantId: string, subjectIds: readonly string[]): Promise<boolean> {
    const ready = await this.queue.noteRead(tenantId, subjectIds, this.clock.now());
    for (const item of ready) await this.applyStep(item);
    return ready.length > 0;
  }
}
