// Keeps each Autopilot device identity's deployment profile equal to what the engine chooses. State is the queue:
// a change that can alter choices marks the affected identities `pending` in its own transaction, set-based, and
// enqueues one work item for them; the reconciler then evaluates and settles them in bounded batches (one batch
// per step and transaction, memberships read for the whole batch at once, writes grouped by outcome) with the
// one pure engine, moving each to assignedInSync, notAssigned or failed on the lifecycle clock.
//
// Two ways in. A change of known identities (created, assigned directly, joined or left a group) evaluates them
// at once and marks pending only those whose choice changed, with their intended profile. A change of a whole
// scope (an assignment created, changed or deleted; a profile deleted or retyped) marks every identity the scope
// reaches pending, unevaluated; their intended profile is computed by the same engine when read, and a device
// whose choice turns out unchanged returns to the state it had, silently.

import { randomUUID } from "node:crypto";
import { chooseProfile, hardwareOf, type AutopilotTarget, type ProfileChoice, type ProfileCandidate } from "../../engine/autopilotProfileChoice.js";
import { scheduleStep, type LifecycleTiming } from "../../engine/lifecycleTiming.js";
import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import type { Reconciler, WorkHandler } from "../../reconcile/reconciler.js";
import type { WorkItem } from "../../reconcile/workQueue.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EntityStore, PatchValue, StoredEntity } from "../../store/entityStore.js";
import { insertRows } from "../../store/multiRowInsert.js";
import type { MembershipChange, Memberships } from "../../directory/memberships.js";
import type { GraphContext } from "../graphContext.js";

/** Kind of the per-device work_log entries (and of per-device items an older store may still hold). */
export const AUTOPILOT_SYNC_WORK = "autopilotSync";
/** Kind of the items that settle a set of pending identities, a batch per step. */
export const AUTOPILOT_EVALUATION_WORK = "autopilotEvaluation";
const BATCH = 2000;

/** Bookkeeping kept in the identity's document beside its Graph properties (never serialized). */
export interface IdentityAssignmentState {
  _deploymentProfileId?: string | null;
  _intendedProfileId?: string | null;
  /** null while the identity is pending and not yet evaluated. */
  _intendedOutcome?: ProfileChoice["outcome"] | null;
  _intendedDetailedStatus?: string;
  /** A profile assigned to this device directly with the `assign` action. */
  _directProfileId?: string | null;
  /** The evaluation work item that will settle this pending identity. */
  _evaluation?: string;
  /** The state before the identity became pending, restored when its choice turns out unchanged. */
  _settledStatus?: string;
  _settledDetailed?: string;
  _settledIntended?: string | null;
}

/** What a scope-wide change reaches. */
export type EvaluationScope = { kind: "all" } | { kind: "groups"; groupIds: string[] } | { kind: "profileHolders"; profileId: string };

type State = IdentityAssignmentState & Record<string, unknown>;
/** Cleared by setting them to null: one pass over the document instead of a removal and a set. */
const CLEARED_MARKERS: Record<string, PatchValue> = { _evaluation: null, _settledStatus: null, _settledDetailed: null, _settledIntended: null };
/** The settled state is remembered once, when a device first becomes pending. */
const REMEMBER_SETTLED: Record<string, PatchValue> = {
  _settledStatus: { copyOf: "deploymentProfileAssignmentStatus", keep: true },
  _settledDetailed: { copyOf: "deploymentProfileAssignmentDetailedStatus", keep: true },
  _settledIntended: { copyOf: "_intendedProfileId", keep: true },
};

const profileOf = (c: ProfileChoice) => (c.outcome === "notAssigned" ? null : c.profileId);
const detailedOf = (c: ProfileChoice) => (c.outcome === "failed" ? c.detailedStatus : "none");

/** Whether a choice is what a device already has (status, profile, detailed status as given). */
function alreadyHas(choice: ProfileChoice, status: unknown, detailed: unknown, intended: unknown, deploymentProfileId: unknown): boolean {
  if (choice.outcome === "assigned") return status === "assignedInSync" && deploymentProfileId === choice.profileId;
  if (choice.outcome === "notAssigned") return status === "notAssigned";
  return status === "failed" && intended === choice.profileId && detailed === choice.detailedStatus;
}

const storedChoice = (doc: State): ProfileChoice =>
  doc._intendedOutcome === "assigned"
    ? { outcome: "assigned", profileId: String(doc._intendedProfileId), via: "group" }
    : doc._intendedOutcome === "failed"
      ? { outcome: "failed", profileId: String(doc._intendedProfileId), detailedStatus: String(doc._intendedDetailedStatus ?? "none") }
      : { outcome: "notAssigned" };

const isPending = (doc: State) => doc.deploymentProfileAssignmentStatus === "pending" && typeof doc._evaluation === "string";
const isUnevaluated = (doc: State) => isPending(doc) && (doc._intendedOutcome === null || doc._intendedOutcome === undefined);

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

  /** The tenant's profiles with their targets (two statements); direct assignments are added per identity. */
  async candidates(x: SqlExecutor, tenantId: string): Promise<ProfileCandidate[]> {
    const p = x.dialect.param.bind(x.dialect);
    const profiles = await x.all(`SELECT id, doc FROM ${this.profiles.name} WHERE tenant_id = ${p(1)} ORDER BY seq`, [tenantId]);
    const targets = new Map<string, AutopilotTarget[]>();
    for (const a of await x.all(`SELECT parent_id, doc FROM ${this.assignments.name} WHERE tenant_id = ${p(1)} ORDER BY seq`, [tenantId])) {
      const doc = typeof a.doc === "string" ? JSON.parse(a.doc) : (a.doc as Record<string, unknown>);
      const t = targetOf(doc.target as Record<string, unknown>);
      if (t) targets.set(a.parent_id as string, [...(targets.get(a.parent_id as string) ?? []), t]);
    }
    return profiles.map((r) => {
      const doc = typeof r.doc === "string" ? JSON.parse(r.doc) : (r.doc as Record<string, unknown>);
      return {
        id: r.id as string,
        createdDateTime: String(doc.createdDateTime),
        deviceType: (doc.deviceType as ProfileCandidate["deviceType"]) ?? "windowsPc",
        targets: targets.get(r.id as string) ?? [],
        directDeviceIds: new Set<string>(),
      };
    });
  }

  /**
   * The groups (among those the targets name) that each identity's Entra device belongs to: two statements for
   * the whole batch, each led by the batch's own keys (the Entra devices by their indexed device id, then the
   * memberships of those objects).
   */
  private async groupsOf(x: SqlExecutor, tenantId: string, identities: readonly StoredEntity[], relevant: ReadonlySet<string>): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    const identityOfDevice = new Map<string, string>();
    for (const i of identities) {
      const deviceId = String(i.doc.azureAdDeviceId ?? "").toLowerCase();
      if (deviceId) identityOfDevice.set(deviceId, i.id);
    }
    if (relevant.size === 0 || identityOfDevice.size === 0) return out;
    const params: unknown[] = [];
    const mark = (v: unknown) => (params.push(v), x.dialect.param(params.length));
    const linked = await x.all(
      `SELECT id, p_device_id FROM ${this.entraDevices.name} WHERE tenant_id = ${mark(tenantId)} AND ${x.dialect.foldText("p_device_id")} IN (${[...identityOfDevice.keys()].map(mark).join(", ")})`,
      params,
    );
    if (linked.length === 0) return out;
    const identityOf = new Map(linked.map((r) => [r.id as string, identityOfDevice.get(String(r.p_device_id).toLowerCase())!]));
    const memberParams: unknown[] = [];
    const m = (v: unknown) => (memberParams.push(v), x.dialect.param(memberParams.length));
    const rows = await x.all(
      `SELECT member_id, group_id FROM group_members WHERE tenant_id = ${m(tenantId)} AND member_id IN (${[...identityOf.keys()].map(m).join(", ")}) AND group_id IN (${[...relevant].map(m).join(", ")})`,
      memberParams,
    );
    for (const r of rows) {
      const id = identityOf.get(r.member_id as string)!;
      let set = out.get(id);
      if (!set) out.set(id, (set = new Set()));
      set.add(r.group_id as string);
    }
    return out;
  }

  /** The engine's choice for each identity, from memberships read for all of them at once. */
  async choices(x: SqlExecutor, tenantId: string, identities: readonly StoredEntity[], candidates: readonly ProfileCandidate[]): Promise<Map<string, ProfileChoice>> {
    const relevant = new Set(candidates.flatMap((c) => c.targets.flatMap((t) => (t.kind === "allDevices" ? [] : [t.groupId]))));
    const groups = await this.groupsOf(x, tenantId, identities, relevant);
    const none = new Set<string>();
    const out = new Map<string, ProfileChoice>();
    for (const identity of identities) {
      const direct = (identity.doc as State)._directProfileId;
      const withDirect = direct ? candidates.map((c) => (c.id === direct ? { ...c, directDeviceIds: new Set([identity.id]) } : c)) : candidates;
      out.set(identity.id, chooseProfile({ identityId: identity.id, groupIds: groups.get(identity.id) ?? none, hardware: hardwareOf(identity.doc.model as string) }, withDirect));
    }
    return out;
  }

  /** The profile an identity is headed for; for one not yet evaluated, what the engine chooses now. */
  async intendedProfileId(x: SqlExecutor, tenantId: string, identity: StoredEntity): Promise<string | null | undefined> {
    const doc = identity.doc as State;
    if (!isUnevaluated(doc)) return doc._intendedProfileId;
    const choice = (await this.choices(x, tenantId, [identity], await this.candidates(x, tenantId))).get(identity.id)!;
    return profileOf(choice);
  }

  private async enqueue(ctx: GraphContext, tx: SqlExecutor, id: string, subjectId: string) {
    const t = this.timing();
    const item: WorkItem = { tenantId: ctx.tenantId, id, kind: AUTOPILOT_EVALUATION_WORK, subjectId, step: 0, ...scheduleStep(t, ctx.clock.now()), payload: {} };
    await this.reconciler.queue.enqueue(tx, item);
    if (t.kind === "immediate") await this.reconciler.runToCompletion(tx, item);
  }

  /**
   * Evaluates known identities now; those whose choice changed become pending with their intended profile,
   * under one work item per batch. Answers how many became pending.
   */
  async reevaluate(ctx: GraphContext, tx: SqlExecutor, ids: readonly string[]): Promise<number> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return 0;
    const candidates = await this.candidates(tx, ctx.tenantId);
    let marked = 0;
    for (let i = 0; i < unique.length; i += BATCH) {
      const identities = [...(await this.entities.getMany(tx, this.identities, ctx.tenantId, unique.slice(i, i + BATCH))).values()];
      const choices = await this.choices(tx, ctx.tenantId, identities, candidates);
      const itemId = randomUUID();
      const buckets = new Map<string, { choice: ProfileChoice; ids: string[] }>();
      for (const identity of identities) {
        const doc = identity.doc as State;
        const choice = choices.get(identity.id)!;
        const unchanged = isPending(doc)
          ? !isUnevaluated(doc) && doc._intendedOutcome === choice.outcome && doc._intendedProfileId === profileOf(choice)
          : alreadyHas(choice, doc.deploymentProfileAssignmentStatus, doc.deploymentProfileAssignmentDetailedStatus, doc._intendedProfileId, doc._deploymentProfileId);
        if (unchanged) continue;
        const key = `${choice.outcome}|${profileOf(choice)}|${detailedOf(choice)}`;
        const bucket = buckets.get(key) ?? { choice, ids: [] };
        bucket.ids.push(identity.id);
        buckets.set(key, bucket);
      }
      if (buckets.size === 0) continue;
      const pendingIds: string[] = [];
      for (const { choice, ids: bucketIds } of buckets.values()) {
        await this.entities.patchMany(tx, this.identities, ctx.tenantId, bucketIds, {
          ...REMEMBER_SETTLED,
          deploymentProfileAssignmentStatus: "pending",
          deploymentProfileAssignmentDetailedStatus: "none",
          _intendedProfileId: profileOf(choice),
          _intendedOutcome: choice.outcome,
          _intendedDetailedStatus: detailedOf(choice),
          _evaluation: itemId,
        });
        pendingIds.push(...bucketIds);
      }
      marked += pendingIds.length;
      await this.enqueue(ctx, tx, itemId, pendingIds.length === 1 ? pendingIds[0] : this.identities.name);
    }
    return marked;
  }

  /** The WHERE fragment of the identities a scope reaches. */
  private scopeWhere(x: SqlExecutor, tenantId: string, scope: EvaluationScope): (params: unknown[]) => string {
    return (params) => {
      const mark = (v: unknown) => (params.push(v), x.dialect.param(params.length));
      if (scope.kind === "all") return "1 = 1";
      if (scope.kind === "profileHolders") {
        const id = scope.profileId;
        return ["_deploymentProfileId", "_intendedProfileId", "_directProfileId"].map((f) => `${x.dialect.jsonText("doc", f)} = ${mark(id)}`).join(" OR ");
      }
      if (scope.groupIds.length === 0) return "1 = 0";
      // Led by the group's members: their Entra devices' ids, then the identities by their indexed device id.
      const fold = (c: string) => x.dialect.foldText(c);
      return `${fold("p_azure_ad_device_id")} IN (SELECT ${fold("e.p_device_id")} FROM group_members gm
        JOIN ${this.entraDevices.name} e ON e.tenant_id = gm.tenant_id AND e.id = gm.member_id
        WHERE gm.tenant_id = ${mark(tenantId)} AND gm.group_id IN (${scope.groupIds.map(mark).join(", ")}))`;
    };
  }

  /**
   * A scope-wide change: every identity the scope reaches becomes pending (unevaluated) in one statement, and
   * one work item will evaluate and settle them. Answers how many became pending.
   */
  async reevaluateScope(ctx: GraphContext, tx: SqlExecutor, scope: EvaluationScope): Promise<number> {
    const itemId = randomUUID();
    const marked = await this.entities.patch(
      tx,
      this.identities,
      ctx.tenantId,
      { ...REMEMBER_SETTLED, deploymentProfileAssignmentStatus: "pending", deploymentProfileAssignmentDetailedStatus: "none", _intendedOutcome: null, _evaluation: itemId },
      [],
      this.scopeWhere(tx, ctx.tenantId, scope),
    );
    if (marked > 0) await this.enqueue(ctx, tx, itemId, this.identities.name);
    return marked;
  }

  /** Membership changes of Entra devices re-evaluate the identities of those devices. */
  async onMembershipChanges(ctx: GraphContext, tx: SqlExecutor, changes: MembershipChange[]) {
    const deviceObjects = [...new Set(changes.filter((c) => c.memberType === "device").map((c) => c.memberId))];
    for (let i = 0; i < deviceObjects.length; i += BATCH) {
      const params: unknown[] = [];
      const mark = (v: unknown) => (params.push(v), tx.dialect.param(params.length));
      const sameDevice = tx.dialect.compareText("e.p_device_id", "=", "i.p_azure_ad_device_id");
      const rows = await tx.all(
        `SELECT i.id FROM ${this.identities.name} i JOIN ${this.entraDevices.name} e ON e.tenant_id = i.tenant_id AND ${sameDevice}
         WHERE i.tenant_id = ${mark(ctx.tenantId)} AND e.id IN (${deviceObjects.slice(i, i + BATCH).map(mark).join(", ")})`,
        params,
      );
      if (rows.length) await this.reevaluate(ctx, tx, rows.map((r) => r.id as string));
    }
  }

  /**
   * One step of an evaluation item: up to BATCH of its pending identities are evaluated (if not yet) and settled
   * in one transaction; each device whose state changes gets its own work_log entry. More steps follow at once
   * while identities remain.
   */
  evaluationWork(): WorkHandler {
    return {
      apply: async (tx, item, at, owner) => {
        const params: unknown[] = [];
        const mark = (v: unknown) => (params.push(v), tx.dialect.param(params.length));
        const status = this.identities.columns.find((c) => c.property === "deploymentProfileAssignmentStatus")!.column;
        // A keyset cursor over seq (kept in the item's payload, written in the step's transaction): the item's
        // devices are fixed when it is enqueued (a newer change re-marks a device with its own item), so rows
        // before the cursor never need reading again and each batch costs its own rows, not the table's.
        const afterSeq = Number(item.payload.afterSeq ?? 0);
        const rows = await tx.all(
          `SELECT id, odata_type, seq, doc FROM ${this.identities.name} WHERE tenant_id = ${mark(item.tenantId)} AND seq > ${mark(afterSeq)}
           AND ${tx.dialect.compareText(status, "=", mark("pending"))}
           AND ${tx.dialect.jsonText("doc", "_evaluation")} = ${mark(item.id)} ORDER BY seq LIMIT ${mark(BATCH)}${tx.dialect.lockForUpdate}`,
          params,
        );
        if (rows.length === 0) return { more: false };
        if (rows.length === BATCH) {
          const p = tx.dialect.param.bind(tx.dialect);
          const payload = JSON.stringify({ ...item.payload, afterSeq: Number(rows[rows.length - 1].seq) });
          await tx.run(`UPDATE pending_work SET payload = ${p(1)} WHERE tenant_id = ${p(2)} AND id = ${p(3)}`, [payload, item.tenantId, item.id]);
        }
        const identities: StoredEntity[] = rows.map((r) => ({ id: r.id as string, type: r.odata_type as string, seq: Number(r.seq), doc: typeof r.doc === "string" ? JSON.parse(r.doc) : (r.doc as Record<string, unknown>) }));
        const unevaluated = identities.filter((i) => isUnevaluated(i.doc as State));
        const computed = unevaluated.length ? await this.choices(tx, item.tenantId, unevaluated, await this.candidates(tx, item.tenantId)) : new Map<string, ProfileChoice>();
        const buckets = new Map<string, { set: Record<string, PatchValue>; ids: string[]; logged: boolean }>();
        const add = (key: string, set: Record<string, PatchValue>, id: string, logged: boolean) => {
          const b = buckets.get(key) ?? { set, ids: [], logged };
          b.ids.push(id);
          buckets.set(key, b);
        };
        const when = at.toISOString();
        for (const identity of identities) {
          const doc = identity.doc as State;
          const choice = computed.get(identity.id) ?? storedChoice(doc);
          const profileId = profileOf(choice);
          const detailed = detailedOf(choice);
          const intended = { _intendedProfileId: profileId, _intendedOutcome: choice.outcome, _intendedDetailedStatus: detailed };
          if (alreadyHas(choice, doc._settledStatus, doc._settledDetailed, doc._settledIntended, doc._deploymentProfileId)) {
            add(`same|${choice.outcome}`, { ...intended, _intendedProfileId: { copyOf: "_settledIntended" }, deploymentProfileAssignmentStatus: { copyOf: "_settledStatus" }, deploymentProfileAssignmentDetailedStatus: { copyOf: "_settledDetailed" } }, identity.id, false);
          } else if (choice.outcome === "assigned") {
            add(`assigned|${profileId}`, { ...intended, deploymentProfileAssignmentStatus: "assignedInSync", deploymentProfileAssignmentDetailedStatus: "none", deploymentProfileAssignedDateTime: when, _deploymentProfileId: profileId }, identity.id, true);
          } else if (choice.outcome === "failed") {
            add(`failed|${profileId}|${detailed}`, { ...intended, deploymentProfileAssignmentStatus: "failed", deploymentProfileAssignmentDetailedStatus: detailed }, identity.id, true);
          } else {
            add("notAssigned", { ...intended, deploymentProfileAssignmentStatus: "notAssigned", deploymentProfileAssignmentDetailedStatus: "none", deploymentProfileAssignedDateTime: null, _deploymentProfileId: null }, identity.id, true);
          }
        }
        const logged: string[] = [];
        for (const { set, ids, logged: log } of buckets.values()) {
          await this.entities.patchMany(tx, this.identities, item.tenantId, ids, { ...set, ...CLEARED_MARKERS });
          if (log) logged.push(...ids);
        }
        await insertRows(tx, "work_log", ["tenant_id", "work_id", "step", "kind", "subject_id", "applied_at", "applied_by"], logged, (id, values, i) => {
          values[i] = item.tenantId;
          values[i + 1] = `${item.id}:${id}`;
          values[i + 2] = 0;
          values[i + 3] = AUTOPILOT_SYNC_WORK;
          values[i + 4] = id;
          values[i + 5] = when;
          values[i + 6] = owner;
        });
        return { more: rows.length === BATCH, continueNow: true };
      },
    };
  }

  /** A per-device item of an older store: its intended choice becomes the device's state. */
  work(): WorkHandler {
    return {
      apply: async (tx, item, at) => {
        const identity = await this.entities.get(tx, this.identities, item.tenantId, item.subjectId);
        if (!identity) return { more: false };
        const doc = identity.doc as State;
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
