// The body of POST /_allot/fleet, checked before anything is written.

import { badRequest } from "../../../odata/errors.js";

export interface FleetRequest {
  devices: number;
  users: number;
  groups: number;
  /** About 60% of the Windows devices get an Autopilot identity. */
  autopilot: boolean;
  /** Reproduces a fleet: the same seed on the same state creates the same objects. */
  seed?: string;
}

export const FLEET_LIMITS = { devices: 1_000_000, users: 1_000_000, groups: 10_000 } as const;

const KNOWN = new Set(["devices", "users", "groups", "autopilot", "seed"]);

function count(body: Record<string, unknown>, name: keyof typeof FLEET_LIMITS): number {
  const v = body[name] ?? 0;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw badRequest(`'${name}' must be a non-negative integer.`);
  if (v > FLEET_LIMITS[name]) throw badRequest(`'${name}' is at most ${FLEET_LIMITS[name].toLocaleString("en-US")} per call; send larger fleets in batches.`);
  return v;
}

export function parseFleetRequest(body: unknown): FleetRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a JSON object, e.g. {"devices": 1000, "users": 100, "groups": 10, "autopilot": true}.');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!KNOWN.has(key)) throw badRequest(`'${key}' is not a fleet property; expected devices, users, groups, autopilot or seed.`);
  const autopilot = b.autopilot ?? false;
  if (typeof autopilot !== "boolean") throw badRequest("'autopilot' must be true or false.");
  const seed = b.seed;
  if (seed !== undefined && typeof seed !== "string" && !(typeof seed === "number" && Number.isFinite(seed))) throw badRequest("'seed' must be a string or a number.");
  return { devices: count(b, "devices"), users: count(b, "users"), groups: count(b, "groups"), autopilot, seed: seed === undefined ? undefined : String(seed) };
}
