// POST /_allot/fleet's work: a synthetic fleet written set-based in one transaction. Numbering continues from
// the tenant's current counts; dynamic memberships are computed while generating, with the compiled rules and
// the record mapping the server itself uses, for new devices against every active device rule and for
// existing devices against the new rules. Objects go straight to the store (no per-object behaviours or audit
// events): the generator maintains what the behaviours would have, the memberships.

import { randomUUID } from "node:crypto";
import { DynamicMembership, deviceRuleRecord, userRuleRecord } from "../../../directory/dynamicMembership.js";
import { addMemberships } from "../../../directory/membershipBatch.js";
import { Memberships, type MemberType, type MembershipRow } from "../../../directory/memberships.js";
import type { StorageTable } from "../../../odata/compiledModel.js";
import { GraphError } from "../../../odata/errors.js";
import type { SqlExecutor } from "../../../store/database.js";
import type { StoredEntity } from "../../../store/entityStore.js";
import { notifyManagedDeviceChanges, type GraphContext } from "../../graphContext.js";
import { propertySql } from "../../../store/derivedColumns.js";
import { rowLayout } from "../../../store/entityRows.js";
import { acquireWorker, releaseWorker, sliceSource, fleetDrawing, type DeviceSliceWorker } from "./deviceSliceSource.js";
import type { DevicePlan } from "./fleetDeviceSlices.js";
import { drawPositions, fleetGroup, type FleetGroup } from "./fleetGroups.js";
import type { FleetRequest } from "./fleetRequest.js";
import { asPrimaryUser, fleetUser, fleetUserName, type PrimaryUser } from "./fleetUsers.js";
import { GuidSequence, SeededRandom } from "./seededRandom.js";

export interface FleetCounts {
  devices: number;
  users: number;
  groups: number;
  autopilotDevices: number;
  memberships: number;
}

export interface FleetTenant {
  id: string;
  domain: string;
  displayName: string;
}

/** Objects generated and written at a time: bounds memory whatever the size of the call. */
const SLICE = 5_000;
/** Devices of the first slice: the writes wait for it to be drawn. */
const FIRST_DEVICE_SLICE = 500;
const MEMBERSHIP_FLUSH = 30_000;
const NAME_CHECK_CHUNK = 500;

interface RuleOfGroup {
  groupId: string;
  /** The rule's text, for drawing devices on another thread. */
  rule: string;
  matches(record: Readonly<Record<string, unknown>>): boolean;
}

const isUniqueViolation = (e: unknown) => {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "23505" || (typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT"));
};

export async function generateFleet(ctx: GraphContext, tenant: FleetTenant, request: FleetRequest): Promise<FleetCounts & { seed: string }> {
  const seed = request.seed ?? randomUUID();
  // Started before the transaction's reads, which its start-up then overlaps.
  const worker = request.devices >= fleetDrawing.workerFrom ? acquireWorker() : undefined;
  let finished = false;
  try {
    const counts = await ctx.db.transaction(async (tx) => {
      const run = new FleetRun(ctx, tx, tenant, seed, worker);
      const counts = await run.run(request);
      // New devices, and existing ones in new groups: the engines that read devices catch up on those only (a
      // pass over every device would make a fleet built in many calls quadratic).
      await notifyManagedDeviceChanges(ctx, tx, tenant.id, await run.changedManagedDevices());
      return counts;
    }, { bulk: true });
    finished = true;
    return { ...counts, seed };
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new GraphError(409, "Conflict", "The fleet's identifiers collide with objects that already exist (the same seed on the same counts, after deletions?); nothing was created. Use another seed.");
    }
    throw e;
  } finally {
    if (worker) await releaseWorker(worker, finished);
  }
}

class MembershipBuffer {
  private rows: MembershipRow[] = [];
  total = 0;

  constructor(private readonly x: SqlExecutor, private readonly tenantId: string) {}

  add(groupId: string, memberId: string, memberType: MemberType, dynamic: boolean) {
    this.rows.push({ groupId, memberId, memberType, dynamic });
  }

  async flushIfFull() {
    if (this.rows.length >= MEMBERSHIP_FLUSH) await this.flush();
  }

  async flush() {
    if (this.rows.length === 0) return;
    await addMemberships(this.x, this.tenantId, this.rows);
    this.total += this.rows.length;
    this.rows = [];
  }
}

class FleetRun {
  private readonly tables: Record<"users" | "groups" | "devices" | "managed" | "autopilot", StorageTable>;
  private readonly memberships: MembershipBuffer;
  private readonly nowMs: number;
  private readonly seedKey: number;
  private random!: SeededRandom;
  /** Managed devices this call creates, and the Entra device ids (deviceId) and users that existed and joined new groups. */
  private readonly newManagedIds: string[] = [];
  private readonly regroupedDeviceIds = new Set<string>();
  private readonly regroupedUserIds = new Set<string>();

  constructor(
    private readonly ctx: GraphContext,
    private readonly tx: SqlExecutor,
    private readonly tenant: FleetTenant,
    private readonly seed: string,
    private readonly worker: DeviceSliceWorker | undefined,
  ) {
    const deviceManagement = ctx.model.entityType("deviceManagement").navigation;
    this.tables = {
      users: ctx.model.entitySets.get("users")!.table,
      groups: ctx.model.entitySets.get("groups")!.table,
      devices: ctx.model.entitySets.get("devices")!.table,
      managed: deviceManagement.get("managedDevices")!.table!,
      autopilot: deviceManagement.get("windowsAutopilotDeviceIdentities")!.table!,
    };
    this.memberships = new MembershipBuffer(tx, tenant.id);
    this.nowMs = ctx.clock.now().getTime();
    this.seedKey = new SeededRandom(`${seed}|names`).next();
  }

  /** The managed devices whose facts this call changed: the new ones, and those of existing Entra devices and users in new groups. */
  async changedManagedDevices(): Promise<string[]> {
    const changed = new Set(this.newManagedIds);
    const managed = this.tables.managed;
    const d = this.tx.dialect;
    for (const [property, values] of [["azureADDeviceId", this.regroupedDeviceIds], ["userId", this.regroupedUserIds]] as const) {
      if (values.size === 0) continue;
      const rows = await this.tx.all<{ id: string }>(`SELECT id FROM ${managed.name} WHERE tenant_id = ${d.param(1)} AND ${d.inList(propertySql(d, managed, property), d.param(2))}`, [this.tenant.id, d.bindList([...values])]);
      for (const r of rows) changed.add(r.id);
    }
    return [...changed];
  }

  private count(table: StorageTable) {
    return this.ctx.entities.count(this.tx, table, this.tenant.id);
  }

  async run(request: FleetRequest): Promise<FleetCounts> {
    const t = this.tables;
    const [users, groups, managed, entra, autopilot] = [await this.count(t.users), await this.count(t.groups), await this.count(t.managed), await this.count(t.devices), await this.count(t.autopilot)];
    // The counts are part of the seed: a second call with the same seed continues with new identifiers.
    this.random = new SeededRandom(`${this.seed}|${users}|${groups}|${managed}|${entra}|${autopilot}`);

    const active = await new DynamicMembership(this.ctx.model, this.ctx.entities, new Memberships()).activeRules(this.tx, this.tenant.id);
    const deviceRules: RuleOfGroup[] = active.filter((a) => a.rule.subject === "device").map((a) => ({ groupId: a.group.id, rule: String(a.group.doc.membershipRule), matches: a.rule.matches }));
    const userRules: RuleOfGroup[] = active.filter((a) => a.rule.subject === "user").map((a) => ({ groupId: a.group.id, rule: String(a.group.doc.membershipRule), matches: a.rule.matches }));

    const newGroups = Array.from({ length: request.groups }, (_, i) => fleetGroup(this.random, groups + i + 1, this.nowMs));
    await this.ctx.entities.insertMany(this.tx, t.groups, this.tenant.id, newGroups.map((g) => g.entity));
    const newDeviceRules = newGroups.filter((g) => g.rule).map((g) => ({ groupId: g.entity.id, rule: String(g.entity.doc.membershipRule), matches: g.rule!.matches }));
    await this.matchExistingDevices(newDeviceRules);
    deviceRules.push(...newDeviceRules);

    const needPool = request.devices > 0 || newGroups.some((g) => g.kind === "staticUser");
    const pool = needPool ? await this.existingUsers() : [];
    await this.createUsers(request.users, users + 1, userRules, pool);
    for (const g of newGroups.filter((g) => g.kind === "staticUser")) {
      for (const i of drawPositions(this.random, pool.length, g.size)) {
        this.memberships.add(g.entity.id, pool[i].id, "user", false);
        this.regroupedUserIds.add(pool[i].id);
      }
    }

    const autopilotDevices = await this.createDevices(request, managed, deviceRules, pool, newGroups.filter((g) => g.kind === "staticDevice"));
    await this.memberships.flush();
    return { devices: request.devices, users: request.users, groups: request.groups, autopilotDevices, memberships: this.memberships.total };
  }

  /** Devices that exist already join the new dynamic groups whose rules they satisfy. */
  private async matchExistingDevices(rules: RuleOfGroup[]) {
    if (rules.length === 0) return;
    let afterSeq: number | undefined;
    for (;;) {
      const { rows } = await this.ctx.entities.list(this.tx, this.tables.devices, { tenantId: this.tenant.id, orderBy: [], top: SLICE, skip: 0, afterSeq, count: false });
      for (const device of rows) {
        if (this.matchDevice(device, rules) && typeof device.doc.deviceId === "string") this.regroupedDeviceIds.add(device.doc.deviceId);
      }
      await this.memberships.flushIfFull();
      if (rows.length < SLICE) return;
      afterSeq = rows.at(-1)!.seq;
    }
  }

  /** Adds the device to the groups whose rules it satisfies; answers whether it joined any. */
  private matchDevice(device: StoredEntity, rules: RuleOfGroup[]): boolean {
    if (rules.length === 0) return false;
    const record = deviceRuleRecord(device);
    let joined = false;
    for (const r of rules) {
      if (r.matches(record)) {
        this.memberships.add(r.groupId, device.id, "device", true);
        joined = true;
      }
    }
    return joined;
  }

  private async existingUsers(): Promise<PrimaryUser[]> {
    const rows = await this.ctx.entities.listProperties(this.tx, this.tables.users, this.tenant.id, ["userPrincipalName", "displayName", "mail"]);
    return rows.map(({ id, values }) => ({
      id,
      userPrincipalName: String(values.userPrincipalName),
      displayName: String(values.displayName ?? ""),
      mail: String(values.mail ?? values.userPrincipalName),
    }));
  }

  /**
   * Users are created in name order, their ids counting up in that order: name, id and date indexes then fill in
   * order, and so do the user columns of managed devices, whose primary users go round-robin in name order.
   */
  private async createUsers(count: number, firstOrdinal: number, rules: RuleOfGroup[], pool: PrimaryUser[]) {
    if (count === 0) return;
    const start = await this.freeUserOrdinal(firstOrdinal, count);
    const ordinals = Array.from({ length: count }, (_, i) => ({ ordinal: start + i, name: fleetUserName(this.seedKey, start + i, this.tenant.domain).userPrincipalName }));
    ordinals.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const ids = new GuidSequence(this.random);
    for (let done = 0; done < count; done += SLICE) {
      const slice: StoredEntity[] = [];
      for (let i = done; i < Math.min(count, done + SLICE); i++) {
        slice.push(fleetUser(this.random, ids, this.seedKey, ordinals[i].ordinal, i / count, this.tenant.domain, this.tenant.displayName, this.nowMs));
      }
      await this.ctx.entities.insertMany(this.tx, this.tables.users, this.tenant.id, slice);
      for (const user of slice) {
        pool.push(asPrimaryUser(user));
        if (rules.length === 0) continue;
        const record = userRuleRecord(user);
        for (const r of rules) if (r.matches(record)) this.memberships.add(r.groupId, user.id, "user", true);
      }
      await this.memberships.flushIfFull();
    }
  }

  /**
   * The first ordinal from which `count` fleet user names are all free. Numbering starts at the user count, but
   * deletions can make it reach names already given out: the window then moves past the last one taken.
   */
  private async freeUserOrdinal(start: number, count: number): Promise<number> {
    const column = propertySql(this.tx.dialect, this.tables.users, "userPrincipalName");
    for (let attempt = 0; attempt < 20; attempt++) {
      let lastTaken = -1;
      for (let from = 0; from < count; from += NAME_CHECK_CHUNK) {
        const names = new Map<string, number>();
        for (let i = from; i < Math.min(count, from + NAME_CHECK_CHUNK); i++) names.set(fleetUserName(this.seedKey, start + i, this.tenant.domain).userPrincipalName, i);
        const params: unknown[] = [this.tenant.id];
        const tests = [...names.keys()].map((n) => (params.push(n), this.tx.dialect.compareText(column, "=", this.tx.dialect.param(params.length))));
        const taken = await this.tx.all<{ upn: string }>(`SELECT ${column} AS upn FROM ${this.tables.users.name} WHERE tenant_id = ${this.tx.dialect.param(1)} AND (${tests.join(" OR ")})`, params);
        for (const { upn } of taken) lastTaken = Math.max(lastTaken, names.get(upn.toLowerCase()) ?? count - 1);
      }
      if (lastTaken < 0) return start;
      start += lastTaken + 1;
    }
    throw new GraphError(409, "Conflict", "Could not find free user principal names for the fleet's users.");
  }

  private async createDevices(request: FleetRequest, existingManaged: number, rules: RuleOfGroup[], pool: PrimaryUser[], staticGroups: FleetGroup[]): Promise<number> {
    const staticMembers = new Map<number, string[]>();
    for (const g of staticGroups) {
      for (const position of drawPositions(this.random, request.devices, g.size)) {
        const list = staticMembers.get(position);
        if (list) list.push(g.entity.id);
        else staticMembers.set(position, [g.entity.id]);
      }
    }
    // Primary users go round-robin in name order, so the user columns of managed devices fill their indexes in order.
    const owners = [...pool].sort((a, b) => (a.userPrincipalName.toLowerCase() < b.userPrincipalName.toLowerCase() ? -1 : 1));
    const t = this.tables;
    const layouts = { managed: rowLayout(this.tx.dialect, t.managed), entra: rowLayout(this.tx.dialect, t.devices), autopilot: rowLayout(this.tx.dialect, t.autopilot) };
    // The devices' draws continue this call's random sequence (they are its last draws).
    const plan: DevicePlan = {
      tenantId: this.tenant.id,
      randomState: this.random.state(),
      existingManaged,
      devices: request.devices,
      autopilot: request.autopilot,
      nowMs: this.nowMs,
      owners,
      rules: rules.map((r) => ({ groupId: r.groupId, rule: r.rule })),
      staticMembers: [...staticMembers],
      layouts,
      sliceSize: SLICE,
      firstSliceSize: FIRST_DEVICE_SLICE,
    };
    let autopilotDevices = 0;
    for await (const slice of sliceSource(plan, this.worker)) {
      for (const id of slice.managedIds) this.newManagedIds.push(id);
      await this.ctx.entities.insertEncoded(this.tx, layouts.managed, slice.managed, { docAsBytes: slice.docAsBytes });
      await this.ctx.entities.insertEncoded(this.tx, layouts.entra, slice.entra, { docAsBytes: slice.docAsBytes });
      await this.ctx.entities.insertEncoded(this.tx, layouts.autopilot, slice.autopilot, { docAsBytes: slice.docAsBytes });
      const { groupIds, memberIds, dynamic } = slice.memberships;
      for (let i = 0; i < groupIds.length; i++) this.memberships.add(groupIds[i], memberIds[i], "device", dynamic[i]);
      await this.memberships.flushIfFull();
      autopilotDevices += slice.autopilotCount;
    }
    return autopilotDevices;
  }
}
