// Keeps each Autopilot device identity's deployment profile equal to what the engine chooses. Any change that can
// alter a choice re-evaluates the affected identities inside the change's own transaction: those whose choice
// differs become `pending` with their intended profile, durably, before the answer; the reconciler then moves
// each to its final state (assignedInSync, notAssigned or failed) on the lifecycle clock.

import { randomUUID } from "node:crypto";
import { chooseProfile, hardwareOf, type AutopilotTarget, type ProfileChoice, type ProfileCandidate } from "../../engine/autopilotProfileChoice.js";
import { scheduleStep, type LifecycleTiming } from "../../engine/lifecycleTiming.js";
import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import type { Reconciler, WorkHandler } from "../../reconcile/reconciler.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EntityStore, StoredEntity } from "../../store/entityStore.js";
import type { MembershipChange, Memberships } from "../../directory/memberships.js";
import type { GraphContext } from "../graphContext.js";

export const AUTOPILOT_SYNC_WORK = "autopilotSync";
const BATCH = 1000;

/** Bookkeeping kept in the identity's document beside its Graph properties (never serialized). */
export interface IdentityAssignmentState {
  _deploymentProfileId?: string | null;
  _intendedProfileId?: string | null;
  _intendedOutcome?: ProfileChoice["outcome"];
  _intendedDetailedStatus?: string;
  /** A profile assigned to this device directly with the `assign` action. */
  _directProfileId?: string | null;
}

export function targetOf(target: Record<string, unknown>): AutopilotTarget | undefined {
  const type = String(target["@odata.type"] ?? "");
  if (type.endsWith(".exclusionGroupAssignmentTarget")) return { kind: "exclusionGroup", groupId: String(target.groupId) };
  if (type.endsWith(".groupAssignmentTarget")) return { kind: "group", groupId: String(target.groupId) };
  if (type.endsWith(".allDevicesAssignmentTarget")) return { kind: "allDevices" };
  return undefined;
}

export class AutopilotAssignments {
  readonly profiles: StorageTable;
  readonly assignments: StorageTable;
  readonly identities: StorageTable;
  private readonly entraDevices: StorageTable;

  constructor(
    model: CompiledModel,
    private readonly entities: EntityStore,
    private readonly memberships: Memberships,
    private readonly reconciler: Reconciler,
    private readonly timing: () => LifecycleTiming,
  ) {
    const dm = model.entityType("deviceManagement").navigation;
    this.profiles = dm.get("windowsAutopilotDeploymentProfiles")!.table!;
    this.identities = dm.get("windowsAutopilotDeviceIdentities")!.table!;
    this.assignments = model.entityType("windowsAutopilotDeploymentProfile").navigation.get("assignments")!.table!;
    this.entraDevices = model.entitySets.get("devices")!.table;
  }

  private async all(x: SqlExecutor, table: StorageTable, tenantId: string, parentId?: string): Promise<StoredEntity[]> {
    const out: StoredEntity[] = [];
    let afterSeq: number | undefined;
    for (;;) {
      const { rows } = await this.entities.list(x, table, { tenantId, parentId, orderBy: [], top: BATCH, skip: 0, afterSeq, count: false });
      out.push(...rows);
      if (rows.length < BATCH) return out;
      afterSeq = rows.at(-1)!.seq;
    }
  }

  /** The tenant's profiles with their targets; direct assignments are added per batch of identities. */
  async candidates(x: SqlExecutor, tenantId: string): Promise<ProfileCandidate[]> {
    const profiles = await this.all(x, this.profiles, tenantId);
    const out: ProfileCandidate[] = [];
    for (const p of profiles) {
      const assignments = await this.all(x, this.assignments, tenantId, p.id);
      out.push({
        id: p.id,
        createdDateTime: String(p.doc.createdDateTime),
        deviceType: (p.doc.deviceType as ProfileCandidate["deviceType"]) ?? "windowsPc",
        targets: assignments.flatMap((a) => {
          const t = targetOf(a.doc.target as Record<string, unknown>);
          return t ? [t] : [];
        }),
        directDeviceIds: new Set(),
      });
    }
    return out;
  }

  /** The Entra object ids of identities' devices (linked by the Entra deviceId). */
  private async entraObjectIds(x: SqlExecutor, tenantId: string, identities: StoredEntity[]): Promise<Map<string, string>> {
    const byDeviceId = new Map<string, string>();
    const deviceIds = identities.map((i) => String(i.doc.azureAdDeviceId ?? "")).filter((d) => d !== "");
    for (let i = 0; i < deviceIds.length; i += 500) {
      const slice = deviceIds.slice(i, i + 500);
      const marks = slice.map((_, k) => x.dialect.param(k + 2)).join(", ");
      const rows = await x.all(`SELECT id, p_device_id FROM ${this.entraDevices.name} WHERE tenant_id = ${x.dialect.param(1)} AND p_device_id IN (${marks})`, [tenantId, ...slice]);
      for (const r of rows) byDeviceId.set(String(r.p_device_id).toLowerCase(), r.id as string);
    }
    return byDeviceId;
  }

  /** Re-evaluates identities (all of the tenant's, or the given ones) and marks changed choices pending. */
  async reevaluate(ctx: GraphContext, tx: SqlExecutor, scope: "all" | string[]): Promise<number> {
    const candidates = await this.candidates(tx, ctx.tenantId);
    let identities: StoredEntity[];
    if (scope === "all") identities = await this.all(tx, this.identities, ctx.tenantId);
    else identities = [...(await this.entities.getMany(tx, this.identities, ctx.tenantId, [...new Set(scope)])).values()];
    let marked = 0;
    for (let i = 0; i < identities.length; i += BATCH) {
      const batch = identities.slice(i, i + BATCH);
      const objectIds = await this.entraObjectIds(tx, ctx.tenantId, batch);
      for (const identity of batch) {
        const state = identity.doc as IdentityAssignmentState & Record<string, unknown>;
        const objectId = objectIds.get(String(identity.doc.azureAdDeviceId ?? "").toLowerCase());
        const groupIds = new Set(objectId ? (await this.memberships.groupsOf(tx, ctx.tenantId, objectId)).map((r) => r.groupId) : []);
        const withDirect = candidates.map((c) => (state._directProfileId === c.id ? { ...c, directDeviceIds: new Set([identity.id]) } : c));
        const choice = chooseProfile({ identityId: identity.id, groupIds, hardware: hardwareOf(identity.doc.model as string) }, withDirect);
        if (await this.markIfChanged(ctx, tx, identity, choice)) marked++;
      }
    }
    return marked;
  }

  private async markIfChanged(ctx: GraphContext, tx: SqlExecutor, identity: StoredEntity, choice: ProfileChoice): Promise<boolean> {
    const doc = identity.doc as IdentityAssignmentState & Record<string, unknown>;
    const profileId = choice.outcome === "notAssigned" ? null : choice.profileId;
    const detailed = choice.outcome === "failed" ? choice.detailedStatus : "none";
    const status = doc.deploymentProfileAssignmentStatus;
    const settled =
      (choice.outcome === "assigned" && status === "assignedInSync" && doc._deploymentProfileId === profileId) ||
      (choice.outcome === "notAssigned" && status === "notAssigned") ||
      (choice.outcome === "failed" && status === "failed" && doc._intendedProfileId === profileId && doc.deploymentProfileAssignmentDetailedStatus === detailed);
    const alreadyHeaded = status === "pending" && doc._intendedProfileId === profileId && doc._intendedOutcome === choice.outcome;
    if (settled || alreadyHeaded) return false;
    const now = ctx.clock.now();
    const next = { ...doc, deploymentProfileAssignmentStatus: "pending", deploymentProfileAssignmentDetailedStatus: "none", _intendedProfileId: profileId, _intendedOutcome: choice.outcome, _intendedDetailedStatus: detailed };
    await this.entities.replace(tx, this.identities, ctx.tenantId, { ...identity, doc: next });
    // A newer choice replaces a step still waiting for the older one.
    await tx.run(`DELETE FROM pending_work WHERE tenant_id = ${tx.dialect.param(1)} AND subject_id = ${tx.dialect.param(2)} AND kind = ${tx.dialect.param(3)}`, [ctx.tenantId, identity.id, AUTOPILOT_SYNC_WORK]);
    const t = this.timing();
    const item = { tenantId: ctx.tenantId, id: randomUUID(), kind: AUTOPILOT_SYNC_WORK, subjectId: identity.id, step: 0, ...scheduleStep(t, now), payload: {} };
    await this.reconciler.queue.enqueue(tx, item);
    if (t.kind === "immediate") await this.reconciler.runToCompletion(tx, item);
    return true;
  }

  /** Membership changes of Entra devices re-evaluate the identities of those devices. */
  async onMembershipChanges(ctx: GraphContext, tx: SqlExecutor, changes: MembershipChange[]) {
    const deviceObjects = [...new Set(changes.filter((c) => c.memberType === "device").map((c) => c.memberId))];
    if (deviceObjects.length === 0) return;
    const devices = await this.entities.getMany(tx, this.entraDevices, ctx.tenantId, deviceObjects);
    const deviceIds = [...devices.values()].map((d) => String(d.doc.deviceId ?? "")).filter((d) => d !== "");
    if (deviceIds.length === 0) return;
    const marks = deviceIds.map((_, k) => tx.dialect.param(k + 2)).join(", ");
    const rows = await tx.all(`SELECT id FROM ${this.identities.name} WHERE tenant_id = ${tx.dialect.param(1)} AND p_azure_ad_device_id IN (${marks})`, [ctx.tenantId, ...deviceIds]);
    if (rows.length) await this.reevaluate(ctx, tx, rows.map((r) => r.id as string));
  }

  /** The final step: the intended choice becomes the device's state. */
  work(): WorkHandler {
    return {
      apply: async (tx, item, at) => {
        const identity = await this.entities.get(tx, this.identities, item.tenantId, item.subjectId);
        if (!identity) return { more: false };
        const doc = identity.doc as IdentityAssignmentState & Record<string, unknown>;
        const outcome = doc._intendedOutcome;
        const next: Record<string, unknown> = { ...doc };
        if (outcome === "assigned") {
          Object.assign(next, { deploymentProfileAssignmentStatus: "assignedInSync", deploymentProfileAssignmentDetailedStatus: "none", deploymentProfileAssignedDateTime: at.toISOString(), _deploymentProfileId: doc._intendedProfileId });
        } else if (outcome === "failed") {
          Object.assign(next, { deploymentProfileAssignmentStatus: "failed", deploymentProfileAssignmentDetailedStatus: doc._intendedDetailedStatus ?? "none" });
        } else {
          Object.assign(next, { deploymentProfileAssignmentStatus: "notAssigned", deploymentProfileAssignmentDetailedStatus: "none", deploymentProfileAssignedDateTime: null, _deploymentProfileId: null, _intendedProfileId: null });
        }
        await this.entities.replace(tx, this.identities, item.tenantId, { ...identity, doc: next });
        return { more: false };
      },
    };
  }
}
