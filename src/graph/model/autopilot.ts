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

function identityAction(name: string, parameters: Record<string, { type: string; required?: boolean }>) {
  return [
    {
      name,
      kind: "action" as const,
      bindingType: "windowsAutopilotDeviceIdentity",
      bindingCollection: false,
      parameters,
      handler: "autopilotIdentityAction",
      permissions: autopilotPermissions.write,
    },
  ];
}

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
    { name: "windowsAutopilotDeviceType", members: ["windowsPc", "holoLens", "surfaceHub2", "surfaceHub2S", "virtualMachine", "unknownFutureValue"] },
    { name: "windowsUserType", members: ["administrator", "standard", "unknownFutureValue"] },
    { name: "windowsDeviceUsageType", members: ["singleUser", "shared", "unknownFutureValue"] },
    { name: "deletedWindowsAutopilotDeviceState", members: ["unknown", "failed", "accepted", "error"] },
  ],
  complexTypes: [
    {
      name: "outOfBoxExperienceSetting",
      properties: {
        privacySettingsHidden: { type: "Edm.Boolean", default: false },
        eulaHidden: { type: "Edm.Boolean", default: false },
        userType: { type: "windowsUserType", default: "administrator" },
        deviceUsageType: { type: "windowsDeviceUsageType", default: "singleUser" },
        keyboardSelectionPageSkipped: { type: "Edm.Boolean", default: false },
        escapeLinkHidden: { type: "Edm.Boolean", default: false },
      },
    },
    {
      // The deprecated twin of outOfBoxExperienceSetting, kept in sync with it.
      name: "outOfBoxExperienceSettings",
      properties: {
        hidePrivacySettings: { type: "Edm.Boolean" },
        hideEULA: { type: "Edm.Boolean" },
        userType: { type: "windowsUserType" },
        deviceUsageType: { type: "windowsDeviceUsageType" },
        skipKeyboardSelectionPage: { type: "Edm.Boolean" },
        hideEscapeLink: { type: "Edm.Boolean" },
      },
    },
    {
      name: "windowsEnrollmentStatusScreenSettings",
      properties: {
        hideInstallationProgress: { type: "Edm.Boolean" },
        allowDeviceUseBeforeProfileAndAppInstallComplete: { type: "Edm.Boolean" },
        blockDeviceSetupRetryByUser: { type: "Edm.Boolean" },
        allowLogCollectionOnInstallFailure: { type: "Edm.Boolean" },
        customErrorMessage: { type: "Edm.String" },
        installProgressTimeoutInMinutes: { type: "Edm.Int32" },
        allowDeviceUseOnInstallFailure: { type: "Edm.Boolean" },
      },
    },
    { name: "deletedWindowsAutopilotDeviceState", properties: { serialNumber: text, deviceRegistrationId: text, deletionState: { type: "deletedWindowsAutopilotDeviceState" }, errorMessage: text } },
    { name: "hasPayloadLinkResultItem", properties: { payloadId: text, hasLink: { type: "Edm.Boolean" }, error: text, sources: { type: "deviceAndAppManagementAssignmentSource", collection: true } } },
  ],
  entityTypes: [
    {
      name: "windowsAutopilotDeploymentProfile",
      baseType: "entity",
      abstract: true,
      flavor: "intune",
      audit: { category: "Enrollment", component: "Enrollment" },
      properties: {
        // displayName supports $select/$top/$skip/$orderby but not $filter (spec §2.1).
        displayName: { type: "Edm.String", maxLength: 200, required: true, sortable: true },
        description: { type: "Edm.String", maxLength: 1500 },
        language: { type: "Edm.String", default: "os-default" },
        locale: { type: "Edm.String", default: "os-default" },
        createdDateTime: ro("Edm.DateTimeOffset", { sortable: true }),
        lastModifiedDateTime: ro("Edm.DateTimeOffset", { sortable: true }),
        outOfBoxExperienceSettings: { type: "outOfBoxExperienceSettings" },
        outOfBoxExperienceSetting: { type: "outOfBoxExperienceSetting" },
        enrollmentStatusScreenSettings: { type: "windowsEnrollmentStatusScreenSettings" },
        extractHardwareHash: { type: "Edm.Boolean", default: false },
        hardwareHashExtractionEnabled: { type: "Edm.Boolean", default: false },
        deviceNameTemplate: { type: "Edm.String" },
        deviceType: { type: "windowsAutopilotDeviceType", default: "windowsPc" },
        enableWhiteGlove: { type: "Edm.Boolean", default: false },
        preprovisioningAllowed: { type: "Edm.Boolean", default: false },
        roleScopeTagIds: { type: "Edm.String", collection: true, default: ["0"] },
        managementServiceAppId: { type: "Edm.String" },
      },
      navigation: {
        assignments: { target: "windowsAutopilotDeploymentProfileAssignment", collection: true, storage: { kind: "contained" } },
        assignedDevices: { target: "windowsAutopilotDeviceIdentity", collection: true, storage: { kind: "provider", provider: "autopilotAssignedDevices" } },
      },
    },
    { name: "azureADWindowsAutopilotDeploymentProfile", baseType: "windowsAutopilotDeploymentProfile", properties: {} },
    {
      name: "activeDirectoryWindowsAutopilotDeploymentProfile",
      baseType: "windowsAutopilotDeploymentProfile",
      properties: { hybridAzureADJoinSkipConnectivityCheck: { type: "Edm.Boolean", default: false } },
    },
    {
      name: "windowsAutopilotDeploymentProfileAssignment",
      baseType: "entity",
      flavor: "intune",
      audit: { category: "Enrollment", component: "Enrollment" },
      properties: {
        target: { type: "deviceAndAppManagementAssignmentTarget", required: true },
        source: ro("deviceAndAppManagementAssignmentSource", { default: "direct" }),
        sourceId: ro("Edm.String"),
      },
    },
    {
      name: "windowsAutopilotDeviceIdentity",
      baseType: "entity",
      flavor: "intune",
      // The mark of the change that last marked or settled the identity (src/graph/autopilot/outstandingScopes.ts).
      bookkeepingColumns: ["_markSeq"],
      audit: { category: "Enrollment", component: "Enrollment" },
      properties: {
        deploymentProfileAssignmentStatus: ro("windowsAutopilotProfileAssignmentStatus", { filterable: true, indexed: false, stored: true }),
        deploymentProfileAssignmentDetailedStatus: ro("windowsAutopilotProfileAssignmentDetailedStatus"),
        deploymentProfileAssignedDateTime: ro("Edm.DateTimeOffset"),
        groupTag: { ...text, filterable: true },
        purchaseOrderIdentifier: text,
        // Observed: contains(serialNumber, …) works, while eq on serialNumber is refused (spec §2.4 [O]).
        serialNumber: { ...text, filterable: true, filterOperators: ["contains", "startswith", "endswith"] },
        productKey: text,
        manufacturer: { ...text, filterable: true, indexed: false },
        model: { ...text, filterable: true, indexed: false },
        enrollmentState: ro("enrollmentState", { filterable: true, indexed: false }),
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
      navigation: {
        deploymentProfile: { target: "windowsAutopilotDeploymentProfile", collection: false, storage: { kind: "provider", provider: "autopilotDeploymentProfile" } },
        intendedDeploymentProfile: { target: "windowsAutopilotDeploymentProfile", collection: false, storage: { kind: "provider", provider: "autopilotIntendedDeploymentProfile" } },
      },
    },
  ],
  entitySets: [],
  operations: [
    { name: "assign", kind: "action", bindingType: "windowsAutopilotDeploymentProfile", bindingCollection: false, parameters: { deviceIds: { type: "Edm.String", collection: true, required: true } }, handler: "autopilotAssign", permissions: autopilotPermissions.write },
    {
      name: "hasPayloadLinks",
      kind: "action",
      bindingType: "windowsAutopilotDeploymentProfile",
      bindingCollection: true,
      parameters: { payloadIds: { type: "Edm.String", collection: true, required: true } },
      returns: { type: "hasPayloadLinkResultItem", collection: true },
      handler: "hasPayloadLinks",
      permissions: autopilotPermissions.read,
      readOnly: true,
    },
    {
      name: "deleteDevices",
      kind: "action",
      bindingType: "windowsAutopilotDeviceIdentity",
      bindingCollection: true,
      parameters: { serialNumbers: { type: "Edm.String", collection: true, required: true } },
      returns: { type: "deletedWindowsAutopilotDeviceState", collection: true },
      handler: "autopilotDeleteDevices",
      permissions: autopilotPermissions.write,
    },
    ...identityAction("assignUserToDevice", { userPrincipalName: { type: "Edm.String", required: true }, addressableUserName: { type: "Edm.String" } }),
    ...identityAction("unassignUserFromDevice", {}),
    ...identityAction("updateDeviceProperties", {
      userPrincipalName: { type: "Edm.String" },
      addressableUserName: { type: "Edm.String" },
      groupTag: { type: "Edm.String" },
      displayName: { type: "Edm.String" },
      deviceAccountUpn: { type: "Edm.String" },
      deviceAccountPassword: { type: "Edm.String" },
      deviceFriendlyName: { type: "Edm.String" },
    }),
    ...identityAction("assignResourceAccountToDevice", { userPrincipalName: { type: "Edm.String" }, addressableUserName: { type: "Edm.String" }, resourceAccountName: { type: "Edm.String", required: true } }),
    ...identityAction("unassignResourceAccountFromDevice", {}),
    ...identityAction("allowNextEnrollment", {}),
  ],
  deviceManagement: {
    windowsAutopilotDeploymentProfiles: {
      target: "windowsAutopilotDeploymentProfile",
      collection: true,
      storage: { kind: "contained" },
      permissions: autopilotPermissions,
    },
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
