// What Autopilot adds to generic CRUD: deprecated twins kept in sync both ways, at most 350 profiles, a profile
// with assignments cannot be deleted, assignment targets Autopilot supports, and re-evaluation of the devices
// after every change that can alter their profile.

import { badRequest } from "../../odata/errors.js";
import type { SqlExecutor } from "../../store/database.js";
import type { StoredEntity } from "../../store/entityStore.js";
import type { EntityBehaviours, GraphContext } from "../graphContext.js";
import type { AutopilotAssignments, EvaluationScope } from "./autopilotAssignments.js";
import { targetOf } from "./autopilotAssignments.js";

export const MAX_PROFILES_PER_TENANT = 350;

/** Old name → new name; each pair is kept equal, whichever side a request sets. */
const TWINS: [string, string][] = [
  ["language", "locale"],
  ["extractHardwareHash", "hardwareHashExtractionEnabled"],
  ["enableWhiteGlove", "preprovisioningAllowed"],
];
const OOBE_TWINS: [string, string][] = [
  ["hidePrivacySettings", "privacySettingsHidden"],
  ["hideEULA", "eulaHidden"],
  ["userType", "userType"],
  ["deviceUsageType", "deviceUsageType"],
  ["skipKeyboardSelectionPage", "keyboardSelectionPageSkipped"],
  ["hideEscapeLink", "escapeLinkHidden"],
];

const changed = (doc: Record<string, unknown>, before: Record<string, unknown> | undefined, key: string) =>
  JSON.stringify(doc[key]) !== JSON.stringify(before?.[key]);

/** Makes each deprecated property and its replacement agree; the one the request changed wins. */
export function syncTwins(doc: Record<string, unknown>, before?: Record<string, unknown>) {
  for (const [old, current] of TWINS) {
    if (changed(doc, before, current) || !changed(doc, before, old)) doc[old] = doc[current];
    else doc[current] = doc[old];
  }
  const setting = (doc.outOfBoxExperienceSetting ?? {}) as Record<string, unknown>;
  const legacy = (doc.outOfBoxExperienceSettings ?? {}) as Record<string, unknown>;
  const legacyWins = changed(doc, before, "outOfBoxExperienceSettings") && !changed(doc, before, "outOfBoxExperienceSetting");
  const defaults: Record<string, unknown> = { privacySettingsHidden: false, eulaHidden: false, userType: "administrator", deviceUsageType: "singleUser", keyboardSelectionPageSkipped: false, escapeLinkHidden: false };
  const merged: Record<string, unknown> = { ...defaults, ...setting };
  for (const [old, current] of OOBE_TWINS) if (legacyWins && legacy[old] !== undefined) merged[current] = legacy[old];
  doc.outOfBoxExperienceSetting = merged;
  doc.outOfBoxExperienceSettings = Object.fromEntries(OOBE_TWINS.map(([old, current]) => [old, merged[current]]));
}

async function countRows(tx: SqlExecutor, table: string, tenantId: string, parentId?: string) {
  const params: unknown[] = [tenantId];
  let sql = `SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ${tx.dialect.param(1)}`;
  if (parentId !== undefined) {
    params.push(parentId);
    sql += ` AND parent_id = ${tx.dialect.param(2)}`;
  }
  return Number((await tx.all(sql, params))[0].n);
}

export function registerAutopilotBehaviours(behaviours: EntityBehaviours, autopilot: AutopilotAssignments) {
  /** The identities an assignment's targets (before and after a change) can reach. */
  const reachOf = (...assignments: (StoredEntity | undefined)[]): EvaluationScope => {
    const targets = assignments.flatMap((a) => (a ? [targetOf(a.doc.target as Record<string, unknown>)] : []));
    if (targets.some((t) => !t || t.kind === "allDevices")) return { kind: "all" };
    return { kind: "groups", groupIds: [...new Set(targets.map((t) => (t as { groupId: string }).groupId))] };
  };

  behaviours.register("windowsAutopilotDeploymentProfile", {
    async validate(ctx, tx, draft, before) {
      syncTwins(draft.doc, before?.doc);
      if (!before && (await countRows(tx, autopilot.profiles.name, ctx.tenantId)) >= MAX_PROFILES_PER_TENANT) {
        throw badRequest(`A tenant can have at most ${MAX_PROFILES_PER_TENANT} Windows Autopilot deployment profiles.`);
      }
    },
    async afterWrite(ctx, tx, after, before) {
      // Only a deviceType change can alter which devices a profile fits.
      if (before && before.doc.deviceType !== after.doc.deviceType) await autopilot.reevaluateScope(ctx, tx, { kind: "all" });
    },
    async beforeDelete(ctx, tx, profile) {
      if ((await countRows(tx, autopilot.assignments.name, ctx.tenantId, profile.id)) > 0) {
        throw badRequest(`The Windows Autopilot deployment profile '${profile.id}' still has assignments; delete them before deleting the profile.`);
      }
    },
    async afterDelete(ctx, tx, profile) {
      // A profile with assignments cannot be deleted: only devices holding it or assigned it directly are affected.
      await autopilot.reevaluateScope(ctx, tx, { kind: "profileHolders", profileId: profile.id });
    },
  });

  const checkAssignment = async (ctx: GraphContext, tx: SqlExecutor, draft: StoredEntity) => {
    const target = draft.doc.target as Record<string, unknown>;
    const t = targetOf(target);
    if (!t) {
      throw badRequest(`The target '${String(target["@odata.type"]).replace(/^#/, "")}' is not supported for Windows Autopilot deployment profiles; use a group, an exclusion group or all devices.`);
    }
    if (target.deviceAndAppManagementAssignmentFilterId || (target.deviceAndAppManagementAssignmentFilterType ?? "none") !== "none") {
      throw badRequest("Assignment filters are not supported for Windows Autopilot deployment profiles.");
    }
    if (t.kind !== "allDevices") {
      const group = await ctx.entities.get(tx, ctx.model.entitySets.get("groups")!.table, ctx.tenantId, t.groupId);
      if (!group) throw badRequest(`The group '${t.groupId}' does not exist.`);
    }
    const siblings = await ctx.entities.list(tx, autopilot.assignments, { tenantId: ctx.tenantId, parentId: draft.parentId, orderBy: [], top: 1000, skip: 0, count: false });
    const key = (x: unknown) => JSON.stringify(targetOf(x as Record<string, unknown>));
    if (siblings.rows.some((s) => s.id !== draft.id && key(s.doc.target) === key(target))) {
      throw badRequest("The profile already has an assignment for this target.");
    }
    draft.doc.source ??= "direct";
  };

  behaviours.register("windowsAutopilotDeploymentProfileAssignment", {
    validate: (ctx, tx, draft) => checkAssignment(ctx, tx, draft),
    afterWrite: (ctx, tx, after, before) => autopilot.reevaluateScope(ctx, tx, reachOf(after, before)),
    afterDelete: (ctx, tx, deleted) => autopilot.reevaluateScope(ctx, tx, reachOf(deleted)),
  });

  behaviours.register("windowsAutopilotDeviceIdentity", {
    async validate(_ctx, tx, draft, before) {
      if (before) return;
      // An imported identity starts unassigned and not yet contacted, and newer than every change so far.
      Object.assign(draft.doc, {
        _markSeq: await autopilot.newIdentityMark(tx),
        deploymentProfileAssignmentStatus: "notAssigned",
        deploymentProfileAssignmentDetailedStatus: "none",
        enrollmentState: draft.doc.enrollmentState ?? "notContacted",
        remediationState: draft.doc.remediationState ?? "noRemediationRequired",
        userlessEnrollmentStatus: draft.doc.userlessEnrollmentStatus ?? "allowed",
        groupTag: draft.doc.groupTag ?? "",
      });
    },
    async afterWrite(ctx, tx, after, before) {
      if (!before) await autopilot.reevaluate(ctx, tx, [after.id]);
    },
    present: (ctx, x, identities) => autopilot.present(x, ctx.tenantId, identities),
  });
}
