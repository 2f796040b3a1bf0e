// A device's Autopilot group tag lives in two places: the identity's `groupTag` and the `[OrderID]:` entry of the
// linked Entra device's devicePhysicalIds, which dynamic groups read. Changing it changes both, through the
// entity rules, so dynamic memberships and then Autopilot profiles follow.

import type { SqlExecutor } from "../../store/database.js";
import { storeChangedEntity } from "../entityWrites.js";
import type { GraphContext } from "../graphContext.js";

/** Sets the Entra device's `[OrderID]:` entry (an empty tag removes it). */
export async function retagEntraDevice(ctx: GraphContext, tx: SqlExecutor, azureADDeviceId: string, groupTag: string): Promise<void> {
  const table = ctx.model.entitySets.get("devices")!.table;
  if (!azureADDeviceId) return;
  const [row] = await tx.all(`SELECT id FROM ${table.name} WHERE tenant_id = ${tx.dialect.param(1)} AND p_device_id = ${tx.dialect.param(2)}`, [ctx.tenantId, azureADDeviceId]);
  if (!row) return;
  const before = (await ctx.entities.get(tx, table, ctx.tenantId, row.id as string))!;
  const ids = ((before.doc.devicePhysicalIds as string[] | undefined) ?? []).filter((p) => !p.startsWith("[OrderID]:"));
  if (groupTag !== "") ids.push(`[OrderID]:${groupTag}`);
  await storeChangedEntity(ctx, tx, table, before, { ...before, doc: { ...before.doc, devicePhysicalIds: ids } });
}

/** The device's current tag: its Autopilot identity's, else its Entra device's `[OrderID]:` entry. */
export async function currentGroupTag(ctx: GraphContext, tx: SqlExecutor, azureADDeviceId: string): Promise<{ tag: string; identityId?: string }> {
  const identities = ctx.model.entityType("deviceManagement").navigation.get("windowsAutopilotDeviceIdentities")!.table!;
  const [identity] = await tx.all(`SELECT id, doc FROM ${identities.name} WHERE tenant_id = ${tx.dialect.param(1)} AND p_azure_ad_device_id = ${tx.dialect.param(2)}`, [ctx.tenantId, azureADDeviceId]);
  if (identity) {
    const doc = typeof identity.doc === "string" ? JSON.parse(identity.doc) : identity.doc;
    return { tag: String(doc.groupTag ?? ""), identityId: identity.id as string };
  }
  const devices = ctx.model.entitySets.get("devices")!.table;
  const [device] = await tx.all(`SELECT doc FROM ${devices.name} WHERE tenant_id = ${tx.dialect.param(1)} AND p_device_id = ${tx.dialect.param(2)}`, [ctx.tenantId, azureADDeviceId]);
  const doc = device ? (typeof device.doc === "string" ? JSON.parse(device.doc) : device.doc) : {};
  const entry = ((doc.devicePhysicalIds as string[] | undefined) ?? []).find((p) => p.startsWith("[OrderID]:"));
  return { tag: entry ? entry.slice("[OrderID]:".length) : "" };
}

/** Sets a device's group tag in both places. */
export async function setGroupTag(ctx: GraphContext, tx: SqlExecutor, azureADDeviceId: string, groupTag: string): Promise<void> {
  const { identityId } = await currentGroupTag(ctx, tx, azureADDeviceId);
  if (identityId) {
    const table = ctx.model.entityType("deviceManagement").navigation.get("windowsAutopilotDeviceIdentities")!.table!;
    const identity = (await ctx.entities.get(tx, table, ctx.tenantId, identityId))!;
    await ctx.entities.replace(tx, table, ctx.tenantId, { ...identity, doc: { ...identity.doc, groupTag } });
  }
  await retagEntraDevice(ctx, tx, azureADDeviceId, groupTag);
}
