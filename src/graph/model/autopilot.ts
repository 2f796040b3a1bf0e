// Windows Autopilot device identities (spec §2.4). Deployment profiles, assignments and the identity actions
// arrive with the Autopilot issue; enrollment (POST /_allot/devices) already registers identities here.

import { anyOf } from "./permissions.js";
import type { ModelPart } from "./modelPart.js";

const ro = (type: string, extra: object = {}) => ({ type, readOnly: true, ...extra });
const text = { type: "Edm.String" } as const;

/** 2024 pages also accept DeviceManagementConfiguration.* for Autopilot (spec §2.10). */
export const autopilotPermissions = {
  read: anyOf([
    "DeviceManagementServiceConfig.Read.All",
    "DeviceManagementServiceConfig.ReadWrite.All",
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All",
  ]),
  write: anyOf(["DeviceManagementServiceConfig.ReadWrite.All", "DeviceManagementConfiguration.ReadWrite.All"]),
};

export const autopilot: ModelPart = {
  enumTypes: [
    {
      name: "windowsAutopilotProfileAssignmentStatus",
      // "assignedUnkownSyncState" is the API's own spelling.
      members: ["unknown", "assignedInSync", "assignedOutOfSync", "assignedUnkownSyncState", "notAssigned", "pending", "failed"],
    },
    {
      name: "windowsAutopilotProfileAssignmentDetailedStatus",
      members: ["none", "hardwareRequirementsNotMet", "surfaceHubProfileNotSupported", "holoLensProfileNotSupported", "windowsPcProfileNotSupported", "surfaceHub2SProfileNotSupported", "unknownFutureValue"],
    },
    { name: "enrollmentState", members: ["unknown", "enrolled", "pendingReset", "failed", "notContacted", "blocked"] },
    { name: "windowsAutopilotDeviceRemediationState", members: ["unknown", "noRemediationRequired", "automaticRemediationRequired", "manualRemediationRequired", "unknownFutureValue"] },
    { name: "windowsAutopilotUserlessEnrollmentStatus", members: ["unknown", "allowed", "blocked", "unknownFutureValue"] },
  ],
  complexTypes: [],
  entityTypes: [
    {
      name: "windowsAutopilotDeviceIdentity",
      baseType: "entity",
      flavor: "intune",
      audit: { category: "Enrollment", component: "Enrollment" },
      properties: {
        deploymentProfileAssignmentStatus: ro("windowsAutopilotProfileAssignmentStatus", { filterable: true }),
        deploymentProfileAssignmentDetailedStatus: ro("windowsAutopilotProfileAssignmentDetailedStatus"),
        deploymentProfileAssignedDateTime: ro("Edm.DateTimeOffset"),
        groupTag: { ...text, filterable: true },
        purchaseOrderIdentifier: text,
        // Observed: contains(serialNumber, …) works, while eq on serialNumber is refused (spec §2.4 [O]).
        serialNumber: { ...text, filterable: true },
        productKey: text,
        manufacturer: { ...text, filterable: true },
        model: { ...text, filterable: true },
        enrollmentState: ro("enrollmentState", { filterable: true }),
        lastContactedDateTime: ro("Edm.DateTimeOffset"),
        addressableUserName: text,
        userPrincipalName: { ...text, filterable: true },
        resourceName: text,
        skuNumber: text,
        systemFamily: text,
        azureActiveDirectoryDeviceId: ro("Edm.String"),
        azureAdDeviceId: ro("Edm.String", { filterable: true }),
        managedDeviceId: ro("Edm.String"),
        displayName: text,
        deviceAccountUpn: text,
        deviceAccountPassword: { type: "Edm.String", writeOnly: true },
        deviceFriendlyName: text,
        remediationState: ro("windowsAutopilotDeviceRemediationState"),
        remediationStateLastModifiedDateTime: ro("Edm.DateTimeOffset"),
        userlessEnrollmentStatus: ro("windowsAutopilotUserlessEnrollmentStatus"),
      },
    },
  ],
  entitySets: [],
  operations: [],
  deviceManagement: {
    // No PATCH: property changes go through updateDeviceProperties (spec §2.4).
    windowsAutopilotDeviceIdentities: {
      target: "windowsAutopilotDeviceIdentity",
      collection: true,
      storage: { kind: "contained" },
      permissions: autopilotPermissions,
      methods: ["GET", "POST", "DELETE"],
    },
  },
};
