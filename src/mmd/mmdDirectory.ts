// MMD's views of the devices and users Graph serves (spec §1.5, §1.6): one managed device (with its Entra device,
// Autopilot identity and groups) becomes an MMD Device; a directory user with the devices they use, an MMD User.

import type { StorageTable } from "../odata/compiledModel.js";
import type { SqlExecutor } from "../store/database.js";
import { propertySql } from "../store/derivedColumns.js";
import type { StoredEntity } from "../store/entityStore.js";
import type { GraphContext } from "../graph/graphContext.js";
import { loadDirectoryObjects } from "../graph/directory/directoryObjects.js";
import { personaOfTag } from "./personas.js";
import { devicesInFlight } from "./reassignmentsInFlight.js";
import { deviceProfilesOf, type DeviceProfile } from "./deviceProfiles.js";

export interface Page {
  top?: number;
  skip?: number;
  searchText?: string;
}

const COMPLIANCE: Record<string, string> = { compliant: "Compliant", noncompliant: "NonCompliant" };
const monthsSince = (iso: unknown, now: Date) => (typeof iso === "string" && !iso.startsWith("0001") ? Math.round(((now.getTime() - Date.parse(iso)) / (30.4375 * 86_400_000)) * 100) / 100 : 0);
const tables = (ctx: GraphContext) => ({
  managed: ctx.model.entityType("deviceManagement").navigation.get("managedDevices")!.table!,
  entra: ctx.model.entitySets.get("devices")!.table,
  identities: ctx.model.entityType("deviceManagement").navigation.get("windowsAutopilotDeviceIdentities")!.table!,
  users: ctx.model.entitySets.get("users")!.table,
});

/**
 * The MMD device of a managed device. `groups` and `configurations` are filled only for a single device. A device
 * named by a reassignment still pending (`inFlight`) is InProgress, whatever its document says.
 */
async function deviceView(ctx: GraphContext, x: SqlExecutor, managed: StoredEntity, detailed: boolean, inFlight: Set<string>, profile: Partial<DeviceProfile> | undefined) {
  const t = tables(ctx);
  const d = managed.doc;
  const aad = String(d.azureADDeviceId ?? "");
  const p = (n: number) => x.dialect.param(n);
  const [identity] = await x.all(`SELECT doc FROM ${t.identities.name} WHERE tenant_id = ${p(1)} AND p_azure_ad_device_id = ${p(2)}`, [ctx.tenantId, aad]);
  const [entra] = await x.all(`SELECT id, doc FROM ${t.entra.name} WHERE tenant_id = ${p(1)} AND p_device_id = ${p(2)}`, [ctx.tenantId, aad]);
  const parse = (r: Record<string, unknown> | undefined) => (r ? (typeof r.doc === "string" ? JSON.parse(r.doc) : r.doc) : undefined);
  const entraDoc = parse(entra);
  const tag = parse(identity)?.groupTag ?? ((entraDoc?.devicePhysicalIds as string[] | undefined) ?? []).find((i) => i.startsWith("[OrderID]:"))?.slice(10);
  let groups: unknown[] = [];
  if (detailed && entra) {
    const rows = await x.all(`SELECT group_id FROM group_members WHERE tenant_id = ${p(1)} AND member_id = ${p(2)} ORDER BY seq`, [ctx.tenantId, entra.id]);
    const loaded = await loadDirectoryObjects(ctx, x, rows.map((r) => ({ id: r.group_id as string, kind: "group" as const })));
    groups = [];
    for (const g of loaded) {
      const [count] = await x.all(`SELECT COUNT(*) AS n FROM group_members WHERE tenant_id = ${p(1)} AND group_id = ${p(2)}`, [ctx.tenantId, g.entity.id]);
      groups.push({ id: g.entity.id, displayName: g.entity.doc.displayName, description: g.entity.doc.description ?? null, countMembers: Number(count.n) });
    }
  }
  return {
    name: d.deviceName ?? "",
    intuneId: managed.id,
    manufacturer: d.manufacturer ?? null,
    model: d.model ?? null,
    serialNumber: d.serialNumber ?? null,
    globalDeviceId: `g:${managed.id.replace(/-/g, "").slice(0, 16)}`,
    enrolledIntoIntuneDateTimeUtc: d.enrolledDateTime ?? null,
    tenantId: ctx.tenantId,
    tenantName: null,
    assignedUser: d.userDisplayName ?? null,
    userUpn: d.userPrincipalName ?? null,
    userEmail: d.emailAddress ?? null,
    complianceState: COMPLIANCE[String(d.complianceState)] ?? "Unknown",
    osVersion: d.osVersion ?? null,
    primaryUpdateRing: "Broad",
    lastIntuneSyncDateTimeUtc: d.lastSyncDateTime ?? null,
    ageInMonths: monthsSince(d.enrolledDateTime, ctx.clock.now()),
    planType: "Premium",
    persona: profile?.persona ?? personaOfTag(tag) ?? null,
    aadDeviceId: aad,
    managementAgent: "Intune",
    operatingSystemEdition: d.skuFamily ?? "Enterprise",
    profileAssignmentStatus: inFlight.has(managed.id) ? "InProgress" : (profile?.status ?? (personaOfTag(tag) ? "Successful" : null)),
    groups,
    configurations: [],
  };
}

/** `$searchText` over name, serialNumber, userUpn and userEmail (globalDeviceId derives from the id). */
/** A substring match on any of the properties' columns; one bound value per use, as SQLite's `?` is positional. */
function anyColumnContains(x: SqlExecutor, table: StorageTable, properties: string[], text: string | undefined) {
  if (!text) return undefined;
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const columns = properties.map((p) => propertySql(x.dialect, table, p));
  return (params: unknown[]) => columns.map((c) => (params.push(pattern), x.dialect.likeText(c, x.dialect.param(params.length)))).join(" OR ");
}

export async function listMmdDevices(ctx: GraphContext, x: SqlExecutor, page: Page) {
  const t = tables(ctx);
  const { rows } = await ctx.entities.list(x, t.managed, { tenantId: ctx.tenantId, where: anyColumnContains(x, t.managed, ["deviceName", "serialNumber", "userPrincipalName", "emailAddress"], page.searchText), orderBy: [], top: page.top ?? 1_000_000, skip: page.skip ?? 0, count: false });
  const inFlight = await devicesInFlight(x, ctx.tenantId);
  const profiles = await deviceProfilesOf(x, ctx.tenantId, rows);
  const out = [];
  for (const r of rows) out.push(await deviceView(ctx, x, r, false, inFlight, profiles.get(r.id)));
  return out;
}

export async function mmdDeviceByName(ctx: GraphContext, x: SqlExecutor, name: string) {
  const t = tables(ctx);
  const [device] = await ctx.entities.findBy(x, t.managed, ctx.tenantId, "deviceName", name);
  return device ? deviceView(ctx, x, device, true, await devicesInFlight(x, ctx.tenantId), (await deviceProfilesOf(x, ctx.tenantId, [device])).get(device.id)) : undefined;
}

async function userView(ctx: GraphContext, x: SqlExecutor, user: StoredEntity) {
  const t = tables(ctx);
  const upn = String(user.doc.userPrincipalName ?? "");
  const rows = await ctx.entities.findBy(x, t.managed, ctx.tenantId, "userPrincipalName", upn, 1000);
  return {
    name: user.doc.displayName ?? null,
    upn,
    email: user.doc.mail ?? null,
    groups: [],
    devices: rows.map((d) => ({ serialNumber: d.doc.serialNumber ?? null, name: d.doc.deviceName ?? null, model: d.doc.model ?? null, ring: "Broad", lastIntuneSyncTime: d.doc.lastSyncDateTime ?? null })),
  };
}

export async function listMmdUsers(ctx: GraphContext, x: SqlExecutor, page: Page) {
  const t = tables(ctx);
  const where = anyColumnContains(x, t.users, ["displayName", "userPrincipalName", "mail"], page.searchText);
  const { rows } = await ctx.entities.list(x, t.users, { tenantId: ctx.tenantId, where, orderBy: [], top: page.top ?? 1_000_000, skip: page.skip ?? 0, count: false });
  const out = [];
  for (const r of rows) out.push(await userView(ctx, x, r));
  return out;
}

export async function mmdUserByUpn(ctx: GraphContext, x: SqlExecutor, upn: string) {
  const t = tables(ctx);
  const [user] = await ctx.entities.findBy(x, t.users, ctx.tenantId, "userPrincipalName", upn);
  return user ? userView(ctx, x, user) : undefined;
}
