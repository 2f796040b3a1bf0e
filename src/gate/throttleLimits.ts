// Intune's documented throttling limits (spec §4.8): per 20-second window, per service family, writes
// (POST/PUT/PATCH/DELETE) counted apart from all requests, each per tenant and per app in a tenant. Pure: the
// settings `allot serve --throttle` and `PUT /_allot/throttling` accept, and the limits they stand for.

/** Intune's service families as its throttling documentation groups them. */
export const SERVICE_FAMILIES = ["deviceConfiguration", "enrollment", "devices", "other"] as const;
export type ServiceFamily = (typeof SERVICE_FAMILIES)[number];

export interface PerScope {
  tenant: number;
  app: number;
}

export interface FamilyLimits {
  writes: PerScope;
  any: PerScope;
}

export interface ThrottleLimits {
  enabled: boolean;
  windowSeconds: number;
  families: Record<ServiceFamily, FamilyLimits>;
}

const standard: FamilyLimits = { writes: { tenant: 200, app: 100 }, any: { tenant: 2000, app: 1000 } };

/** The documented limits. Autopilot and assignment filters are not listed; they count as "other" ([I]). */
export const REAL_LIMITS: ThrottleLimits = {
  enabled: true,
  windowSeconds: 20,
  families: {
    deviceConfiguration: standard,
    enrollment: standard,
    devices: { writes: { tenant: 400, app: 200 }, any: { tenant: 4000, app: 2000 } },
    other: standard,
  },
};

export const THROTTLING_OFF: ThrottleLimits = { ...REAL_LIMITS, enabled: false };

export class ThrottleSettingsError extends Error {}

function fail(message: string): never {
  throw new ThrottleSettingsError(message);
}

const positiveInteger = (v: unknown, what: string): number =>
  typeof v === "number" && Number.isInteger(v) && v >= 1 ? v : fail(`${what} must be a positive integer`);

/** Every limit multiplied by `factor`, at least 1 each (the window stays). */
export function scaleLimits(limits: ThrottleLimits, factor: number): ThrottleLimits {
  if (!(factor > 0) || !Number.isFinite(factor)) fail(`the scale factor must be a positive number, not ${factor}`);
  const scale = (n: number) => Math.max(1, Math.round(n * factor));
  const families = Object.fromEntries(
    SERVICE_FAMILIES.map((f) => {
      const l = limits.families[f];
      return [f, { writes: { tenant: scale(l.writes.tenant), app: scale(l.writes.app) }, any: { tenant: scale(l.any.tenant), app: scale(l.any.app) } }];
    }),
  ) as Record<ServiceFamily, FamilyLimits>;
  return { ...limits, families };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Settings as JSON: `{"mode": "off"|"real"}`, `{"scale": 0.1}`, and/or custom limits
 * `{"windowSeconds": 2, "families": {"devices": {"writes": {"tenant": 4, "app": 2}, "any": {…}}}}` — what is not
 * named keeps the real value; `scale` applies to the result.
 */
export function limitsFromJson(value: unknown): ThrottleLimits {
  if (!isObject(value)) return fail("throttling settings are a JSON object");
  const known = new Set(["mode", "enabled", "scale", "windowSeconds", "families"]);
  for (const key of Object.keys(value)) if (!known.has(key)) fail(`unknown throttling setting '${key}' (use mode, scale, windowSeconds, families)`);
  if (value.mode !== undefined && value.mode !== "off" && value.mode !== "real") fail("'mode' is 'off' or 'real'");
  if (value.enabled !== undefined && typeof value.enabled !== "boolean") fail("'enabled' is a boolean");
  let limits: ThrottleLimits = structuredClone(REAL_LIMITS);
  if (value.mode === "off" || value.enabled === false) limits.enabled = false;
  if (value.windowSeconds !== undefined) limits.windowSeconds = positiveInteger(value.windowSeconds, "'windowSeconds'");
  if (value.families !== undefined) {
    if (!isObject(value.families)) fail("'families' is an object keyed by service family");
    for (const [name, given] of Object.entries(value.families as Record<string, unknown>)) {
      if (!(SERVICE_FAMILIES as readonly string[]).includes(name)) fail(`unknown service family '${name}' (one of ${SERVICE_FAMILIES.join(", ")})`);
      if (!isObject(given)) fail(`the limits of '${name}' are an object {writes, any}`);
      const target = limits.families[name as ServiceFamily];
      for (const [kind, scopes] of Object.entries(given)) {
        if (kind !== "writes" && kind !== "any") fail(`'${name}' has 'writes' and 'any' limits, not '${kind}'`);
        if (!isObject(scopes)) fail(`'${name}.${kind}' is an object {tenant, app}`);
        for (const [scope, n] of Object.entries(scopes)) {
          if (scope !== "tenant" && scope !== "app") fail(`'${name}.${kind}' has 'tenant' and 'app' limits, not '${scope}'`);
          target[kind][scope] = positiveInteger(n, `'${name}.${kind}.${scope}'`);
        }
      }
    }
  }
  if (value.scale !== undefined) {
    if (typeof value.scale !== "number") fail("'scale' is a number");
    limits = scaleLimits(limits, value.scale as number);
  }
  return limits;
}

/** The `--throttle` flag: `off`, `real`, `scale=<factor>`, or custom limits as JSON text (a file is read by the caller). */
export function parseThrottleFlag(text: string): ThrottleLimits {
  const t = text.trim();
  if (t === "off") return structuredClone(THROTTLING_OFF);
  if (t === "real") return structuredClone(REAL_LIMITS);
  const scale = /^scale=(.+)$/.exec(t);
  if (scale) return scaleLimits(REAL_LIMITS, Number(scale[1]));
  if (t.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      return fail("--throttle: the custom limits are not valid JSON");
    }
    return limitsFromJson(parsed);
  }
  return fail(`--throttle: '${text}' is not off, real, scale=<factor>, a JSON object or a file`);
}
