// Status reports of device configurations (spec §3.5): a configuration's deviceStatuses and deviceStatusOverview,
// and a managed device's deviceConfigurationStates. None is a table: navigation providers read them from the
// configuration engine's maintained state (src/graph/configurations/), so they are read-only.

import type { ModelPart } from "./modelPart.js";

const ro = (type: string) => ({ type, readOnly: true });
const count = ro("Edm.Int32");

export const CONFIGURATION_DEVICE_STATUSES_PROVIDER = "deviceConfigurationDeviceStatuses";
export const CONFIGURATION_DEVICE_OVERVIEW_PROVIDER = "deviceConfigurationDeviceOverview";
export const DEVICE_CONFIGURATION_STATES_PROVIDER = "managedDeviceConfigurationStates";

export const configurationReports: ModelPart = {
  enumTypes: [
    { name: "complianceStatus", members: ["unknown", "notApplicable", "compliant", "remediated", "nonCompliant", "error", "conflict", "notAssigned"] },
    { name: "policyPlatformType", members: ["android", "androidForWork", "iOS", "macOS", "windowsPhone81", "windows81AndLater", "windows10AndLater", "androidWorkProfile", "windows10XProfile", "androidAOSP", "all"] },
  ],
  complexTypes: [],
  entityTypes: [
    {
      name: "deviceConfigurationDeviceStatus",
      baseType: "entity",
      flavor: "intune",
      properties: {
        deviceDisplayName: ro("Edm.String"),
        userName: ro("Edm.String"),
        deviceModel: ro("Edm.String"),
        platform: ro("Edm.Int32"),
        complianceGracePeriodExpirationDateTime: ro("Edm.DateTimeOffset"),
        status: ro("complianceStatus"),
        lastReportedDateTime: ro("Edm.DateTimeOffset"),
        userPrincipalName: ro("Edm.String"),
      },
    },
    {
      name: "deviceConfigurationDeviceOverview",
      baseType: "entity",
      flavor: "intune",
      properties: {
        pendingCount: count,
        notApplicableCount: count,
        notApplicablePlatformCount: count,
        successCount: count,
        errorCount: count,
        failedCount: count,
        conflictCount: count,
        lastUpdateDateTime: ro("Edm.DateTimeOffset"),
        configurationVersion: count,
      },
    },
    {
      name: "deviceConfigurationState",
      baseType: "entity",
      flavor: "intune",
      properties: {
        displayName: ro("Edm.String"),
        version: count,
        platformType: ro("policyPlatformType"),
        state: ro("complianceStatus"),
        settingCount: count,
        userId: ro("Edm.String"),
        userPrincipalName: ro("Edm.String"),
      },
    },
  ],
  entitySets: [],
  operations: [],
  navigationsOf: {
    deviceConfiguration: {
      deviceStatuses: { target: "deviceConfigurationDeviceStatus", collection: true, storage: { kind: "provider", provider: CONFIGURATION_DEVICE_STATUSES_PROVIDER }, methods: ["GET"] },
      deviceStatusOverview: { target: "deviceConfigurationDeviceOverview", collection: false, storage: { kind: "provider", provider: CONFIGURATION_DEVICE_OVERVIEW_PROVIDER }, methods: ["GET"] },
    },
    managedDevice: {
      deviceConfigurationStates: { target: "deviceConfigurationState", collection: true, storage: { kind: "provider", provider: DEVICE_CONFIGURATION_STATES_PROVIDER }, methods: ["GET"] },
    },
  },
};
