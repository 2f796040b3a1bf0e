// Intune-style throttling over windows kept in the store (table throttle_windows), so every process on one
// PostgreSQL counts into the same windows. One statement per request: a multi-row upsert that adds 1 to the
// request's counters (tenant and app, "any" and, for writes, "writes") in the current fixed window and returns
// their totals. A request over any limit answers 429 with Retry-After up to the end of that window: a client
// that calls again sooner is throttled again, and its wait does not restart (the window's end does not move).
// Every arriving request counts, refused or not ([I], docs/decisions.md).

import type { Database } from "../store/database.js";
import type { Clock } from "../time/clock.js";
import { GraphError } from "../odata/errors.js";
import type { ServiceFamily, ThrottleLimits } from "./throttleLimits.js";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface ThrottledCall {
  tenantId: string;
  appId: string;
  method: string;
  family: ServiceFamily;
}

/** Graph's throttling answer (spec §4.8), with its documented innerError fields. */
export function tooManyRequests(retryAfterSeconds: number): GraphError {
  return new GraphError(429, "TooManyRequests", "Please retry again later.", { "Retry-After": String(retryAfterSeconds) }, {
    code: "429",
    message: "Please retry after",
    status: "429",
  });
}

export class Throttle {
  private lastWindowSeen = -1;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly limits: () => ThrottleLimits,
  ) {}

  /** Counts the call; a GraphError 429 when it is over a limit, otherwise undefined. */
  async check(call: ThrottledCall): Promise<GraphError | undefined> {
    const limits = this.limits();
    if (!limits.enabled) return undefined;
    const family = limits.families[call.family];
    const windowMs = limits.windowSeconds * 1000;
    const nowMs = this.clock.now().getTime();
    const windowStart = Math.floor(nowMs / windowMs) * limits.windowSeconds;
    const counters: Array<[string, number]> = [
      [`${call.family}:any`, family.any.tenant],
      [`${call.family}:any:${call.appId}`, family.any.app],
    ];
    if (WRITE_METHODS.has(call.method.toUpperCase())) {
      counters.push([`${call.family}:writes`, family.writes.tenant], [`${call.family}:writes:${call.appId}`, family.writes.app]);
    }
    const p = (n: number) => this.db.dialect.param(n);
    // Placeholders are positional in SQLite, so every row binds its own three values.
    const values = counters.map((_, i) => `(${p(3 * i + 1)}, ${p(3 * i + 2)}, ${p(3 * i + 3)}, 1)`).join(", ");
    const rows = await this.db.all<{ counter: string; hits: number }>(
      `INSERT INTO throttle_windows (tenant_id, counter, window_start, hits) VALUES ${values}
       ON CONFLICT (tenant_id, counter, window_start) DO UPDATE SET hits = throttle_windows.hits + 1 RETURNING counter, hits`,
      counters.flatMap(([name]) => [call.tenantId, name, windowStart]),
    );
    this.forgetOldWindows(windowStart, limits.windowSeconds);
    const limitOf = new Map(counters);
    const over = rows.some((r) => Number(r.hits) > (limitOf.get(r.counter) ?? Infinity));
    if (!over) return undefined;
    const retryAfter = Math.max(1, Math.ceil(((windowStart + limits.windowSeconds) * 1000 - nowMs) / 1000));
    return tooManyRequests(retryAfter);
  }

  /** Once per new window (per process), off the request's path: windows older than the previous one go. */
  private forgetOldWindows(windowStart: number, windowSeconds: number) {
    if (windowStart <= this.lastWindowSeen) return;
    this.lastWindowSeen = windowStart;
    this.db
      .run(`DELETE FROM throttle_windows WHERE window_start < ${this.db.dialect.param(1)}`, [windowStart - windowSeconds])
      .catch((e) => process.stderr.write(`allot throttling: ${(e as Error).message}\n`));
  }
}
