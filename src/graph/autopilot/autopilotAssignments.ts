// Keeps each Autopilot device identity's deployment profile equal to what the engine chooses. State is the queue:
// a change that can alter choices makes the affected identities `pending` in its own transaction and enqueues one
// work item for them; the reconciler then evaluates and settles them in bounded batches (one batch per step and
// transaction, memberships read for the whole batch at once, writes grouped by outcome) with the one pure engine,
// moving each to assignedInSync, notAssigned or failed on the lifecycle clock.
//
// Two ways in. A change of known identities (created, assigned directly, joined or left a group) evaluates them
// at once and marks pending only those whose choice changed, with their intended profile. A change of a whole
// scope (an assignment created, changed or deleted; a profile deleted or retyped) only records the scope
// (outstandingScopes.ts): reads show every identity it reaches pending, unevaluated, with the intended profile
// the engine computes when read; a device whose choice turns out unchanged keeps the state it had, silently.

import { preferIndexLookups, refreshPlannerStatistics } from "../../store/plannerStatistics.js";
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
import { currentMark, dropScope, MARK_FIELD, markOf, reachedBy, reachedSql, lockScope, recordScope, scopeGroups, scopeOf, shownStatusEqualsSql, shownStatusSql, type ScopeTables } from "./outstandingScopes.js";

/** Kind of the per-device work_log entries (and of per-device items an older store may still hold). */
export const AUTOPILOT_SYNC_WORK = "autopilotSync";
/** Kind of the items that settle a set of pending identities, a batch per step. */
export const AUTOPILOT_EVALUATION_WORK = "autopilotEvaluation";
const BATCH = 2000;
/**
 * Identities settled per step (one transaction): the per-batch statements (cursor, candidates, memberships, work
 * item update) are paid once per this many devices. Bounded so one step stays well under a second's worth of
 * writes on a loaded machine (better-sqlite3 holds the server's thread for the whole step).
 */
export const SETTLE_BATCH = 5000;
/**
 * Lanes a large scope settles in: after its first step, the rest of the identities' seq range is split among this
 * many items, applied concurrently (PostgreSQL: one backend each, so the database's work of one lane overlaps
 * another's; SQLite's one writer takes them in turn).
 */
export const SETTLE_LANES = 2;

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
  /** The mark of the change that last marked or settled this identity (src/graph/autopilot/outstandingScopes.ts). */
  _markSeq?: string;
  /** The state before the identity became pending, restored when its choice turns out unchanged. */
  _settledStatus?: string;
  _settledDetailed?: string;
  _settledIntended?: string | null;
}

/** A scope item's payload: its cursor, and for a lane the scope it settles a part of. */
interface LanePayload {
  scope?: boolean;
  /** The seq of the last identity settled so far. */
  afterSeq?: number;
  /** A lane: the item whose scope it settles (the scope's rows are recorded under that item's id). */
  scopeOf?: string;
  /** A lane: the seq of that item, whose mark the lane's identities get. */
  markSeq?: number;
  /** A lane: the last seq of its range (the last lane has none). */
  untilSeq?: number;
  /** A lane: the ids of every lane of its scope, itself included. */
  lanes?: string[];
}

/** The document fields a settling step reads (every one a string or null). */
const STEP_FIELDS = [
  "deploymentProfileAssignmentStatus",
  "deploymentProfileAssignmentDetailedStatus",
  "azureAdDeviceId",
  "model",
  "_deploymentProfileId",
  "_intendedProfileId",
  "_intendedOutcome",
  "_intendedDetailedStatus",
  "_directProfileId",
  "_evaluation",
  "_settledStatus",
  "_settledDetailed",
  "_settledIntended",
] as const;

/** What a scope-wide change reaches. */
export type EvaluationScope = { kind: "all" } | { kind: "groups"; groupIds: string[] } | { kind: "profileHolders"; profileId: string };

type State = IdentityAssignmentState & Record<string, unknown>;
/** The markers a settled identity no longer carries (every read takes a missing one as null). */
const MARKERS = ["_evaluation", "_settledStatus", "_settledDetailed", "_settledIntended"] as const;
/** SQLite clears them by setting them to null: one json_set pass over the document instead of a removal and a set. */
const CLEARED_MARKERS: Record<string, PatchValue> = Object.fromEntries(MARKERS.map((m) => [m, null]));
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

/** The groups the candidates' targets name: the only memberships the engine tests. */
const targetGroups = (candidates: readonly ProfileCandidate[]) => new Set(candidates.flatMap((c) => c.targets.flatMap((t) => (t.kind === "allDevices" ? [] : [t.groupId]))));

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
    const markColumn = this.identities.columns.find((c) => c.property === MARK_FIELD)!.column;
    this.scopeTables = { identities: this.identities.name, entraDevices: this.entraDevices.name, markColumn };
    // $filter, $orderby and $count see the status a read shows (pending while an outstanding scope reaches it).
    const status = this.identities.columns.find((c) => c.property === "deploymentProfileAssignmentStatus")!;
    const tables = this.scopeTables;
    status.readSql = (dialect) => shownStatusSql(dialect, tables, status.column);
    // `status eq 'x'` (the `$count` a client polls while settling) tests the stored column first, so the overlay's
    // per-row predicate runs only on the rows storing that status (PostgreSQL, 100,000 identities: 1.1 s → 50 ms).
    status.readEquals = (dialect, param, value) => shownStatusEqualsSql(dialect, tables, status.column, param, String(value));
  }

  private readonly scopeTables: ScopeTables;

  /** Which of these identities an outstanding scope reaches (their reads show pending). */
  async reached(x: SqlExecutor, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const params: unknown[] = [];
      const mark = (v: unknown) => (params.push(v), x.dialect.param(params.length));
      const t = this.identities.name;
      const rows = await x.all(
        `SELECT id FROM ${t} WHERE ${t}.tenant_id = ${mark(tenantId)} AND ${t}.id IN (${ids.slice(i, i + BATCH).map(mark).join(", ")}) AND ${reachedSql(x.dialect, this.scopeTables, t)}`,
        params,
      );
      for (const r of rows) out.add(r.id as string);
    }
    return out;
  }

  /** Identities as reads show them: those an outstanding scope reaches are pending. */
  async present(x: SqlExecutor, tenantId: string, identities: readonly StoredEntity[]): Promise<StoredEntity[]> {
    if (identities.length === 0) return [...identities];
    const reached = await this.reached(x, tenantId, identities.map((i) => i.id));
    if (reached.size === 0) return [...identities];
    return identities.map((i) =>
      reached.has(i.id) ? { ...i, doc: { ...i.doc, deploymentProfileAssignmentStatus: "pending", deploymentProfileAssignmentDetailedStatus: "none" } } : i,
    );
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
  async groupsOf(x: SqlExecutor, tenantId: string, identities: readonly StoredEntity[], relevant: ReadonlySet<string>, linkedDevices?: ReadonlyMap<string, string>): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    if (relevant.size === 0) return out;
    const identityOf = new Map<string, string>();
    if (linkedDevices) {
      for (const i of identities) {
        const deviceObjectId = linkedDevices.get(i.id);
        if (deviceObjectId) identityOf.set(deviceObjectId, i.id);
      }
    } else {
      const identityOfDevice = new Map<string, string>();
      for (const i of identities) {
        const deviceId = String(i.doc.azureAdDeviceId ?? "").toLowerCase();
        if (deviceId) identityOfDevice.set(deviceId, i.id);
      }
      if (identityOfDevice.size === 0) return out;
      const params: unknown[] = [];
      const mark = (v: unknown) => (params.push(v), x.dialect.param(params.length));
      const linked = await x.all(
        `SELECT id, p_device_id FROM ${this.entraDevices.name} WHERE tenant_id = ${mark(tenantId)} AND ${x.dialect.foldText("p_device_id")} IN (${[...identityOfDevice.keys()].map(mark).join(", ")})`,
        params,
      );
      for (const r of linked) identityOf.set(r.id as string, identityOfDevice.get(String(r.p_device_id).toLowerCase())!);
    }
    if (identityOf.size === 0) return out;
    // The lists bound as one value each (PostgreSQL: an array instead of up to 5,000 parameters to plan and bind).
    const d = x.dialect;
    const rows = await x.all(
      `SELECT member_id, group_id FROM group_members WHERE tenant_id = ${d.param(1)} AND ${d.inList("member_id", d.param(2))} AND ${d.inList("group_id", d.param(3))}`,
      [tenantId, d.bindList([...identityOf.keys()]), d.bindList([...relevant])],
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
  async choices(
    x: SqlExecutor,
    tenantId: string,
    identities: readonly StoredEntity[],
    candidates: readonly ProfileCandidate[],
    /** Each identity's Entra device object, when the caller read it already (identity id → device object id). */
    linkedDevices?: ReadonlyMap<string, string>,
    /**
     * Each identity's groups, when the caller read them already: at least those among the candidates' targets
     * (the engine tests only those, so other groups in a set change no choice).
     */
    knownGroups?: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<Map<string, ProfileChoice>> {
    const groups = knownGroups ?? (await this.groupsOf(x, tenantId, identities, targetGroups(candidates), linkedDevices));
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
    if (!isUnevaluated(doc) && !(await this.reached(x, tenantId, [identity.id])).has(identity.id)) return doc._intendedProfileId;
    const choice = (await this.choices(x, tenantId, [identity], await this.candidates(x, tenantId))).get(identity.id)!;
    return profileOf(choice);
  }

  /** Enqueues an evaluation item; answers it with its mark (the order of the change). */
  private async enqueue(ctx: GraphContext, tx: SqlExecutor, id: string, subjectId: string, payload: Record<string, unknown> = {}): Promise<{ item: WorkItem; mark: string }> {
    const item: WorkItem = { tenantId: ctx.tenantId, id, kind: AUTOPILOT_EVALUATION_WORK, subjectId, step: 0, ...scheduleStep(this.timing(), ctx.clock.now()), payload };
    await this.reconciler.queue.enqueue(tx, item);
    const [row] = await tx.all(`SELECT seq FROM pending_work WHERE tenant_id = ${tx.dialect.param(1)} AND id = ${tx.dialect.param(2)}`, [ctx.tenantId, id]);
    return { item, mark: markOf(Number(row.seq)) };
  }

  /** Under `immediate` timing the item is settled inside the request. */
  private async settleIfImmediate(tx: SqlExecutor, item: WorkItem) {
    if (this.timing().kind === "immediate") await this.reconciler.runToCompletion(tx, item);
  }

  /** The mark a new identity starts with: scopes already outstanding do not reach it. */
  newIdentityMark(x: SqlExecutor): Promise<string> {
    return currentMark(x);
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
      // Reached by an outstanding scope: pending and not evaluated, so always marked (the newer mark takes it over).
      const reached = await this.reached(tx, ctx.tenantId, identities.map((e) => e.id));
      const itemId = randomUUID();
      const buckets = new Map<string, { choice: ProfileChoice; ids: string[] }>();
      for (const identity of identities) {
        const doc = identity.doc as State;
        const choice = choices.get(identity.id)!;
        const unchanged = reached.has(identity.id)
          ? false
          : isPending(doc)
          ? !isUnevaluated(doc) && doc._intendedOutcome === choice.outcome && doc._intendedProfileId === profileOf(choice)
          : alreadyHas(choice, doc.deploymentProfileAssignmentStatus, doc.deploymentProfileAssignmentDetailedStatus, doc._intendedProfileId, doc._deploymentProfileId);
        if (unchanged) continue;
        const key = `${choice.outcome}|${profileOf(choice)}|${detailedOf(choice)}`;
        const bucket = buckets.get(key) ?? { choice, ids: [] };
        bucket.ids.push(identity.id);
        buckets.set(key, bucket);
      }
      if (buckets.size === 0) continue;
      const allIds = [...buckets.values()].flatMap((b) => b.ids);
      const { item, mark } = await this.enqueue(ctx, tx, itemId, allIds.length === 1 ? allIds[0] : this.identities.name);
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
          [MARK_FIELD]: mark,
        });
        pendingIds.push(...bucketIds);
      }
      marked += pendingIds.length;
      await this.settleIfImmediate(tx, item);
    }
    return marked;
  }

  /**
   * A scope-wide change: what the scope reaches is recorded (a row per group, or one for every device or a
   * profile's holders) with one work item that will evaluate and settle those identities; no identity row is
   * written, so the answer does not grow with the group. Reads show them pending meanwhile.
   */
  async reevaluateScope(ctx: GraphContext, tx: SqlExecutor, scope: EvaluationScope): Promise<void> {
    if (scope.kind === "groups" && scope.groupIds.length === 0) return;
    const { item, mark } = await this.enqueue(ctx, tx, randomUUID(), this.identities.name, { scope: true });
    await recordScope(tx, ctx.tenantId, item.id, mark, scope);
    await this.settleIfImmediate(tx, item);
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
   * One step of an evaluation item: up to SETTLE_BATCH of its identities are evaluated (if not yet) and settled in one
   * transaction; each device whose state changes gets its own work_log entry. More steps follow at once while
   * identities remain. A scope's item takes the identities its scope reaches that no newer change has marked; a
   * known devices' item takes those it marked, except any a newer scope reaches (that scope settles them).
   */
  evaluationWork(): WorkHandler {
    return {
      // A scope's lanes settle disjoint seq ranges of identities under the same scope: disjoint rows.
      concurrent: { concurrency: SETTLE_LANES, key: (item) => String((item.payload as LanePayload).scopeOf ?? item.id) },
      apply: async (tx, item, at, owner) => {
        // Right after a bulk load (or with autovacuum off) PostgreSQL has no statistics and would scan whole
        // tables for the step's membership read by a list of members (src/store/plannerStatistics.ts); without
        // those of the identities it takes `seq > cursor` to match a few hundred rows and reads and sorts every
        // remaining row for each step's first 5,000 (100,000 identities: ~270 ms a step at the start, ~25 ms with
        // them; the small-sample ANALYZE costs the first step ~30 ms). Devices and scopes are read by key.
        await refreshPlannerStatistics(tx, ["group_members", this.identities.name]);
        // Every read and write of a step is by key or by a list of 5,000 keys: on their indexes. At PostgreSQL's
        // default page costs the membership read of 5,000 devices scanned the whole table with parallel workers
        // (~60 ms alone, 100–270 ms beside the other lane; ~45 ms on the index).
        await preferIndexLookups(tx);
        const params: unknown[] = [];
        const mark = (v: unknown) => (params.push(v), tx.dialect.param(params.length));
        const t = this.identities.name;
        const status = this.identities.columns.find((c) => c.property === "deploymentProfileAssignmentStatus")!.column;
        const isScope = item.payload.scope === true;
        const lane = item.payload as LanePayload;
        // A lane settles its share of the scope its parent item recorded, under the parent's mark.
        const scopeId = lane.scopeOf ?? item.id;
        // A keyset cursor over seq (kept in the item's payload, written in the step's transaction): rows before
        // it never need reading again, so each batch costs its own rows, not the table's.
        const afterSeq = Number(item.payload.afterSeq ?? 0);
        const tenant = mark(item.tenantId);
        const after = mark(afterSeq);
        // A scope's step covers the next SETTLE_BATCH identity rows by seq, reached or not, and tests the reach
        // itself (reachedBy, the same truth value as reachedSql): the memberships it needs are read with those the
        // engine reads, in one statement for the batch, instead of a correlated probe per row (SQLite, 5,000 rows:
        // ~90 → ~45 ms for the read). With no predicate but the seq range, the read stays on the seq index
        // whatever the planner would guess of the reach (PostgreSQL had sorted every remaining row of the tenant).
        const which = isScope
          ? ""
          : ` AND ${tx.dialect.compareText(`${t}.${status}`, "=", mark("pending"))} AND ${tx.dialect.jsonText(`${t}.doc`, "_evaluation")} = ${mark(item.id)}
             AND NOT ${reachedSql(tx.dialect, this.scopeTables, t)}`;
        // Only the fields the evaluation reads, not the whole document (PostgreSQL: less jsonb to send and parse).
        // With them, each identity's Entra device object (by the indexed device id, as the reach test finds it),
        // so the engine's membership read needs no second lookup of the devices.
        const fold = tx.dialect.foldText.bind(tx.dialect);
        const fields = `${tx.dialect.jsonFields(`${t}.doc`, STEP_FIELDS)} AS fields, ${t}.${this.scopeTables.markColumn} AS mark_seq, (SELECT e.id FROM ${this.entraDevices.name} e
          WHERE e.tenant_id = ${t}.tenant_id AND ${fold("e.p_device_id")} = ${fold(`${t}.p_azure_ad_device_id`)} LIMIT 1) AS device_object_id`;
        const scope = isScope ? await scopeOf(tx, item.tenantId, scopeId) : [];
        const until = lane.untilSeq === undefined ? "" : ` AND ${t}.seq <= ${mark(lane.untilSeq)}`;
        const read = await tx.all(
          `SELECT id, odata_type, seq, ${fields} FROM ${t} WHERE ${t}.tenant_id = ${tenant} AND ${t}.seq > ${after}${until}${which}
           ORDER BY ${t}.seq LIMIT ${mark(SETTLE_BATCH)}${tx.dialect.lockForUpdate}`,
          params,
        );
        let more = read.length === SETTLE_BATCH;
        const cursor = read.length ? Number(read[read.length - 1].seq) : undefined;
        if (more && isScope && lane.scopeOf === undefined && this.timing().kind !== "immediate") {
          // A scope with more than one step's identities: the rest goes to its lanes, and this item ends here.
          await this.startLanes(tx, item, cursor!, at);
          more = false;
        } else if (more) {
          const p = tx.dialect.param.bind(tx.dialect);
          const payload = JSON.stringify({ ...item.payload, afterSeq: cursor });
          await tx.run(`UPDATE pending_work SET payload = ${p(1)} WHERE tenant_id = ${p(2)} AND id = ${p(3)}`, [payload, item.tenantId, item.id]);
        } else if (isScope) {
          if (await this.lastLane(tx, item)) await dropScope(tx, item.tenantId, scopeId);
        }
        const all: StoredEntity[] = read.map((r) => {
          const values = (typeof r.fields === "string" ? JSON.parse(r.fields) : r.fields) as unknown[];
          const doc: Record<string, unknown> = {};
          for (let i = 0; i < STEP_FIELDS.length; i++) doc[STEP_FIELDS[i]] = values[i] ?? null;
          return { id: r.id as string, type: r.odata_type as string, seq: Number(r.seq), doc };
        });
        const linkedDevices = new Map<string, string>();
        for (const r of read) if (r.device_object_id) linkedDevices.set(r.id as string, r.device_object_id as string);
        const candidates = isScope ? (all.length ? await this.candidates(tx, item.tenantId) : []) : all.some((i) => isUnevaluated(i.doc as State)) ? await this.candidates(tx, item.tenantId) : [];
        // A scope of groups: the memberships of the whole range, in the groups the engine tests and those the scope
        // names, at once (every device or a profile's holders: the engine reads those of the reached ones only).
        const groups = all.length && scopeGroups(scope).length ? await this.groupsOf(tx, item.tenantId, all, new Set([...targetGroups(candidates), ...scopeGroups(scope)]), linkedDevices) : undefined;
        const markOfRow = new Map(read.map((r) => [r.id as string, (r.mark_seq as string | null) ?? null]));
        const identities = isScope
          ? all.filter((i) => reachedBy(scope, markOfRow.get(i.id)!, [i.doc._deploymentProfileId, i.doc._intendedProfileId, i.doc._directProfileId], groups?.get(i.id)))
          : all;
        if (identities.length === 0) return { more, continueNow: true };
        const settledMark = lane.markSeq !== undefined ? markOf(lane.markSeq) : markOf(await this.seqOf(tx, item));
        const unevaluated = identities.filter((i) => isScope || isUnevaluated(i.doc as State));
        const computed = unevaluated.length ? await this.choices(tx, item.tenantId, unevaluated, candidates, linkedDevices, groups) : new Map<string, ProfileChoice>();
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
          // A device pending from an earlier change returns to the state it had before that; a settled device a
          // scope reached keeps its state. Either way silently, without a work_log entry.
          if (isPending(doc) && alreadyHas(choice, doc._settledStatus, doc._settledDetailed, doc._settledIntended, doc._deploymentProfileId)) {
            add(`same|${choice.outcome}`, { ...intended, _intendedProfileId: { copyOf: "_settledIntended" }, deploymentProfileAssignmentStatus: { copyOf: "_settledStatus" }, deploymentProfileAssignmentDetailedStatus: { copyOf: "_settledDetailed" } }, identity.id, false);
          } else if (!isPending(doc) && alreadyHas(choice, doc.deploymentProfileAssignmentStatus, doc.deploymentProfileAssignmentDetailedStatus, doc._intendedProfileId, doc._deploymentProfileId)) {
            add("kept", {}, identity.id, false);
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
          // PostgreSQL removes them: a smaller jsonb to write (`doc - keys || object`, still one rewrite of the row).
          if (tx.dialect.name === "postgres") await this.entities.patchMany(tx, this.identities, item.tenantId, ids, { ...set, [MARK_FIELD]: settledMark }, MARKERS);
          else await this.entities.patchMany(tx, this.identities, item.tenantId, ids, { ...set, ...CLEARED_MARKERS, [MARK_FIELD]: settledMark });
          if (log) logged.push(...ids);
        }
        // Each entry is keyed by the item and the identity's seq (unique, like its id), in seq order: the steps
        // advance by seq, so every step appends to the end of the work_log key's B-tree instead of inserting at
        // random places among the item's earlier entries (keyed by the random ids, a step at 100,000 dirtied most
        // of that index's pages; SQLite, 20 steps of 5,000: ~0.9 s → ~0.35 s of inserts and commits).
        const seqOf = new Map(identities.map((i) => [i.id, i.seq]));
        logged.sort((a, b) => seqOf.get(a)! - seqOf.get(b)!);
        await insertRows(tx, "work_log", ["tenant_id", "work_id", "step", "kind", "subject_id", "applied_at", "applied_by"], logged, (id, values, i) => {
          values[i] = item.tenantId;
          values[i + 1] = `${item.id}:${String(seqOf.get(id)).padStart(16, "0")}`;
          values[i + 2] = 0;
          values[i + 3] = AUTOPILOT_SYNC_WORK;
          values[i + 4] = id;
          values[i + 5] = when;
          values[i + 6] = owner;
        });
        return { more, continueNow: true };
      },
    };
  }

  private async seqOf(x: SqlExecutor, item: WorkItem): Promise<number> {
    const [row] = await x.all(`SELECT seq FROM pending_work WHERE tenant_id = ${x.dialect.param(1)} AND id = ${x.dialect.param(2)}`, [item.tenantId, item.id]);
    return Number(row.seq);
  }

  /**
   * Splits the identities after `cursor` into SETTLE_LANES seq ranges of about equal width, one new item each,
   * due at once. Identities created later are not reached by the scope, so the last range is left open only so
   * that no identity of the tenant falls outside every range.
   */
  private async startLanes(tx: SqlExecutor, item: WorkItem, cursor: number, at: Date): Promise<void> {
    const d = tx.dialect;
    const [{ last }] = await tx.all(`SELECT MAX(seq) AS last FROM ${this.identities.name} WHERE tenant_id = ${d.param(1)}`, [item.tenantId]);
    const width = Math.max(1, Math.ceil((Number(last) - cursor) / SETTLE_LANES));
    const ids = Array.from({ length: SETTLE_LANES }, (_, k) => `${item.id}/${k + 1}`);
    const markSeq = await this.seqOf(tx, item);
    for (let k = 0; k < SETTLE_LANES; k++) {
      const payload: LanePayload = { scope: true, scopeOf: item.id, markSeq, lanes: ids, afterSeq: cursor + k * width };
      if (k < SETTLE_LANES - 1) payload.untilSeq = cursor + (k + 1) * width;
      await this.reconciler.queue.enqueue(tx, { tenantId: item.tenantId, id: ids[k], kind: AUTOPILOT_EVALUATION_WORK, subjectId: item.subjectId, step: 0, dueAt: at.toISOString(), readsLeft: null, payload: { ...payload } });
    }
  }

  /**
   * Whether this scope item is the last of its scope to finish: a scope item without lanes always is; a lane is
   * when no other lane of its scope is still pending. Lanes finishing at once on PostgreSQL take turns on the
   * scope's rows, so the second sees the first one's commit and one of them drops the scope.
   */
  private async lastLane(tx: SqlExecutor, item: WorkItem): Promise<boolean> {
    const lane = item.payload as LanePayload;
    if (lane.scopeOf === undefined) return true;
    await lockScope(tx, item.tenantId, lane.scopeOf);
    const others = (lane.lanes ?? []).filter((id) => id !== item.id);
    if (others.length === 0) return true;
    const d = tx.dialect;
    const left = await tx.all(`SELECT id FROM pending_work WHERE tenant_id = ${d.param(1)} AND ${d.inList("id", d.param(2))}`, [item.tenantId, d.bindList(others)]);
    return left.length === 0;
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
