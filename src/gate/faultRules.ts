// Fault rules (/_allot/faults): which Graph requests a rule catches (method, model-aware path pattern, tenant),
// how often (a probability, or the next N matching requests), and what it does to them (a status with a Graph
// error body, added latency, or a dropped connection). Pure: parsing and matching; counting "the next N" is the
// store's job (faultStore.ts), so it is exact across concurrent requests and processes.

import type { CompiledModel } from "../odata/compiledModel.js";
import type { ResolvedPath } from "../odata/pathResolver.js";
import { compilePathPattern, PathPatternError, type PathPattern } from "./pathPattern.js";

export const FAULT_STATUSES = [429, 500, 502, 503, 504] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

/** A rule as stored and listed. */
export interface FaultRuleDoc {
  id: string;
  method?: string;
  path?: string;
  tenant?: string;
  probability?: number;
  /** "The next N" matching requests; how many are left is `remaining` on the stored row. */
  count?: number;
  status?: FaultStatus;
  /** Seconds, for 429 and 503 (default 1). */
  retryAfter?: number;
  code?: string;
  message?: string;
  latencyMs?: number;
  drop?: boolean;
  createdDateTime: string;
}

export interface FaultRule extends FaultRuleDoc {
  pattern?: PathPattern;
}

/** What a request looks like to the rules. */
export interface RequestFacts {
  method: string;
  tenantId: string;
  /** Undefined when the path did not resolve (only rules without a path pattern can match it). */
  resolved?: ResolvedPath;
}

export class FaultRuleError extends Error {}

function fail(message: string): never {
  throw new FaultRuleError(message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const KNOWN = new Set(["method", "path", "tenant", "probability", "count", "status", "retryAfter", "code", "message", "latencyMs", "drop"]);

/** Checks a rule posted to /_allot/faults; `id` and `createdDateTime` are the server's. */
export function parseFaultRule(model: CompiledModel, body: unknown, id: string, now: Date): FaultRule {
  if (!isObject(body)) return fail("a fault rule is a JSON object");
  for (const key of Object.keys(body)) if (!KNOWN.has(key)) fail(`unknown fault rule property '${key}' (use ${[...KNOWN].join(", ")})`);
  const rule: FaultRule = { id, createdDateTime: now.toISOString() };
  if (body.method !== undefined) {
    if (typeof body.method !== "string" || !/^(GET|POST|PUT|PATCH|DELETE)$/i.test(body.method)) fail("'method' is one of GET, POST, PUT, PATCH, DELETE");
    rule.method = (body.method as string).toUpperCase();
  }
  if (body.path !== undefined) {
    if (typeof body.path !== "string") fail("'path' is a path pattern such as \"changeAssignments\" or \"managedDevices/{id}/wipe\"");
    try {
      rule.pattern = compilePathPattern(model, body.path as string);
    } catch (e) {
      if (e instanceof PathPatternError) fail(e.message);
      throw e;
    }
    rule.path = rule.pattern!.text;
  }
  if (body.tenant !== undefined) {
    if (typeof body.tenant !== "string" || body.tenant === "") fail("'tenant' is a tenant id");
    rule.tenant = (body.tenant as string).toLowerCase();
  }
  if (body.probability !== undefined && body.count !== undefined) fail("a rule has a 'probability' or a 'count' (the next N requests), not both");
  if (body.probability !== undefined) {
    if (typeof body.probability !== "number" || !(body.probability > 0 && body.probability <= 1)) fail("'probability' is a number in (0, 1]");
    rule.probability = body.probability as number;
  }
  if (body.count !== undefined) {
    if (typeof body.count !== "number" || !Number.isInteger(body.count) || body.count < 1) fail("'count' is a positive integer");
    rule.count = body.count as number;
  }
  if (body.status !== undefined) {
    if (!(FAULT_STATUSES as readonly unknown[]).includes(body.status)) fail(`'status' is one of ${FAULT_STATUSES.join(", ")}`);
    rule.status = body.status as FaultStatus;
  }
  if (body.retryAfter !== undefined) {
    if (typeof body.retryAfter !== "number" || !Number.isInteger(body.retryAfter) || body.retryAfter < 0) fail("'retryAfter' is a whole number of seconds");
    if (rule.status !== 429 && rule.status !== 503) fail("'retryAfter' goes with status 429 or 503");
    rule.retryAfter = body.retryAfter as number;
  }
  for (const field of ["code", "message"] as const) {
    if (body[field] === undefined) continue;
    if (typeof body[field] !== "string" || body[field] === "") fail(`'${field}' is a non-empty string`);
    if (rule.status === undefined) fail(`'${field}' goes with a 'status'`);
    rule[field] = body[field] as string;
  }
  if (body.latencyMs !== undefined) {
    if (typeof body.latencyMs !== "number" || !Number.isInteger(body.latencyMs) || body.latencyMs < 0 || body.latencyMs > 120_000) {
      fail("'latencyMs' is a whole number of milliseconds up to 120000");
    }
    rule.latencyMs = body.latencyMs as number;
  }
  if (body.drop !== undefined) {
    if (typeof body.drop !== "boolean") fail("'drop' is a boolean");
    if (body.drop && rule.status !== undefined) fail("a rule drops the connection or answers a status, not both");
    if (body.drop) rule.drop = true;
  }
  if (rule.status === undefined && rule.latencyMs === undefined && !rule.drop) fail("a rule does something: a 'status', 'latencyMs' and/or 'drop': true");
  return rule;
}

/** The rule again from its stored document (the pattern recompiled against the model). */
export function ruleFromDoc(model: CompiledModel, doc: FaultRuleDoc): FaultRule {
  return { ...doc, ...(doc.path !== undefined ? { pattern: compilePathPattern(model, doc.path) } : {}) };
}

export function ruleDoc(rule: FaultRule): FaultRuleDoc {
  const { pattern: _pattern, ...doc } = rule;
  return doc;
}

/** Whether the rule catches the request (before its probability or count is consulted). */
export function ruleMatches(rule: FaultRule, facts: RequestFacts): boolean {
  if (rule.method !== undefined && rule.method !== facts.method.toUpperCase()) return false;
  if (rule.tenant !== undefined && rule.tenant !== facts.tenantId.toLowerCase()) return false;
  if (rule.pattern !== undefined && (facts.resolved === undefined || !rule.pattern.matches(facts.resolved))) return false;
  return true;
}

const DEFAULT_ERRORS: Record<FaultStatus, { code: string; message: string }> = {
  429: { code: "TooManyRequests", message: "Please retry again later." },
  500: { code: "generalException", message: "An unexpected error occurred while processing the request (injected fault)." },
  502: { code: "BadGateway", message: "The server, while acting as a gateway, received an invalid response (injected fault)." },
  503: { code: "serviceNotAvailable", message: "The service is temporarily unavailable. Retry after the delay in the Retry-After header (injected fault)." },
  504: { code: "GatewayTimeout", message: "The gateway did not receive a timely response from the upstream server (injected fault)." },
};

export const defaultFaultError = (status: FaultStatus) => DEFAULT_ERRORS[status];
