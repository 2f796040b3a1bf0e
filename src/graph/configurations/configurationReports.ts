// The report navigations of spec §3.5, read from the maintained state (never recomputed): a configuration's
// deviceStatuses (one per device it is assigned to) and deviceStatusOverview (the maintained counts), and a
// managed device's deviceConfigurationStates.

import { configurationPlatform, platformNumber, reportedComplianceStatus, type ConfigurationDeviceStatus } from "../../engine/configurationStatus.js";
import type { SqlExecutor } from "../../store/database.js";
import type { StoredEntity } from "../../store/entityStore.js";
import type { GraphContext, NavigationProvider, ProvidedEntity } from "../graphContext.js";
import { CONFIGURATION_DEVICE_OVERVIEW_PROVIDER, CONFIGURATION_DEVICE_STATUSES_PROVIDER, DEVICE_CONFIGURATION_STATES_PROVIDER } from "../model/configurationReports.js";
import type { ConfigurationStates } from "./configurationStates.js";

/** deviceConfigurationDeviceStatus ids are `{configurationId}_{managedDeviceId}`. */
const statusId = (configurationId: string, deviceId: string) => `${configurationId}_${deviceId}`;

const NEVER = "9999-12-31T23:59:59Z";

const POLICY_PLATFORM: Record<string, string> = { windows: "windows10AndLater", windowsPhone: "windowsPhone81", iOS: "iOS", macOS: "macOS", android: "android" };

export function policyPlatformType(configurationType: string): string {
  if (/^windows81/i.test(configurationType)) return "windows81AndLater";
  const family = configurationPlatform(configurationType);
  return family ? POLICY_PLATFORM[family] : "all";
}

interface StateRecord {
  configurationId: string;
  deviceId: string;
  status: ConfigurationDeviceStatus;
  reportedAt: string;
}

const toRecord = (r: Record<string, unknown>): StateRecord => ({
  configurationId: r.configuration_id as string,
  deviceId: r.managed_device_id as string,
  status: r.status as ConfigurationDeviceStatus,
  reportedAt: r.reported_at as string,
});

export function configurationReportProviders(states: ConfigurationStates): Record<string, NavigationProvider> {
  const devices = states.facts.managedDevices;
  const configurations = states.tables.configurations;

  const deviceStatus = (ctx: GraphContext, row: StateRecord, device: StoredEntity | undefined): ProvidedEntity => ({
    type: ctx.model.entityType("deviceConfigurationDeviceStatus"),
    entity: {
      id: statusId(row.configurationId, row.deviceId),
      type: "deviceConfigurationDeviceStatus",
      seq: 0,
      doc: {
        deviceDisplayName: device?.doc.deviceName ?? null,
        userName: device?.doc.userDisplayName ?? null,
        deviceModel: device?.doc.model ?? null,
        platform: platformNumber(device?.doc.operatingSystem as string | undefined),
        complianceGracePeriodExpirationDateTime: NEVER,
        status: reportedComplianceStatus(row.status),
        lastReportedDateTime: row.reportedAt,
        userPrincipalName: device?.doc.userPrincipalName ?? null,
      },
    },
  });

  const rowsFor = async (x: SqlExecutor, tenantId: string, column: "configuration_id" | "managed_device_id", id: string, page: { top: number; offset: number }) => {
    const p = (n: number) => x.dialect.param(n);
    const order = column === "configuration_id" ? "managed_device_id" : "configuration_id";
    const rows = await x.all(
      `SELECT configuration_id, managed_device_id, status, reported_at FROM configuration_device_states WHERE tenant_id = ${p(1)} AND ${column} = ${p(2)} ORDER BY ${order} LIMIT ${p(3)} OFFSET ${p(4)}`,
      [tenantId, id, page.top + 1, page.offset],
    );
    return rows.map(toRecord);
  };
  const countFor = async (x: SqlExecutor, tenantId: string, column: string, id: string) => {
    const [r] = await x.all(`SELECT COUNT(*) AS n FROM configuration_device_states WHERE tenant_id = ${x.dialect.param(1)} AND ${column} = ${x.dialect.param(2)}`, [tenantId, id]);
    return Number(r.n);
  };
  const oneRow = async (x: SqlExecutor, tenantId: string, configurationId: string, deviceId: string) => {
    const p = (n: number) => x.dialect.param(n);
    const [r] = await x.all(`SELECT configuration_id, managed_device_id, status, reported_at FROM configuration_device_states WHERE tenant_id = ${p(1)} AND configuration_id = ${p(2)} AND managed_device_id = ${p(3)}`, [tenantId, configurationId, deviceId]);
    return r ? toRecord(r) : undefined;
  };

  const configurationState = (ctx: GraphContext, row: StateRecord, configuration: StoredEntity, device: StoredEntity): ProvidedEntity => {
    const base = ctx.model.entityType("deviceConfiguration").properties;
    const settingCount = Array.isArray(configuration.doc.omaSettings)
      ? configuration.doc.omaSettings.length
      : Object.entries(configuration.doc).filter(([k, v]) => !k.startsWith("_") && !base.has(k) && k !== "id" && v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)).length;
    return {
      type: ctx.model.entityType("deviceConfigurationState"),
      entity: {
        id: configuration.id,
        type: "deviceConfigurationState",
        seq: 0,
        doc: {
          displayName: configuration.doc.displayName ?? null,
          version: Number(configuration.doc.version ?? 1),
          platformType: policyPlatformType(configuration.type),
          state: reportedComplianceStatus(row.status),
          settingCount,
          userId: device.doc.userId ?? null,
          userPrincipalName: device.doc.userPrincipalName ?? null,
        },
      },
    };
  };

  return {
    [CONFIGURATION_DEVICE_STATUSES_PROVIDER]: {
      async list(ctx, x, configuration, page) {
        const rows = await rowsFor(x, ctx.tenantId, "configuration_id", configuration.id, page);
        const shown = rows.slice(0, page.top);
        const found = await ctx.entities.getMany(x, devices, ctx.tenantId, shown.map((r) => r.deviceId));
        return {
          items: shown.map((r) => deviceStatus(ctx, r, found.get(r.deviceId))),
          count: page.count ? await countFor(x, ctx.tenantId, "configuration_id", configuration.id) : undefined,
          hasMore: rows.length > page.top,
        };
      },
      async get(ctx, x, configuration, id) {
        const prefix = `${configuration.id}_`;
        if (!id.startsWith(prefix)) return undefined;
        const row = await oneRow(x, ctx.tenantId, configuration.id, id.slice(prefix.length));
        return row ? deviceStatus(ctx, row, await ctx.entities.get(x, devices, ctx.tenantId, row.deviceId)) : undefined;
      },
    },
    [CONFIGURATION_DEVICE_OVERVIEW_PROVIDER]: {
      async single(ctx, x, configuration) {
        const p = (n: number) => x.dialect.param(n);
        const [c] = await x.all(`SELECT * FROM configuration_status_counts WHERE tenant_id = ${p(1)} AND configuration_id = ${p(2)}`, [ctx.tenantId, configuration.id]);
        const n = (column: string) => (c ? Number(c[column]) : 0);
        return {
          type: ctx.model.entityType("deviceConfigurationDeviceOverview"),
          entity: {
            id: `${configuration.id}_overview`,
            type: "deviceConfigurationDeviceOverview",
            seq: 0,
            doc: {
              pendingCount: n("pending_count"),
              notApplicableCount: n("not_applicable_count"),
              // Every notApplicable status Allot produces is a platform mismatch.
              notApplicablePlatformCount: n("not_applicable_count"),
              successCount: n("success_count"),
              errorCount: n("error_count"),
              failedCount: 0,
              conflictCount: n("conflict_count"),
              lastUpdateDateTime: c ? (c.last_update as string) : (configuration.doc.lastModifiedDateTime ?? null),
              configurationVersion: Number(configuration.doc.version ?? 1),
            },
          },
        };
      },
      async list() {
        throw new Error("single-valued navigation");
      },
      async get() {
        return undefined;
      },
    },
    [DEVICE_CONFIGURATION_STATES_PROVIDER]: {
      async list(ctx, x, device, page) {
        const rows = await rowsFor(x, ctx.tenantId, "managed_device_id", device.id, page);
        const shown = rows.slice(0, page.top);
        const found = await ctx.entities.getMany(x, configurations, ctx.tenantId, shown.map((r) => r.configurationId));
        return {
          items: shown.filter((r) => found.has(r.configurationId)).map((r) => configurationState(ctx, r, found.get(r.configurationId)!, device)),
          count: page.count ? await countFor(x, ctx.tenantId, "managed_device_id", device.id) : undefined,
          hasMore: rows.length > page.top,
        };
      },
      async get(ctx, x, device, id) {
        const row = await oneRow(x, ctx.tenantId, id, device.id);
        const configuration = row && (await ctx.entities.get(x, configurations, ctx.tenantId, id));
        return row && configuration ? configurationState(ctx, row, configuration, device) : undefined;
      },
    },
  };
}
