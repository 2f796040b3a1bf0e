// PATCH tenants/{tenantId}/profiles/reassignProfile?persona=&wipe= (seed 000, spec §1.4). Validation in the
// documented order (one set-based existence check of the ids); then, in the request's transaction, the devices
// are fanned out to work items of a bounded batch each. Those items are the job's record: a device in a pending
// item reads InProgress (reassignmentsInFlight.ts), so the request writes no device row. The reconciler moves a
// batch in one transaction (group tags, persona group memberships, Autopilot re-evaluation, optional wipe,
// Successful, one audit event per device), once.

import { randomUUID } from "node:crypto";
import { scheduleStep, type LifecycleTiming } from "../engine/lifecycleTiming.js";
import type { Reconciler, WorkHandler } from "../reconcile/reconciler.js";
import type { SqlExecutor } from "../store/database.js";
import type { TenantRecord } from "../store/identityStore.js";
import type { GraphContext, GraphServices } from "../graph/graphContext.js";
import { startDeviceAction } from "../graph/devices/deviceActionRequests.js";
import { currentGroupTags, setGroupTags } from "../graph/autopilot/groupTags.js";
import { storeNewEntity } from "../graph/entityWrites.js";
import { flatError } from "./mmdErrors.js";
import { groupTagFor, personaAllowedFor, personaGroupName, personaGroupRule, reassignablePersona, type Persona } from "./personas.js";

import { preferIndexLookups, refreshPlannerStatistics } from "../store/plannerStatistics.js";
import { devicesInFlight, MMD_REASSIGN_BATCH_WORK } from "./reassignmentsInFlight.js";
import { setDeviceProfiles } from "./deviceProfiles.js";

export { MMD_REASSIGN_BATCH_WORK, MMD_REASSIGN_WORK } from "./reassignmentsInFlight.js";
/** Devices per work item: one transaction of the reconciler each. */
const BATCH = 2000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ReassignRequest {
  persona: string | undefined;
  wipe: string | undefined;
  body: unknown;
}

/** Validation in the documented order: persona known, persona enabled, then the wipe flag and the body. */
export function validateReassign(tenant: TenantRecord, req: ReassignRequest): { persona: Persona; wipe: boolean; deviceIds: string[] } {
  const persona = req.persona === undefined ? undefined : reassignablePersona(req.persona.trim());
  if (!persona) throw flatError(400, "This persona is not supported.");
  const enabled = tenant.mmdEnabledPersonas ?? [];
  if (!enabled.includes(persona)) throw flatError(400, `${persona} not enabled for tenant ${tenant.id}, only ${enabled.join(",")} are enabled`);
  const wipeText = (req.wipe ?? "false").trim().toLowerCase();
  if (wipeText !== "true" && wipeText !== "false") throw flatError(400, `The value '${req.wipe}' of 'wipe' is not valid; use true or false.`);
  if (!Array.isArray(req.body) || req.body.length === 0 || !req.body.every((d) => typeof d === "string" && GUID.test(d.trim()))) {
    throw flatError(400, "The request body must be a non-empty JSON array of Entra (AAD) device ids, each a GUID.");
  }
  const deviceIds = [...new Set((req.body as string[]).map((d) => d.trim().toLowerCase()))];
  return { persona, wipe: wipeText === "true", deviceIds };
}

const managedTable = (ctx: GraphContext) => ctx.model.entityType("deviceManagement").navigation.get("managedDevices")!.table!;

/** The tables a batch reads by lists of its devices' ids (plannerStatistics.ts). */
function tablesReadByBatch(ctx: GraphContext): string[] {
  const deviceManagement = ctx.model.entityType("deviceManagement").navigation;
  return [
    managedTable(ctx).name,
    deviceManagement.get("windowsAutopilotDeviceIdentities")!.table!.name,
    ctx.model.entitySets.get("devices")!.table.name,
    ctx.model.entitySets.get("users")!.table.name,
    "group_members",
    "configuration_device_states",
  ];
}

/** The persona's device group exists as a dynamic group on its tag (created on first use). */
async function ensurePersonaGroup(ctx: GraphContext, tx: SqlExecutor, persona: Persona) {
  const groups = ctx.model.entitySets.get("groups")!.table;
  if ((await ctx.entities.findBy(tx, groups, ctx.tenantId, "displayName", personaGroupName(persona))).length) return;
  const now = ctx.clock.now().toISOString();
  await storeNewEntity(ctx, tx, groups, {
    id: randomUUID(),
    type: "group",
    seq: 0,
    doc: {
      displayName: personaGroupName(persona),
      description: `Microsoft Managed Desktop ${persona} profile devices`,
      mailEnabled: false,
      mailNickname: `mwp-profile-${persona.toLowerCase()}`,
      securityEnabled: true,
      groupTypes: ["DynamicMembership"],
      membershipRule: personaGroupRule(persona),
      membershipRuleProcessingState: "On",
      createdDateTime: now,
    },
  });
}

export async function startReassign(
  ctx: GraphContext,
  reconciler: Reconciler,
  timing: LifecycleTiming,
  persona: Persona,
  wipe: boolean,
  deviceIds: string[],
): Promise<void> {
  const table = managedTable(ctx);
  await ctx.db.transaction(async (tx) => {
    const byAad = new Map<string, string>();
    // One statement for the whole list: the ids are bound as one list value.
    const d = tx.dialect;
    const rows = await tx.all(`SELECT id, p_azure_ad_device_id FROM ${table.name} WHERE tenant_id = ${d.param(1)} AND ${d.inList(d.foldText("p_azure_ad_device_id"), d.param(2))}`, [ctx.tenantId, d.bindList(deviceIds)]);
    for (const r of rows) byAad.set(String(r.p_azure_ad_device_id).toLowerCase(), r.id as string);
    const unknown = deviceIds.filter((d) => !byAad.has(d));
    if (unknown.length) {
      throw flatError(400, `No managed device with the AAD device id ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ""} exists in this tenant.`);
    }
    if (persona === "PowerUser") {
      for (const d of (await currentGroupTags(ctx, tx, deviceIds)).values()) {
        if (!personaAllowedFor(persona, d.tag)) throw flatError(400, `PowerUser is not supported for shared devices; device ${d.azureADDeviceId} is shared.`);
      }
    }
    await ensurePersonaGroup(ctx, tx, persona);
    const now = ctx.clock.now();
    const devices = [...byAad];
    const job = randomUUID();
    // Each item lists its job's items, so that a batch tells the later items of its own job from a newer job's
    // without reading their payloads.
    const jobItems = Array.from({ length: Math.ceil(devices.length / BATCH) }, () => randomUUID());
    for (let i = 0; i < devices.length; i += BATCH) {
      const batch = devices.slice(i, i + BATCH);
      const id = jobItems[i / BATCH];
      const subjectId = batch.length === 1 ? batch[0][1] : table.name;
      const item = { tenantId: ctx.tenantId, id, kind: MMD_REASSIGN_BATCH_WORK, subjectId, step: 0, ...scheduleStep(timing, now), payload: { job, jobItems, persona, wipe, appId: ctx.principal.appId, devices: batch.map(([aad, managedId]) => [managedId, aad]) } };
      await reconciler.queue.enqueue(tx, item);
      if (timing.kind === "immediate") await reconciler.runToCompletion(tx, item);
    }
  });
}

/** The context a reassignment's work runs in: the tenant and the app that asked for it. */
function workContext(services: GraphServices, tenantId: string, appId: string, requestId: string): GraphContext {
  return {
    ...services,
    tenantId,
    principal: { tenantId, appId, objectId: appId, kind: "application", permissions: new Set(["MmdSupport.ReadWrite"]) },
    serviceRoot: "",
    requestHeaders: {},
    requestId,
    audited: true,
  };
}

/**
 * Moves one batch of devices, set-based: their group tags (and so persona groups and Autopilot profiles), an
 * optional wipe, Successful, and one audit event each.
 */
export function reassignBatchWork(services: GraphServices, reconciler: Reconciler, timing: () => LifecycleTiming): WorkHandler {
  return {
    // One job's batches name disjoint devices (a device is in one batch of its job); batches of different jobs
    // stay in order, since an older job's batch skips the devices a newer one still has pending.
    concurrent: { concurrency: 2, key: (item) => String(item.payload.job ?? item.id) },
    async apply(tx, item) {
      const { job, jobItems, persona, wipe, appId, devices } = item.payload as { job?: string; jobItems?: string[]; persona: Persona; wipe: boolean; appId: string; devices: [string, string][] };
      const ctx = workContext(services, item.tenantId, appId, item.id);
      const table = managedTable(ctx);
      // Right after a bulk load of the fleet (or with autovacuum off) PostgreSQL has no statistics and would scan
      // whole tables for each batch's id lists.
      await refreshPlannerStatistics(tx, tablesReadByBatch(ctx));
      // Every read of the batch is by its devices' ids, the Autopilot re-evaluation's too: on their indexes.
      await preferIndexLookups(tx);
      // The newest reassignment of a device wins: this batch skips devices a later pending job names.
      const newer = await devicesInFlight(tx, item.tenantId, { itemId: item.id, job: job ?? item.id, jobItems });
      // Only what the move reads: that the device still exists, and its persona before.
      const d = tx.dialect;
      const rows = await tx.all(
        `SELECT m.id, m.odata_type, COALESCE(p.persona, ${d.jsonText("m.doc", "_mmdPersona")}) AS persona FROM ${table.name} m
         LEFT JOIN mmd_device_profiles p ON p.tenant_id = m.tenant_id AND p.managed_device_id = m.id
         WHERE m.tenant_id = ${d.param(1)} AND ${d.inList("m.id", d.param(2))}`,
        [item.tenantId, d.bindList(devices.map(([managedId]) => managedId))],
      );
      const found = new Map(rows.filter((r) => !newer.has(r.id as string)).map((r) => [r.id as string, { type: r.odata_type as string, persona: (r.persona as string | null) ?? "" }]));
      const mine = devices.filter(([managedId]) => found.has(managedId));
      if (mine.length === 0) return { more: false };
      const tags = await currentGroupTags(ctx, tx, mine.map(([, aad]) => aad));
      await setGroupTags(ctx, tx, [...tags.values()].map((device) => ({ device, tag: groupTagFor(persona, device.tag) })));
      if (wipe) for (const [managedId] of mine) await startDeviceAction(ctx, tx, reconciler, timing(), table, managedId, "wipe", { keepEnrollmentData: false, keepUserData: false });
      const ids = mine.map(([managedId]) => managedId);
      await setDeviceProfiles(tx, ctx.tenantId, ids, { persona, status: "Successful" });
      const type = ctx.model.entityType("managedDevice");
      await ctx.audit.recordMany(
        ctx,
        tx,
        mine.map(([managedId, aad]) => {
          const before = found.get(managedId)!;
          const tag = tags.get(aad)?.tag ?? "";
          return {
            operation: "Action" as const,
            activity: "reassignProfile",
            type,
            entity: { id: managedId, type: before.type, seq: 0, doc: { _mmdPersona: persona, _mmdProfileAssignmentStatus: "Successful" } },
            changes: [
              { displayName: "persona", oldValue: before.persona, newValue: persona },
              { displayName: "groupTag", oldValue: tag, newValue: groupTagFor(persona, tag) },
            ],
          };
        }),
      );
      return { more: false };
    },
  };
}

/** A per-device item of an older store: the same move for its one device. */
export function reassignWork(services: GraphServices, reconciler: Reconciler, timing: () => LifecycleTiming): WorkHandler {
  const batch = reassignBatchWork(services, reconciler, timing);
  return {
    async apply(tx, item, at, owner) {
      const { persona, wipe, aadDeviceId, appId } = item.payload as { persona: Persona; wipe: boolean; aadDeviceId: string; appId: string };
      return batch.apply(tx, { ...item, payload: { persona, wipe, appId, devices: [[item.subjectId, aadDeviceId]] } }, at, owner);
    },
  };
}
