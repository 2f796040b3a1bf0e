// POST …/managedDevice/changeAssignments (every path the model routes to a managed device): checks the whole
// request first (item types, ids that name existing items, at most 30 items in the result), then plans the new
// result, stores it in the device's deviceActionResults and starts its lifecycle on the reconciler, all in one
// transaction: a rejected request changes nothing. Later steps re-check the items and keep the device's
// effective removals (`_removedAssignmentItems`) that the configuration engine reads.

import { randomUUID } from "node:crypto";
import {
  advanceChangeAssignments,
  CHANGE_ASSIGNMENTS,
  configurationSubType,
  itemKey,
  LATER_STEPS,
  MAX_RESULT_ITEMS,
  planChangeAssignments,
  type ChangeAssignmentsResult,
  type DesiredItem,
  type DeviceAssignmentItem,
  type RemovedItem,
} from "../../engine/changeAssignments.js";
import { scheduleStep, type LifecycleTiming } from "../../engine/lifecycleTiming.js";
import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import { badRequest } from "../../odata/errors.js";
import type { Reconciler, WorkHandler } from "../../reconcile/reconciler.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EntityDocument } from "../../store/entityStore.js";
import type { OperationHandler } from "../entityRequests.js";
import { notifyManagedDeviceChanges, type GraphServices } from "../graphContext.js";
import { actionParameters } from "../operationParameters.js";

export const CHANGE_ASSIGNMENTS_WORK = "changeAssignments";

/** Where the items of each type live, when Allot keeps them (Intune's collection names). */
const ITEM_COLLECTIONS: Record<string, string> = {
  deviceConfiguration: "deviceConfigurations",
  deviceManagementConfigurationPolicy: "configurationPolicies",
  mobileAppConfiguration: "mobileAppConfigurations",
  application: "mobileApps",
};
const ITEM_SINGLETONS = ["deviceManagement", "deviceAppManagement"];

/** errorCode of an item whose removal failed: it no longer exists / is no longer assigned to the device. */
export const ITEM_GONE = 404;
export const ITEM_NOT_ASSIGNED = 409;

/** The table of an item type's collection in this model, if Allot keeps such items. */
function itemTable(model: CompiledModel, itemType: string): StorageTable | undefined {
  const collection = ITEM_COLLECTIONS[itemType];
  if (!collection) return undefined;
  for (const s of ITEM_SINGLETONS) {
    if (!model.singletons.has(s)) continue;
    const table = model.entityType(model.singletons.get(s)!.type).navigation.get(collection)?.table;
    if (table) return table;
  }
  return undefined;
}

/** Answers whether the item still applies to the device through a group assignment (when the engine can tell). */
export type AssignedCheck = (services: GraphServices, tx: SqlExecutor, tenantId: string, deviceId: string, item: RemovedItem) => Promise<boolean | undefined>;

export interface ChangeAssignmentsOptions {
  reconciler: Reconciler;
  timing: () => LifecycleTiming;
  /** Set when the configuration engine is present: a removal of an item no longer assigned fails. */
  isAssigned?: AssignedCheck;
}

const resultOf = (doc: EntityDocument) =>
  ((doc.deviceActionResults as { actionName?: string }[] | undefined) ?? []).find((r) => r.actionName === CHANGE_ASSIGNMENTS) as ChangeAssignmentsResult | undefined;
const removedOf = (doc: EntityDocument) => (Array.isArray(doc._removedAssignmentItems) ? (doc._removedAssignmentItems as RemovedItem[]) : []);
const withResult = (doc: EntityDocument, result: ChangeAssignmentsResult) => [
  ...((doc.deviceActionResults as { actionName?: string }[] | undefined) ?? []).filter((r) => r.actionName !== CHANGE_ASSIGNMENTS),
  result,
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function changeAssignmentsHandler(options: ChangeAssignmentsOptions): OperationHandler {
  return async (ctx, { binding, op, body }) => {
    if (binding.kind !== "entity") throw new Error("changeAssignments is bound to a managed device");
    // Types, enum spellings and lengths from the model; read-only result fields in the body are dropped there.
    const params = actionParameters(ctx.validator, op, body);
    const requested = params.deviceAssignmentItems as Record<string, unknown>[];
    const distinct = new Map<string, { itemId: string; itemType: string }>();
    requested.forEach((item, i) => {
      if (!isObject(item) || typeof item.itemId !== "string" || item.itemId.trim() === "") throw badRequest(`deviceAssignmentItems[${i}].itemId is required.`);
      if (typeof item.itemType !== "string") throw badRequest(`deviceAssignmentItems[${i}].itemType is required.`);
      const key = itemKey({ itemId: item.itemId, itemType: item.itemType });
      if (!distinct.has(key)) distinct.set(key, { itemId: item.itemId, itemType: item.itemType });
    });
    if (distinct.size > MAX_RESULT_ITEMS) {
      throw badRequest(`deviceAssignmentItems names ${distinct.size} distinct items; a changeAssignments result holds at most ${MAX_RESULT_ITEMS}.`);
    }
    const devicesTable = ctx.model.entityType("deviceManagement").navigation.get("managedDevices")!.table!;
    await ctx.db.transaction(async (tx) => {
      const desired: DesiredItem[] = [];
      for (const { itemId, itemType } of distinct.values()) {
        const table = itemTable(ctx.model, itemType);
        if (!table) {
          throw badRequest(
            itemType === "unknownFutureValue"
              ? "itemType 'unknownFutureValue' is not an item type."
              : `Allot keeps no ${itemType} items (no ${ITEM_COLLECTIONS[itemType]} collection), so none can be removed from a device; supported: ${Object.keys(ITEM_COLLECTIONS).filter((t) => itemTable(ctx.model, t)).join(", ") || "none"}.`,
          );
        }
        const found = await ctx.entities.get(tx, table, ctx.tenantId, itemId);
        if (!found) throw badRequest(`No ${itemType} with id '${itemId}' exists in this tenant.`);
        const displayName = typeof found.doc.displayName === "string" ? found.doc.displayName.slice(0, 200) : null;
        desired.push({ itemId: found.id, itemType, itemDisplayName: displayName, itemSubTypeDisplayName: itemType === "deviceConfiguration" ? configurationSubType(found.type) : null });
      }
      const device = await ctx.entities.get(tx, devicesTable, ctx.tenantId, binding.entity.id);
      if (!device) throw new Error("the bound device vanished inside its own transaction");
      const now = ctx.clock.now();
      const plan = planChangeAssignments(resultOf(device.doc), removedOf(device.doc), desired, now.toISOString());
      if (!plan.ok) {
        throw badRequest(`The result would hold ${plan.itemCount} items (the removals asked for plus the earlier removals to restore); a changeAssignments result holds at most ${MAX_RESULT_ITEMS}.`);
      }
      const callId = randomUUID();
      await ctx.entities.replace(tx, devicesTable, ctx.tenantId, { ...device, doc: { ...device.doc, deviceActionResults: withResult(device.doc, plan.result), _changeAssignmentsCall: callId } });
      // A newer call replaces an older one in flight: its remaining steps are dropped (and would find a newer call).
      await tx.run(
        `DELETE FROM pending_work WHERE tenant_id = ${tx.dialect.param(1)} AND subject_id = ${tx.dialect.param(2)} AND kind = ${tx.dialect.param(3)}`,
        [ctx.tenantId, device.id, CHANGE_ASSIGNMENTS_WORK],
      );
      if (!plan.started) return;
      const timing = options.timing();
      const work = { tenantId: ctx.tenantId, id: randomUUID(), kind: CHANGE_ASSIGNMENTS_WORK, subjectId: device.id, step: 1, ...scheduleStep(timing, now), payload: { callId } };
      await options.reconciler.queue.enqueue(tx, work);
      if (timing.kind === "immediate") await options.reconciler.runToCompletion(tx, work);
    });
    return { status: 204 };
  };
}

/** The later steps of a call: to inProgress, then each item's outcome, on the device's current document. */
export function changeAssignmentsWork(services: GraphServices, options: Pick<ChangeAssignmentsOptions, "isAssigned">): WorkHandler {
  const devicesTable = services.model.entityType("deviceManagement").navigation.get("managedDevices")!.table!;
  return {
    async apply(tx, work, at) {
      const device = await services.entities.get(tx, devicesTable, work.tenantId, work.subjectId);
      if (!device || device.doc._changeAssignmentsCall !== work.payload.callId) return { more: false }; // deleted, or replaced
      const result = resultOf(device.doc);
      if (!result) return { more: false };
      const removed = removedOf(device.doc);
      const failures = new Map<string, { errorCode: number; message: string }>();
      if (work.step === 2) {
        for (const item of result.deviceAssignmentItems) {
          if (item.assignmentItemActionIntent !== "remove" || item.assignmentItemActionStatus !== "inProgress") continue;
          const failure = await checkItem(services, tx, work.tenantId, device.id, item, options.isAssigned);
          if (failure) failures.set(itemKey(item), failure);
        }
      }
      const next = advanceChangeAssignments(work.step, result, removed, at.toISOString(), (item) => failures.get(itemKey(item)));
      const removalsChanged = next.removed !== removed;
      await services.entities.replace(tx, devicesTable, work.tenantId, {
        ...device,
        doc: { ...device.doc, deviceActionResults: withResult(device.doc, next.result), _removedAssignmentItems: next.removed },
      });
      if (removalsChanged) await notifyManagedDeviceChanges(services, tx, work.tenantId, [device.id]);
      return { more: work.step < LATER_STEPS };
    },
  };
}

/** Whether the item can still be removed from the device: it must exist, and (with the engine) still be assigned. */
async function checkItem(services: GraphServices, tx: SqlExecutor, tenantId: string, deviceId: string, item: DeviceAssignmentItem, isAssigned?: AssignedCheck) {
  const table = itemTable(services.model, item.itemType);
  const exists = table ? await services.entities.get(tx, table, tenantId, item.itemId) : undefined;
  if (!exists) return { errorCode: ITEM_GONE, message: `The ${item.itemType} '${item.itemId}' no longer exists, so it cannot be removed from the device.` };
  if (isAssigned && (await isAssigned(services, tx, tenantId, deviceId, item)) === false) {
    return { errorCode: ITEM_NOT_ASSIGNED, message: `The ${item.itemType} '${item.itemId}' is no longer assigned to the device, so there is nothing to remove.` };
  }
  return undefined;
}
