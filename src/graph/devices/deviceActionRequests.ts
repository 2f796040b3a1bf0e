// wipe, retire and syncDevice: the first step of the action's lifecycle is applied in the request's
// transaction together with the work row for the rest, so a crash right after the 204 loses nothing.
// With `--lifecycle immediate` every step is applied before the answer.

import { randomUUID } from "node:crypto";
import { applyDeviceActionStep, isDeviceAction, stepCount, type DeviceActionName } from "../../engine/deviceActions.js";
import { scheduleStep, type LifecycleTiming } from "../../engine/lifecycleTiming.js";
import type { StorageTable } from "../../odata/compiledModel.js";
import type { Reconciler, WorkHandler } from "../../reconcile/reconciler.js";
import type { EntityStore } from "../../store/entityStore.js";
import type { OperationHandler } from "../entityRequests.js";
import type { GraphContext } from "../graphContext.js";
import type { SqlExecutor } from "../../store/database.js";
import { actionParameters } from "../operationParameters.js";

export const DEVICE_ACTION_WORK = "deviceAction";

/** Starts an action's lifecycle on a device inside the caller's transaction (also used by MMD's reassign). */
export async function startDeviceAction(
  ctx: GraphContext,
  tx: SqlExecutor,
  reconciler: Reconciler,
  timing: LifecycleTiming,
  table: StorageTable,
  deviceId: string,
  action: DeviceActionName,
  params: Record<string, unknown>,
): Promise<void> {
  const now = ctx.clock.now();
  const device = await ctx.entities.get(tx, table, ctx.tenantId, deviceId);
  if (!device) return;
  const doc = applyDeviceActionStep(action, 0, device.doc, now.toISOString());
  await ctx.entities.replace(tx, table, ctx.tenantId, { ...device, doc });
  // A repeated action restarts its lifecycle.
  await tx.run(
    `DELETE FROM pending_work WHERE tenant_id = ${tx.dialect.param(1)} AND subject_id = ${tx.dialect.param(2)} AND kind = ${tx.dialect.param(3)} AND ${tx.dialect.jsonText("payload", "action")} = ${tx.dialect.param(4)}`,
    [ctx.tenantId, device.id, DEVICE_ACTION_WORK, action],
  );
  if (stepCount(action) === 1) return;
  const item = { tenantId: ctx.tenantId, id: randomUUID(), kind: DEVICE_ACTION_WORK, subjectId: device.id, step: 1, ...scheduleStep(timing, now), payload: { action, params } };
  await reconciler.queue.enqueue(tx, item);
  if (timing.kind === "immediate") await reconciler.runToCompletion(tx, item);
}

export function deviceActionHandler(reconciler: Reconciler, timing: () => LifecycleTiming): OperationHandler {
  return async (ctx, { binding, op, body }) => {
    const params = actionParameters(ctx.validator, op, body);
    if (binding.kind !== "entity" || !binding.table) throw new Error("device actions are bound to a managed device");
    if (!isDeviceAction(op.name)) throw new Error(`no lifecycle for ${op.name}`);
    const action: DeviceActionName = op.name;
    const table = binding.table;
    await ctx.db.transaction((tx) => startDeviceAction(ctx, tx, reconciler, timing(), table, binding.entity.id, action, params));
    return { status: 204 };
  };
}

/** Applies the later steps of a device action to the device's current document. */
export function deviceActionWork(entities: EntityStore, table: StorageTable): WorkHandler {
  return {
    async apply(tx, item, at) {
      const action = item.payload.action as DeviceActionName;
      const device = await entities.get(tx, table, item.tenantId, item.subjectId);
      if (!device) return { more: false }; // the device was deleted meanwhile
      const doc = applyDeviceActionStep(action, item.step, device.doc, at.toISOString());
      await entities.replace(tx, table, item.tenantId, { ...device, doc });
      return { more: item.step + 1 < stepCount(action) };
    },
  };
}
