// What device configurations and assignment filters add to generic CRUD (spec §2.6–2.9): `version` counts updates,
// at most 1000 OMA settings, assignment targets checked and duplicates refused, the filters' `payloads` index kept
// current, at most 200 filters per tenant, a rule that parses for its platform, and no delete of a filter in use.

import { AssignmentFilterRuleError, parseFilterRule, type DevicePlatform } from "../../engine/assignmentFilter/index.js";
import { badRequest } from "../../odata/errors.js";
import type { SqlExecutor } from "../../store/database.js";
import type { StoredEntity } from "../../store/entityStore.js";
import type { EntityBehaviours, GraphContext } from "../graphContext.js";
import { ConfigurationAssignments } from "./configurationAssignments.js";
import { checkTarget, targetKey, type AssignmentTarget } from "./configurationTargets.js";

export const MAX_OMA_SETTINGS = 1000;
export const MAX_FILTERS_PER_TENANT = 200;
export const FILTER_IN_USE_MESSAGE =
  "Unable to delete assignment filter – An assignment filter is associated with existing assignments. Delete all the assignments for the filter and try again.";

/** Parses a rule for its platform; a syntax error answers 400 with the parser's position and expectation. */
export function checkFilterRule(rule: unknown, platform: unknown) {
  if (typeof rule !== "string") throw badRequest("The property 'rule' is required.");
  try {
    parseFilterRule(rule, (platform ?? "unknown") as DevicePlatform);
  } catch (error) {
    if (error instanceof AssignmentFilterRuleError) throw badRequest(`The assignment filter rule is not valid. ${error.message}`);
    throw error;
  }
}

async function countRows(tx: SqlExecutor, table: string, tenantId: string) {
  return Number((await tx.all(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ${tx.dialect.param(1)}`, [tenantId]))[0].n);
}

export function registerConfigurationBehaviours(behaviours: EntityBehaviours, assignments: ConfigurationAssignments) {
  const { tables, listeners } = assignments;

  behaviours.register("deviceConfiguration", {
    async validate(_ctx, _tx, draft, before) {
      // [I] version starts at 1 and grows by one with every update of the configuration itself.
      draft.doc.version = before ? Number(before.doc.version ?? 0) + 1 : 1;
      draft.doc.supportsScopeTags = true;
      const settings = draft.doc.omaSettings;
      if (Array.isArray(settings) && settings.length > MAX_OMA_SETTINGS) {
        throw badRequest(`A custom configuration holds at most ${MAX_OMA_SETTINGS} OMA settings; the request has ${settings.length}.`);
      }
    },
    async afterWrite(ctx, tx, after, before) {
      await listeners.configurationChanged(ctx, tx, after, before);
    },
    async beforeDelete(ctx, tx, configuration) {
      // The contained assignments go with the configuration: take them out of the filters' payloads first.
      const used = ConfigurationAssignments.filtersUsedBy(await assignments.assignmentsOf(tx, ctx.tenantId, configuration.id));
      const filters = await ctx.entities.getMany(tx, tables.filters, ctx.tenantId, [...used]);
      for (const filter of filters.values()) {
        const payloads = ((filter.doc.payloads ?? []) as { payloadId: string }[]).filter((p) => p.payloadId !== configuration.id);
        await ctx.entities.replace(tx, tables.filters, ctx.tenantId, { ...filter, doc: { ...filter.doc, payloads } });
      }
    },
    async afterDelete(ctx, tx, deleted) {
      await listeners.assignmentsChanged(ctx, tx, deleted.id);
      await listeners.configurationChanged(ctx, tx, undefined, deleted);
    },
  });

  const checkAssignment = async (ctx: GraphContext, tx: SqlExecutor, draft: StoredEntity) => {
    const target = draft.doc.target as AssignmentTarget;
    await checkTarget(ctx, tx, tables, target);
    const siblings = await assignments.assignmentsOf(tx, ctx.tenantId, draft.parentId!);
    if (siblings.some((s) => s.id !== draft.id && targetKey(s.doc.target as AssignmentTarget) === targetKey(target))) {
      throw badRequest("The device configuration already has an assignment for this target.");
    }
    draft.doc.source ??= "direct";
  };

  behaviours.register("deviceConfigurationAssignment", {
    validate: (ctx, tx, draft) => checkAssignment(ctx, tx, draft),
    afterWrite: (ctx, tx, after, before) => assignments.changed(ctx, tx, after.parentId!, ConfigurationAssignments.filtersUsedBy([after, before])),
    afterDelete: (ctx, tx, deleted) => assignments.changed(ctx, tx, deleted.parentId!, ConfigurationAssignments.filtersUsedBy([deleted])),
  });

  behaviours.register("deviceConfigurationGroupAssignment", {
    async validate(ctx, tx, draft) {
      const groupId = String(draft.doc.targetGroupId);
      if (!(await ctx.entities.get(tx, tables.groups, ctx.tenantId, groupId))) throw badRequest(`The group '${groupId}' does not exist.`);
    },
    afterWrite: (ctx, tx, after) => listeners.assignmentsChanged(ctx, tx, after.parentId!),
    afterDelete: (ctx, tx, deleted) => listeners.assignmentsChanged(ctx, tx, deleted.parentId!),
  });

  behaviours.register("deviceAndAppManagementAssignmentFilter", {
    async validate(ctx, tx, draft, before) {
      if (!before && (await countRows(tx, tables.filters.name, ctx.tenantId)) >= MAX_FILTERS_PER_TENANT) {
        throw badRequest(`A tenant can have at most ${MAX_FILTERS_PER_TENANT} assignment filters.`);
      }
      checkFilterRule(draft.doc.rule, draft.doc.platform);
      draft.doc.payloads = before ? (before.doc.payloads ?? []) : [];
    },
    async afterWrite(ctx, tx, after, before) {
      // The hook the configuration engine re-evaluates on: only a rule or platform change alters which devices match.
      if (!before || before.doc.rule !== after.doc.rule || before.doc.platform !== after.doc.platform) await listeners.filterRuleChanged(ctx, tx, after, before);
    },
    async beforeDelete(_ctx, _tx, filter) {
      if (((filter.doc.payloads ?? []) as unknown[]).length > 0) throw badRequest(FILTER_IN_USE_MESSAGE);
    },
    async afterDelete(ctx, tx, deleted) {
      await listeners.filterRuleChanged(ctx, tx, undefined, deleted);
    },
  });
}
