// PATCH tenants/{tenantId}/profiles/reassignProfile?persona=&wipe= (seed 000, spec §1.4). Validation in the
// documented order; then, in the request's transaction, every device is marked InProgress and gets a work item;
// the reconciler moves each one (group tag, persona group, optional wipe) and marks it Successful, once.

import { randomUUID } from "node:crypto";
import { scheduleStep, type LifecycleTiming } from "../engine/lifecycleTiming.js";
import type { Reconciler, WorkHandler } from "../reconcile/reconciler.js";
import type { SqlExecutor } from "../store/database.js";
import type { TenantRecord } from "../store/identityStore.js";
import type { GraphContext, GraphServices } from "../graph/graphContext.js";
import { startDeviceAction } from "../graph/devices/deviceActionRequests.js";
import { currentGroupTag, setGroupTag } from "../graph/autopilot/groupTags.js";
import { storeNewEntity } from "../graph/entityWrites.js";
import { flatError } from "./mmdErrors.js";
import { groupTagFor, personaAllowedFor, personaGroupName, personaGroupRule, reassignablePersona, type Persona } from "./personas.js";

export const MMD_REASSIGN_WORK = "mmdReassign";
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
    const byAad = new Map<string, { id: string; doc: Record<string, unknown> }>();
    for (let i = 0; i < deviceIds.length; i += 500) {
      const slice = deviceIds.slice(i, i + 500);
      const marks = slice.map((_, k) => tx.dialect.param(k + 2)).join(", ");
      const rows = await tx.all(`SELECT id, p_azure_ad_device_id FROM ${table.name} WHERE tenant_id = ${tx.dialect.param(1)} AND p_azure_ad_device_id IN (${marks})`, [ctx.tenantId, ...slice]);
      for (const r of rows) byAad.set(String(r.p_azure_ad_device_id).toLowerCase(), { id: r.id as string, doc: {} });
    }
    const unknown = deviceIds.filter((d) => !byAad.has(d));
    if (unknown.length) {
      throw flatError(400, `No managed device with the AAD device id ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ""} exists in this tenant.`);
    }
    if (persona === "PowerUser") {
      for (const d of deviceIds) {
        const { tag } = await currentGroupTag(ctx, tx, d);
        if (!personaAllowedFor(persona, tag)) throw flatError(400, `PowerUser is not supported for shared devices; device ${d} is shared.`);
      }
    }
    await ensurePersonaGroup(ctx, tx, persona);
    const now = ctx.clock.now();
    for (const [aad, { id }] of byAad) {
      const device = (await ctx.entities.get(tx, table, ctx.tenantId, id))!;
      await ctx.entities.replace(tx, table, ctx.tenantId, { ...device, doc: { ...device.doc, _mmdProfileAssignmentStatus: "InProgress" } });
      await tx.run(`DELETE FROM pending_work WHERE tenant_id = ${tx.dialect.param(1)} AND subject_id = ${tx.dialect.param(2)} AND kind = ${tx.dialect.param(3)}`, [ctx.tenantId, id, MMD_REASSIGN_WORK]);
      const item = { tenantId: ctx.tenantId, id: randomUUID(), kind: MMD_REASSIGN_WORK, subjectId: id, step: 0, ...scheduleStep(timing, now), payload: { persona, wipe, aadDeviceId: aad, appId: ctx.principal.appId } };
      await reconciler.queue.enqueue(tx, item);
      if (timing.kind === "immediate") await reconciler.runToCompletion(tx, item);
    }
  });
}

/** Moves one device: its group tag (and so its persona group and Autopilot profile), an optional wipe, Successful. */
export function reassignWork(services: GraphServices, reconciler: Reconciler, timing: () => LifecycleTiming): WorkHandler {
  return {
    async apply(tx, item) {
      const { persona, wipe, aadDeviceId, appId } = item.payload as { persona: Persona; wipe: boolean; aadDeviceId: string; appId: string };
      const ctx: GraphContext = {
        ...services,
        tenantId: item.tenantId,
        principal: { tenantId: item.tenantId, appId, objectId: appId, kind: "application", permissions: new Set(["MmdSupport.ReadWrite"]) },
        serviceRoot: "",
        requestHeaders: {},
        requestId: item.id,
        audited: true,
      };
      const table = managedTable(ctx);
      const device = await ctx.entities.get(tx, table, ctx.tenantId, item.subjectId);
      if (!device) return { more: false };
      const { tag } = await currentGroupTag(ctx, tx, aadDeviceId);
      await setGroupTag(ctx, tx, aadDeviceId, groupTagFor(persona, tag));
      if (wipe) await startDeviceAction(ctx, tx, reconciler, timing(), table, device.id, "wipe", { keepEnrollmentData: false, keepUserData: false });
      const current = (await ctx.entities.get(tx, table, ctx.tenantId, device.id))!;
      const after = { ...current, doc: { ...current.doc, _mmdPersona: persona, _mmdProfileAssignmentStatus: "Successful" } };
      await ctx.entities.replace(tx, table, ctx.tenantId, after);
      await ctx.audit.record(ctx, tx, {
        operation: "Action",
        activity: "reassignProfile",
        type: ctx.model.entityType(after.type),
        entity: after,
        changes: [{ displayName: "persona", oldValue: String(device.doc._mmdPersona ?? ""), newValue: persona }],
      });
      return { more: false };
    },
  };
}
