// Keeps dynamic group memberships equal to what each group's membershipRule says. A changed device or user is
// re-evaluated against the tenant's dynamic groups of its kind; a changed rule re-evaluates its group over the
// tenant's devices or users in bounded batches. Both return the membership changes, which later layers
// (assignment re-evaluation) consume.

import type { CompiledModel, StorageTable } from "../odata/compiledModel.js";
import type { SqlExecutor } from "../store/database.js";
import type { EntityStore, StoredEntity } from "../store/entityStore.js";
import { compileMembershipRule, propertiesReadBy, type CompiledMembershipRule, type RuleSubject } from "./membershipRule/index.js";
import { addMemberships } from "./membershipBatch.js";
import type { MembershipChange, MembershipRow, Memberships } from "./memberships.js";

const BATCH = 1000;

/** Where a rule property that is not a document field of the same name comes from (deviceRuleRecord's aliases). */
const DEVICE_ALIASES: Readonly<Record<string, string>> = {
  deviceOSType: "operatingSystem",
  deviceOSVersion: "operatingSystemVersion",
  deviceModel: "model",
  deviceManufacturer: "manufacturer",
};

/** The properties a device rule reads, named as Entra's rule language names them. */
export function deviceRuleRecord(device: StoredEntity): Record<string, unknown> {
  const d = device.doc;
  const out: Record<string, unknown> = { ...d, objectId: device.id };
  for (const [property, field] of Object.entries(DEVICE_ALIASES)) out[property] = d[field];
  return out;
}

export const userRuleRecord = (user: StoredEntity): Record<string, unknown> => ({ ...user.doc, objectId: user.id });

/**
 * The rule record narrowed to the given properties: the same values the full record has for them, without copying
 * every field of every document (most of a bulk re-evaluation's time went into those copies).
 */
export function narrowRuleRecord(subject: RuleSubject, e: StoredEntity, properties: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of properties) {
    out[p] = p === "objectId" ? e.id : e.doc[(subject === "device" && DEVICE_ALIASES[p]) || p];
  }
  return out;
}

export const isDynamicGroup = (group: StoredEntity) =>
  Array.isArray(group.doc.groupTypes) && (group.doc.groupTypes as string[]).some((t) => t.toLowerCase() === "dynamicmembership");

const readsAny = (rule: CompiledMembershipRule, properties: readonly string[]) => propertiesReadBy(rule.ast).some((p) => properties.includes(p));

const isProcessing = (group: StoredEntity) => String(group.doc.membershipRuleProcessingState ?? "On").toLowerCase() === "on";

export class DynamicMembership {
  private readonly groups: StorageTable;
  private readonly subjects: Record<RuleSubject, StorageTable>;

  constructor(
    private readonly model: CompiledModel,
    private readonly entities: EntityStore,
    private readonly memberships: Memberships,
  ) {
    this.groups = model.entitySets.get("groups")!.table;
    this.subjects = { device: model.entitySets.get("devices")!.table, user: model.entitySets.get("users")!.table };
  }

  private record(subject: RuleSubject, e: StoredEntity) {
    return subject === "device" ? deviceRuleRecord(e) : userRuleRecord(e);
  }

  /** The tenant's dynamic groups whose rules are processed, compiled. */
  async activeRules(x: SqlExecutor, tenantId: string): Promise<{ group: StoredEntity; rule: CompiledMembershipRule }[]> {
    const out: { group: StoredEntity; rule: CompiledMembershipRule }[] = [];
    let afterSeq: number | undefined;
    for (;;) {
      const { rows } = await this.entities.list(x, this.groups, {
        tenantId,
        where: (params) => {
          params.push("DynamicMembership");
          const mark = x.dialect.param(params.length);
          return x.dialect.jsonArrayAny("doc", "groupTypes", (el) => x.dialect.compareText(el, "=", mark));
        },
        orderBy: [],
        top: BATCH,
        skip: 0,
        afterSeq,
        count: false,
      });
      for (const group of rows) {
        if (isProcessing(group) && typeof group.doc.membershipRule === "string") {
          out.push({ group, rule: compileMembershipRule(group.doc.membershipRule) });
        }
      }
      if (rows.length < BATCH) return out;
      afterSeq = rows.at(-1)!.seq;
    }
  }

  /** Re-evaluates one device or user against every dynamic group of its kind. */
  async reevaluateMember(x: SqlExecutor, tenantId: string, subject: RuleSubject, member: StoredEntity | undefined, memberId: string): Promise<MembershipChange[]> {
    const changes: MembershipChange[] = [];
    const current = new Map((await this.memberships.groupsOf(x, tenantId, memberId)).filter((r) => r.dynamic).map((r) => [r.groupId, r]));
    const record = member ? this.record(subject, member) : undefined;
    for (const { group, rule } of await this.activeRules(x, tenantId)) {
      if (rule.subject !== subject) continue;
      const wanted = record !== undefined && rule.matches(record);
      const has = current.has(group.id);
      if (wanted && !has) {
        await this.memberships.add(x, tenantId, { groupId: group.id, memberId, memberType: subject, dynamic: true });
        changes.push({ groupId: group.id, memberId, memberType: subject, change: "added" });
      } else if (!wanted && has) {
        await this.memberships.remove(x, tenantId, group.id, memberId);
        changes.push({ groupId: group.id, memberId, memberType: subject, change: "removed" });
      }
    }
    return changes;
  }

  /**
   * `reevaluateMember` for many changed devices or users at once: the rules compiled once, the current dynamic
   * memberships read in one statement per chunk, the differences written with multi-row statements. With
   * `changed` (the rule-language names of the only properties that changed), rules reading none of them are
   * skipped: their answers cannot have moved, since memberships are kept current on every write.
   */
  async reevaluateMembers(x: SqlExecutor, tenantId: string, subject: RuleSubject, members: readonly StoredEntity[], changed?: readonly string[]): Promise<MembershipChange[]> {
    if (members.length === 0) return [];
    const rules = (await this.activeRules(x, tenantId)).filter((r) => r.rule.subject === subject && (!changed || readsAny(r.rule, changed)));
    if (rules.length === 0) return [];
    const current = await this.memberships.dynamicGroupsOfMany(x, tenantId, members.map((m) => m.id));
    const added: MembershipRow[] = [];
    const removed = new Map<string, string[]>();
    const changes: MembershipChange[] = [];
    const read = [...new Set(rules.flatMap((r) => propertiesReadBy(r.rule.ast)))];
    for (const member of members) {
      const record = narrowRuleRecord(subject, member, read);
      const has = current.get(member.id);
      for (const { group, rule } of rules) {
        const wanted = rule.matches(record);
        if (wanted && !has?.has(group.id)) {
          added.push({ groupId: group.id, memberId: member.id, memberType: subject, dynamic: true });
          changes.push({ groupId: group.id, memberId: member.id, memberType: subject, change: "added" });
        } else if (!wanted && has?.has(group.id)) {
          const ids = removed.get(group.id);
          if (ids) ids.push(member.id);
          else removed.set(group.id, [member.id]);
          changes.push({ groupId: group.id, memberId: member.id, memberType: subject, change: "removed" });
        }
      }
    }
    for (const [groupId, ids] of removed) await this.memberships.removeMany(x, tenantId, groupId, ids);
    await addMemberships(x, tenantId, added);
    return changes;
  }

  /**
   * Recomputes one group's dynamic members from its rule, or empties them when the group is no longer dynamic.
   * A paused rule freezes the membership as it is, as Entra does.
   */
  async reevaluateGroup(x: SqlExecutor, tenantId: string, group: StoredEntity): Promise<MembershipChange[]> {
    const changes: MembershipChange[] = [];
    if (isDynamicGroup(group) && !isProcessing(group)) return changes;
    const ruleText = isDynamicGroup(group) ? group.doc.membershipRule : undefined;
    const rule = typeof ruleText === "string" ? compileMembershipRule(ruleText) : undefined;
    const existing = new Map<string, string>();
    for (let offset = 0; ; offset += BATCH) {
      const page = await this.memberships.membersOf(x, tenantId, group.id, { top: BATCH, offset });
      for (const r of page) if (r.dynamic) existing.set(r.memberId, r.memberType);
      if (page.length < BATCH) break;
    }
    const wanted = new Set<string>();
    if (rule) {
      let afterSeq: number | undefined;
      for (;;) {
        const { rows } = await this.entities.list(x, this.subjects[rule.subject], { tenantId, orderBy: [], top: BATCH, skip: 0, afterSeq, count: false });
        for (const e of rows) if (rule.matches(this.record(rule.subject, e))) wanted.add(e.id);
        if (rows.length < BATCH) break;
        afterSeq = rows.at(-1)!.seq;
      }
    }
    for (const id of wanted) {
      if (existing.has(id)) continue;
      await this.memberships.add(x, tenantId, { groupId: group.id, memberId: id, memberType: rule!.subject, dynamic: true });
      changes.push({ groupId: group.id, memberId: id, memberType: rule!.subject, change: "added" });
    }
    for (const [id, type] of existing) {
      if (wanted.has(id)) continue;
      await this.memberships.remove(x, tenantId, group.id, id);
      changes.push({ groupId: group.id, memberId: id, memberType: type as RuleSubject, change: "removed" });
    }
    return changes;
  }
}
