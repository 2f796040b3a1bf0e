// A device's Autopilot group tag lives in two places: the identity's `groupTag` and the `[OrderID]:` entry of the
// linked Entra device's devicePhysicalIds, which dynamic groups read. Changing it changes both, so dynamic
// memberships and then Autopilot profiles follow: one device through the entity rules, many set-based.

import { DynamicMembership } from "../../directory/dynamicMembership.js";
import { Memberships } from "../../directory/memberships.js";
import type { SqlExecutor } from "../../store/database.js";
import type { StoredEntity } from "../../store/entityStore.js";
import { storeChangedEntity } from "../entityWrites.js";
import { notifyMembershipChanges, type GraphContext } from "../graphContext.js";

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

/**
 * A device by its Entra device id, with its Autopilot identity (only its id and tag: nothing else of it is read)
 * and its Entra device as stored (the dynamic rules read it whole); either may be missing.
 */
export interface TaggedDevice {
  azureADDeviceId: string;
  /** The identity's tag, else the Entra device's `[OrderID]:` entry, else "". */
  tag: string;
  /** `groupTag` undefined when the identity's document has none. */
  identity?: { id: string; groupTag?: string };
  entra?: StoredEntity;
}

const orderIdOf = (entra: StoredEntity | undefined) =>
  ((entra?.doc.devicePhysicalIds as string[] | undefined) ?? []).find((p) => p.startsWith("[OrderID]:"))?.slice("[OrderID]:".length);

/** The current tags of many devices: two statements per chunk (identities and Entra devices by their ids). */
export async function currentGroupTags(ctx: GraphContext, x: SqlExecutor, azureADDeviceIds: readonly string[]): Promise<Map<string, TaggedDevice>> {
  const identities = ctx.model.entityType("deviceManagement").navigation.get("windowsAutopilotDeviceIdentities")!.table!;
  const devices = ctx.model.entitySets.get("devices")!.table;
  const d = x.dialect;
  // The (folded) ids bound as one list, so the statement text is one whatever the count.
  const byId = (table: typeof devices, fields: string, column: string, ids: readonly string[]) =>
    x.all(`SELECT id, ${fields}, ${column} AS device_id FROM ${table.name} WHERE tenant_id = ${d.param(1)} AND ${d.inList(d.foldText(column), d.param(2))}`, [ctx.tenantId, d.bindList(ids)]);
  const tagField = `${x.dialect.jsonText("doc", "groupTag")} AS group_tag`;
  const decode = (r: Record<string, unknown>): StoredEntity => ({ id: r.id as string, type: r.odata_type as string, seq: Number(r.seq), doc: typeof r.doc === "string" ? JSON.parse(r.doc) : (r.doc as Record<string, unknown>) });
  const out = new Map<string, TaggedDevice>();
  const unique = [...new Set(azureADDeviceIds.map((d) => d.toLowerCase()))];
  for (let i = 0; i < unique.length; i += 2000) {
    const slice = unique.slice(i, i + 2000);
    for (const d of slice) out.set(d, { azureADDeviceId: d, tag: "" });
    for (const r of await byId(devices, "odata_type, seq, doc", "p_device_id", slice)) out.get(String(r.device_id).toLowerCase())!.entra = decode(r);
    for (const r of await byId(identities, tagField, "p_azure_ad_device_id", slice)) {
      out.get(String(r.device_id).toLowerCase())!.identity = { id: r.id as string, groupTag: r.group_tag == null ? undefined : String(r.group_tag) };
    }
  }
  for (const d of out.values()) d.tag = d.identity ? (d.identity.groupTag ?? "") : (orderIdOf(d.entra) ?? "");
  return out;
}

/**
 * Sets many devices' tags in both places, set-based: identities one statement per distinct tag, Entra devices one
 * multi-row replacement, then their dynamic memberships together and whoever listens to membership changes.
 */
export async function setGroupTags(ctx: GraphContext, tx: SqlExecutor, moves: readonly { device: TaggedDevice; tag: string }[]): Promise<void> {
  const identities = ctx.model.entityType("deviceManagement").navigation.get("windowsAutopilotDeviceIdentities")!.table!;
  const devices = ctx.model.entitySets.get("devices")!.table;
  const byTag = new Map<string, string[]>();
  for (const { device, tag } of moves) {
    if (!device.identity || device.identity.groupTag === tag) continue;
    const ids = byTag.get(tag);
    if (ids) ids.push(device.identity.id);
    else byTag.set(tag, [device.identity.id]);
  }
  for (const [tag, ids] of byTag) await ctx.entities.patchMany(tx, identities, ctx.tenantId, ids, { groupTag: tag });
  const retagged: StoredEntity[] = [];
  for (const { device, tag } of moves) {
    if (!device.entra || orderIdOf(device.entra) === (tag || undefined)) continue;
    const ids = ((device.entra.doc.devicePhysicalIds as string[] | undefined) ?? []).filter((p) => !p.startsWith("[OrderID]:"));
    if (tag !== "") ids.push(`[OrderID]:${tag}`);
    retagged.push({ ...device.entra, doc: { ...device.entra.doc, devicePhysicalIds: ids } });
  }
  await ctx.entities.patchEach(tx, devices, ctx.tenantId, "devicePhysicalIds", retagged.map((d) => ({ id: d.id, value: d.doc.devicePhysicalIds })));
  const dynamic = new DynamicMembership(ctx.model, ctx.entities, new Memberships());
  await notifyMembershipChanges(ctx, tx, await dynamic.reevaluateMembers(tx, ctx.tenantId, "device", retagged, ["devicePhysicalIds"]));
}
