// The gate every Graph request (and every $batch item) passes after authentication and the model-only path
// resolution, before anything loads, authorizes or writes: throttling first (Intune's limits; a refused request
// never runs), then fault rules. A fault is decided here, before the handler, so it never leaves half-applied
// state.

import { GraphError } from "../odata/errors.js";
import type { ResolvedPath } from "../odata/pathResolver.js";
import { defaultFaultError, type FaultRule } from "./faultRules.js";
import type { FaultStore } from "./faultStore.js";
import { tooManyRequests, type Throttle } from "./throttle.js";
import type { ServiceFamily } from "./throttleLimits.js";

export interface GateRequest {
  method: string;
  tenantId: string;
  appId: string;
  resolved?: ResolvedPath;
}

/** Refuse with an error, or drop the connection; nothing means go on. */
export type GateVerdict = { kind: "refuse"; error: GraphError } | { kind: "drop" } | undefined;

export class RequestGate {
  constructor(
    private readonly throttle: Throttle,
    private readonly faults: FaultStore,
    private readonly familyOf: (resolved: ResolvedPath) => ServiceFamily | undefined,
  ) {}

  /** Without a promise when there is nothing to count or match (no service family, no fault rule): the common read. */
  admit(request: GateRequest): GateVerdict | Promise<GateVerdict> {
    const family = request.resolved ? this.familyOf(request.resolved) : undefined;
    if (!family && !this.faults.hasRules) return undefined;
    return this.admitCounted(request, family);
  }

  private async admitCounted(request: GateRequest, family: ServiceFamily | undefined): Promise<GateVerdict> {
    if (family) {
      const throttled = await this.throttle.check({ tenantId: request.tenantId, appId: request.appId, method: request.method, family });
      if (throttled) return { kind: "refuse", error: throttled };
    }
    const rule = await this.faults.fire({ method: request.method, tenantId: request.tenantId, resolved: request.resolved });
    if (!rule) return undefined;
    if (rule.latencyMs) await new Promise((resolve) => setTimeout(resolve, rule.latencyMs));
    if (rule.drop) return { kind: "drop" };
    if (rule.status !== undefined) return { kind: "refuse", error: faultError(rule) };
    return undefined;
  }
}

function faultError(rule: FaultRule): GraphError {
  const status = rule.status!;
  const retryAfter = String(rule.retryAfter ?? 1);
  if (status === 429 && rule.code === undefined && rule.message === undefined) return tooManyRequests(Number(retryAfter));
  const fallback = defaultFaultError(status);
  const headers: Record<string, string> = status === 429 || status === 503 ? { "Retry-After": retryAfter } : {};
  return new GraphError(status, rule.code ?? fallback.code, rule.message ?? fallback.message, headers);
}
