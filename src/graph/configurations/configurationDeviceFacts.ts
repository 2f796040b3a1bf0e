// The facts the configuration engine needs about managed devices, read for a batch at a time in a few statements:
// the Entra device (linked by azureADDeviceId = deviceId) and its groups, the primary user (userId) with their
// groups and licence, and changeAssignments' per-device removals.
//
// Decisions [I]: Allot models no licences, so a primary user counts as licensed (All licensed users) unless the
// account is disabled; group membership is direct (nested groups are not expanded); Allot has no ConfigMgr
// collections, so a collection target reaches no device.

import type { ConfigurationDeviceFacts } from "../../engine/configurationApplicability.js";
import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import type { SqlExecutor } from "../../store/database.js";
import { propertySql as columnOf } from "../../store/derivedColumns.js";
import type { EntityStore, StoredEntity } from "../../store/entityStore.js";

export interface DeviceWithFacts {
  device: StoredEntity;
  facts: ConfigurationDeviceFacts;
}

/** Removed items kept by changeAssignments in the managed device's document. */
export interface RemovedAssignmentItem {
  itemId: string;
  itemType: string;
}

export function removedConfigurationIds(doc: Record<string, unknown>): Set<string> {
  const items = Array.isArray(doc._removedAssignmentItems) ? (doc._removedAssignmentItems as RemovedAssignmentItem[]) : [];
  return new Set(items.filter((i) => i && i.itemType === "deviceConfiguration").map((i) => String(i.itemId)));
}

export class ConfigurationDeviceFactsReader {
  readonly managedDevices: StorageTable;
  private readonly entraDevices: StorageTable;
  private readonly users: StorageTable;

  constructor(model: CompiledModel, private readonly entities: EntityStore) {
    this.managedDevices = model.entityType("deviceManagement").navigation.get("managedDevices")!.table!;
    this.entraDevices = model.entitySets.get("devices")!.table;
    this.users = model.entitySets.get("users")!.table;
  }

  async read(x: SqlExecutor, tenantId: string, devices: StoredEntity[]): Promise<DeviceWithFacts[]> {
    if (devices.length === 0) return [];
    const d = x.dialect;
    const azureIds = [...new Set(devices.map((m) => String(m.doc.azureADDeviceId ?? "").toLowerCase()).filter((v) => v !== ""))];
    const entraByDeviceId = new Map<string, string>();
    if (azureIds.length) {
      const rows = await x.all(
        // Folded as the column's index is (PostgreSQL: lower(); SQLite: NOCASE), so the lookup uses it.
        `SELECT id, ${columnOf(d, this.entraDevices, "deviceId")} AS device_id FROM ${this.entraDevices.name} WHERE tenant_id = ${d.param(1)} AND ${d.inList(d.foldText(columnOf(d, this.entraDevices, "deviceId")), d.param(2))}`,
        [tenantId, d.bindList(azureIds)],
      );
      for (const r of rows) entraByDeviceId.set(String(r.device_id).toLowerCase(), r.id as string);
    }
    const userIds = [...new Set(devices.map((m) => String(m.doc.userId ?? "")).filter((v) => v !== ""))];
    // Only the licence matters (accountEnabled, read from the row by SQL): documents are not decoded.
    const users = new Map<string, { id: string; enabled: boolean }>();
    if (userIds.length) {
      const enabled = columnOf(d, this.users, "accountEnabled");
      const rows = await x.all(`SELECT id, ${enabled} AS enabled FROM ${this.users.name} WHERE tenant_id = ${d.param(1)} AND ${d.inList("id", d.param(2))}`, [tenantId, d.bindList(userIds)]);
      for (const r of rows) users.set(r.id as string, { id: r.id as string, enabled: r.enabled !== false && r.enabled !== 0 });
    }
    const members = [...entraByDeviceId.values(), ...users.keys()];
    const groupsOf = new Map<string, Set<string>>();
    if (members.length) {
      const rows = await x.all(`SELECT member_id, group_id FROM group_members WHERE tenant_id = ${d.param(1)} AND ${d.inList("member_id", d.param(2))}`, [tenantId, d.bindList(members)]);
      for (const r of rows) {
        const id = r.member_id as string;
        let set = groupsOf.get(id);
        if (!set) groupsOf.set(id, (set = new Set()));
        set.add(r.group_id as string);
      }
    }
    const none = new Set<string>();
    return devices.map((device) => {
      const entra = entraByDeviceId.get(String(device.doc.azureADDeviceId ?? "").toLowerCase());
      const user = users.get(String(device.doc.userId ?? ""));
      return {
        device,
        facts: {
          managedDeviceId: device.id,
          entraDeviceObjectId: entra,
          deviceGroupIds: (entra && groupsOf.get(entra)) || none,
          primaryUser: user ? { id: user.id, groupIds: groupsOf.get(user.id) ?? none, licensed: user.enabled } : undefined,
          configurationManagerCollectionIds: none,
          removedConfigurationIds: removedConfigurationIds(device.doc),
        },
      };
    });
  }

  /**
   * Of these managed devices, those an evaluation could change: the ones holding state rows, and the ones whose Entra
   * device or primary user is one of `directoryObjectIds` or a member of one (a target group or scope tag object).
   * Probes by device through the indexes, so a target group of any size costs nothing more. ConfigMgr collection
   * targets need no probe: `read` gives every device an empty set of collections, so they reach no one.
   */
  async reachable(x: SqlExecutor, tenantId: string, managedDeviceIds: string[], directoryObjectIds: readonly string[]): Promise<Set<string>> {
    const d = x.dialect;
    const out = new Set<string>();
    if (managedDeviceIds.length === 0) return out;
    const withRows = await x.all(
      `SELECT DISTINCT managed_device_id AS id FROM configuration_device_states WHERE tenant_id = ${d.param(1)} AND ${d.inList("managed_device_id", d.param(2))}`,
      [tenantId, d.bindList(managedDeviceIds)],
    );
    for (const r of withRows) out.add(r.id as string);
    if (directoryObjectIds.length === 0) return out;
    const params: unknown[] = [];
    // SQLite's parameters are positional: each use binds its own copy.
    const bind = (v: unknown) => (params.push(v), d.param(params.length));
    const objects = () => bind(d.bindList(directoryObjectIds));
    const md = this.managedDevices;
    const e = this.entraDevices;
    const user = columnOf(d, md, "userId", "md.");
    const memberOf = (memberSql: string) => `EXISTS (SELECT 1 FROM group_members gm WHERE gm.tenant_id = md.tenant_id AND gm.member_id = ${memberSql} AND ${d.inList("gm.group_id", objects())})`;
    const sql = `SELECT md.id FROM ${md.name} md WHERE md.tenant_id = ${bind(tenantId)} AND ${d.inList("md.id", bind(d.bindList(managedDeviceIds)))} AND (
        ${d.inList(user, objects())} OR ${memberOf(user)}
        OR EXISTS (SELECT 1 FROM ${e.name} e WHERE e.tenant_id = md.tenant_id AND ${d.foldText(columnOf(d, e, "deviceId", "e."))} = ${d.foldText(columnOf(d, md, "azureADDeviceId", "md."))}
          AND (${d.inList("e.id", objects())} OR ${memberOf("e.id")})))`;
    for (const r of await x.all(sql, params)) out.add(r.id as string);
    return out;
  }

  /** Managed devices whose Entra device or primary user is one of these directory objects. */
  async managedDevicesOf(x: SqlExecutor, tenantId: string, entraObjectIds: string[], userIds: string[]): Promise<string[]> {
    const d = x.dialect;
    const out = new Set<string>();
    if (entraObjectIds.length) {
      const rows = await x.all(
        `SELECT md.id FROM ${this.managedDevices.name} md JOIN ${this.entraDevices.name} e ON e.tenant_id = md.tenant_id AND ${d.foldText(columnOf(d, this.entraDevices, "deviceId", "e."))} = ${d.foldText(columnOf(d, this.managedDevices, "azureADDeviceId", "md."))}
         WHERE md.tenant_id = ${d.param(1)} AND ${d.inList("e.id", d.param(2))}`,
        [tenantId, d.bindList(entraObjectIds)],
      );
      for (const r of rows) out.add(r.id as string);
    }
    if (userIds.length) {
      const rows = await x.all(`SELECT id FROM ${this.managedDevices.name} WHERE tenant_id = ${d.param(1)} AND ${d.inList(columnOf(d, this.managedDevices, "userId"), d.param(2))}`, [tenantId, d.bindList(userIds)]);
      for (const r of rows) out.add(r.id as string);
    }
    return [...out];
  }

  /** Managed devices that a group (of devices or of users) reaches, set-based. */
  async managedDevicesInGroups(x: SqlExecutor, tenantId: string, groupIds: string[]): Promise<string[]> {
    if (groupIds.length === 0) return [];
    const d = x.dialect;
    const md = this.managedDevices;
    const rows = await x.all(
      `SELECT md.id FROM ${md.name} md WHERE md.tenant_id = ${d.param(1)} AND (
         ${columnOf(d, md, "azureADDeviceId", "md.")} IN (SELECT ${columnOf(d, this.entraDevices, "deviceId", "e.")} FROM ${this.entraDevices.name} e JOIN group_members gm ON gm.tenant_id = e.tenant_id AND gm.member_id = e.id WHERE e.tenant_id = ${d.param(2)} AND ${d.inList("gm.group_id", d.param(3))})
         OR ${columnOf(d, md, "userId", "md.")} IN (SELECT gm.member_id FROM group_members gm WHERE gm.tenant_id = ${d.param(4)} AND ${d.inList("gm.group_id", d.param(5))}))`,
      [tenantId, tenantId, d.bindList(groupIds), tenantId, d.bindList(groupIds)],
    );
    return rows.map((r) => r.id as string);
  }
}
