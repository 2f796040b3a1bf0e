// A configuration's assignments as a whole: the rows of one configuration, the assignment filters' `payloads`
// reverse index kept equal to them, and the `assign` action's atomic replacement of the whole set (spec §2.6, §2.9).

import { randomUUID } from "node:crypto";
import type { EntityType } from "../../odata/compiledModel.js";
import { badRequest } from "../../odata/errors.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EntityStore, StoredEntity } from "../../store/entityStore.js";
import type { GraphContext } from "../graphContext.js";
import type { ConfigurationListeners } from "./configurationListeners.js";
import { checkTarget, filterIdOf, filterTypeOf, targetKey, targetObjectId, type AssignmentTarget, type ConfigurationTables } from "./configurationTargets.js";

const PAGE = 1000;

export interface PayloadByFilter {
  payloadId: string;
  payloadType: "deviceConfigurationAndCompliance";
  groupId: string | null;
  assignmentFilterType: string;
}

export class ConfigurationAssignments {
  constructor(
    readonly tables: ConfigurationTables,
    private readonly entities: EntityStore,
    readonly listeners: ConfigurationListeners,
  ) {}

  async assignmentsOf(x: SqlExecutor, tenantId: string, configurationId: string, table = this.tables.assignments): Promise<StoredEntity[]> {
    const out: StoredEntity[] = [];
    let afterSeq: number | undefined;
    for (;;) {
      const { rows } = await this.entities.list(x, table, { tenantId, parentId: configurationId, orderBy: [], top: PAGE, skip: 0, afterSeq, count: false });
      out.push(...rows);
      if (rows.length < PAGE) return out;
      afterSeq = rows.at(-1)!.seq;
    }
  }

  /** The filters the given assignments use. */
  static filtersUsedBy(assignments: (StoredEntity | undefined)[]): Set<string> {
    const out = new Set<string>();
    for (const a of assignments) {
      const id = a ? filterIdOf(a.doc.target as AssignmentTarget) : undefined;
      if (id) out.add(id);
    }
    return out;
  }

  /** Rewrites each filter's payload entries for this configuration from its current assignments. */
  async refreshPayloads(ctx: GraphContext, tx: SqlExecutor, configurationId: string, filterIds: Iterable<string>) {
    const ids = [...new Set(filterIds)];
    if (ids.length === 0) return;
    const current = await this.assignmentsOf(tx, ctx.tenantId, configurationId);
    const filters = await this.entities.getMany(tx, this.tables.filters, ctx.tenantId, ids);
    for (const filter of filters.values()) {
      const others = ((filter.doc.payloads ?? []) as PayloadByFilter[]).filter((p) => p.payloadId !== configurationId);
      const mine: PayloadByFilter[] = current
        .map((a) => a.doc.target as AssignmentTarget)
        .filter((t) => filterIdOf(t) === filter.id)
        .map((t) => ({ payloadId: configurationId, payloadType: "deviceConfigurationAndCompliance", groupId: targetObjectId(t) ?? null, assignmentFilterType: filterTypeOf(t) }));
      await this.entities.replace(tx, this.tables.filters, ctx.tenantId, { ...filter, doc: { ...filter.doc, payloads: [...others, ...mine] } });
    }
  }

  /** After any change of a configuration's assignments: the payload index, then the listeners. */
  async changed(ctx: GraphContext, tx: SqlExecutor, configurationId: string, filterIds: Iterable<string>) {
    await this.refreshPayloads(ctx, tx, configurationId, filterIds);
    await this.listeners.assignmentsChanged(ctx, tx, configurationId);
  }

  /**
   * `assign`: validates every posted assignment first, then replaces the whole set in the caller's transaction.
   * Duplicate targets collapse onto the first; items without an id get one. Returns the stored set, in order.
   */
  async replaceAll(ctx: GraphContext, tx: SqlExecutor, configuration: StoredEntity, posted: unknown[], legacy: unknown[]): Promise<StoredEntity[]> {
    const assignmentType = ctx.model.entityType("deviceConfigurationAssignment");
    const groupAssignmentType = ctx.model.entityType("deviceConfigurationGroupAssignment");
    const seen = new Set<string>();
    const drafts: StoredEntity[] = [];
    for (const [i, item] of posted.entries()) {
      const { values } = ctx.validator.entity(assignmentType, item, "create");
      const target = values.target as AssignmentTarget;
      await checkTarget(ctx, tx, this.tables, target);
      const key = targetKey(target);
      if (seen.has(key)) continue;
      seen.add(key);
      drafts.push({ id: this.idOf(item, `assignments[${i}]`), type: assignmentType.name, parentId: configuration.id, seq: 0, doc: { ...values, source: "direct" } });
    }
    const legacyDrafts: StoredEntity[] = [];
    const seenGroups = new Set<string>();
    for (const [i, item] of legacy.entries()) {
      const { values } = ctx.validator.entity(groupAssignmentType, item, "create");
      const groupId = String(values.targetGroupId);
      if (!(await ctx.entities.get(tx, this.tables.groups, ctx.tenantId, groupId))) throw badRequest(`The group '${groupId}' does not exist.`);
      if (seenGroups.has(groupId.toLowerCase())) continue;
      seenGroups.add(groupId.toLowerCase());
      legacyDrafts.push({ id: this.idOf(item, `deviceConfigurationGroupAssignments[${i}]`), type: groupAssignmentType.name, parentId: configuration.id, seq: 0, doc: values });
    }
    this.checkUniqueIds(drafts, "assignments");
    this.checkUniqueIds(legacyDrafts, "deviceConfigurationGroupAssignments");

    const before = await this.assignmentsOf(tx, ctx.tenantId, configuration.id);
    await this.replaceRows(ctx, tx, before, drafts, this.tables.assignments, assignmentType);
    const legacyBefore = await this.assignmentsOf(tx, ctx.tenantId, configuration.id, this.tables.groupAssignments);
    await this.replaceRows(ctx, tx, legacyBefore, legacyDrafts, this.tables.groupAssignments, groupAssignmentType);
    await this.changed(ctx, tx, configuration.id, new Set([...ConfigurationAssignments.filtersUsedBy(before), ...ConfigurationAssignments.filtersUsedBy(drafts)]));
    return drafts;
  }

  private idOf(item: unknown, path: string): string {
    const id = (item as Record<string, unknown>).id;
    if (id === undefined || id === null || id === "") return randomUUID();
    if (typeof id !== "string") throw badRequest(`The id of '${path}' must be a string.`);
    return id;
  }

  private checkUniqueIds(drafts: StoredEntity[], what: string) {
    const ids = new Set<string>();
    for (const d of drafts) {
      if (ids.has(d.id)) throw badRequest(`The id '${d.id}' appears twice in '${what}'.`);
      ids.add(d.id);
    }
  }

  private async replaceRows(ctx: GraphContext, tx: SqlExecutor, before: StoredEntity[], after: StoredEntity[], table: ConfigurationTables["assignments"], type: EntityType) {
    for (const row of before) await this.entities.delete(tx, table, ctx.tenantId, row);
    for (const row of after) {
      // Ids are unique per tenant: an id kept from the old set is fine (deleted above), another row's is not.
      if (await this.entities.get(tx, table, ctx.tenantId, row.id)) throw badRequest(`The id '${row.id}' is already used by another ${type.name}.`);
      await this.entities.insert(tx, table, ctx.tenantId, row);
    }
  }
}
