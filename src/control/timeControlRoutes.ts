// Time control: /_allot/time reads, freezes, unfreezes, sets and advances the one clock every timestamp and
// lifecycle reads; /_allot/lifecycles gives each lifecycle (by work kind) its own timing. Both act on the whole
// installation (every process on the store: the state lives there), so both need the admin key.
//
// Advancing walks the clock through the due times of pending lifecycle steps up to the target, applying the
// steps due at each instant before moving on, so "advance 10 minutes" finishes a multi-step lifecycle at once
// and each step carries the time it was due, not the time of the jump.

import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseLifecycleTiming } from "../engine/lifecycleTiming.js";
import { jsonBody } from "../graph/graphRoutes.js";
import { badRequest } from "../odata/errors.js";
import type { Reconciler } from "../reconcile/reconciler.js";
import type { SharedState } from "../server/sharedState.js";
import { RUNNING_REAL_TIME } from "../time/controlledClock.js";
import { parseIsoDuration } from "../time/isoDuration.js";
import { requireAdminKey, type ControlAuthority } from "./controlAuthorization.js";

export interface TimeControlDeps {
  authority: ControlAuthority;
  shared: SharedState;
  reconciler: Reconciler;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const KNOWN = new Set(["freeze", "unfreeze", "frozen", "advance", "set", "reset"]);

/** Milliseconds of `{"advance": "PT10M"}` or `{"advance": 600}` (seconds). */
function advanceMs(value: unknown): number {
  const ms = typeof value === "number" ? value * 1000 : typeof value === "string" ? parseIsoDuration(value) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) throw badRequest("'advance' is an ISO 8601 duration such as \"PT10M\", or a number of seconds, not negative.");
  return ms;
}

export function registerTimeControlRoutes(app: FastifyInstance, deps: TimeControlDeps) {
  const { shared, reconciler } = deps;
  const clock = shared.clock;
  const describe = () => {
    const state = clock.state();
    return { now: clock.now().toISOString(), frozen: state.frozenAtMs !== null, offsetSeconds: state.frozenAtMs !== null ? (state.frozenAtMs - Date.now()) / 1000 : state.offsetMs / 1000 };
  };

  /** Moves the clock to `target` through every due time on the way, applying what comes due; answers the steps applied. */
  const advanceTo = async (target: number): Promise<number> => {
    let applied = 0;
    for (let round = 0; round < 10_000; round++) {
      const due = await reconciler.queue.earliestDue(new Date(target));
      if (!due) break;
      await shared.setClock(clock.at(Math.max(due.getTime(), clock.now().getTime())));
      let done = await reconciler.runDue();
      if (done === 0) {
        // The background loop may hold the lease on what is due: let its batch finish, then look again.
        await reconciler.settle();
        done = await reconciler.runDue();
        if (done === 0 && (await reconciler.queue.earliestDue(new Date(target)))?.getTime() === due.getTime()) break;
      }
      applied += done;
    }
    await shared.setClock(clock.at(Math.max(target, clock.now().getTime())));
    return applied + (await reconciler.runDue());
  };

  app.get("/_allot/time", async (request) => {
    requireAdminKey(deps.authority, request, "Reading the controlled clock");
    return describe();
  });

  const change = async (request: FastifyRequest) => {
    requireAdminKey(deps.authority, request, "Controlling the clock");
    const body = jsonBody(request) ?? {};
    if (!isObject(body)) throw badRequest("The body is a JSON object such as {\"freeze\": true} or {\"advance\": \"PT10M\"}.");
    for (const key of Object.keys(body)) if (!KNOWN.has(key)) throw badRequest(`Unknown time control '${key}' (use ${[...KNOWN].join(", ")}).`);
    const freeze = body.freeze === true || body.frozen === true;
    const unfreeze = body.unfreeze === true || body.frozen === false;
    if (freeze && unfreeze) throw badRequest("Freeze or unfreeze, not both.");
    for (const key of ["freeze", "unfreeze", "reset"]) if (body[key] !== undefined && typeof body[key] !== "boolean") throw badRequest(`'${key}' is a boolean.`);
    let setTo: number | undefined;
    if (body.set !== undefined) {
      setTo = typeof body.set === "string" && /^\d{4}-\d{2}-\d{2}T/.test(body.set) ? Date.parse(body.set) : NaN;
      if (Number.isNaN(setTo)) throw badRequest("'set' is an ISO 8601 instant such as \"2026-01-01T00:00:00Z\".");
    }
    const advance = body.advance === undefined ? undefined : advanceMs(body.advance);
    if (body.reset === true) await shared.setClock(RUNNING_REAL_TIME);
    // One state for set + freeze/unfreeze, so "set and freeze" stands exactly at the instant named.
    if (setTo !== undefined) {
      const frozenAfter = freeze || (!unfreeze && clock.state().frozenAtMs !== null);
      await shared.setClock(frozenAfter ? { offsetMs: 0, frozenAtMs: setTo } : { offsetMs: setTo - Date.now(), frozenAtMs: null });
    } else if (freeze) await shared.setClock(clock.frozen());
    else if (unfreeze) await shared.setClock(clock.running());
    const applied = advance !== undefined ? await advanceTo(clock.now().getTime() + advance) : await reconciler.runDue();
    return { ...describe(), stepsApplied: applied };
  };
  app.post("/_allot/time", change);
  app.put("/_allot/time", change);

  app.get("/_allot/lifecycles", async (request) => {
    requireAdminKey(deps.authority, request, "Reading lifecycle timings");
    return shared.timings.describe();
  });

  /** {"default": "1s", "lifecycles": {"deviceAction": "immediate", "autopilotSync": "3reads", "mmdReassign": null}}. */
  app.put("/_allot/lifecycles", async (request) => {
    requireAdminKey(deps.authority, request, "Changing lifecycle timings");
    const body = jsonBody(request);
    if (!isObject(body)) throw badRequest("The body is {\"default\"?: timing, \"lifecycles\"?: {kind: timing or null}}.");
    for (const key of Object.keys(body)) if (key !== "default" && key !== "lifecycles") throw badRequest(`Unknown property '${key}' (use default, lifecycles).`);
    if (body.default !== undefined && typeof body.default !== "string") throw badRequest("'default' is a timing: immediate, <n>s or <n>reads.");
    if (body.lifecycles !== undefined && (!isObject(body.lifecycles) || !Object.values(body.lifecycles).every((v) => v === null || typeof v === "string"))) {
      throw badRequest("'lifecycles' maps a lifecycle to a timing (immediate, <n>s, <n>reads) or null.");
    }
    const settings = body as { default?: string; lifecycles?: Record<string, string | null> };
    for (const text of [settings.default, ...Object.values(settings.lifecycles ?? {})]) {
      if (typeof text !== "string") continue;
      try {
        parseLifecycleTiming(text);
      } catch (e) {
        throw badRequest((e as Error).message);
      }
    }
    const unknown = Object.keys(settings.lifecycles ?? {}).filter((k) => !shared.timings.kinds.includes(k));
    if (unknown.length) throw badRequest(`No lifecycle '${unknown[0]}' (one of ${shared.timings.kinds.join(", ")}).`);
    await shared.setLifecycles(settings);
    return shared.timings.describe();
  });
}
