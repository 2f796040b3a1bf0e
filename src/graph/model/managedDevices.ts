// Intune managed devices (spec §2.5): deviceManagement/managedDevices and its comanagedDevices alias, the device
// action results, the actions wipe, retire and syncDevice, and changeAssignments (per-device removal and
// restoration of assigned items), declared once here so every path that reaches a managed device offers it.

import { anyOf, areaPermissions } from "./permissions.js";
import type { ModelPart } from "./modelPart.js";

const ro = (type: string, extra: object = {}) => ({ type, readOnly: true, ...extra });
const roFilter = (type: string) => ro(type, { filterable: true, sortable: true });
/** Filterable and sortable from a column without an index: enums, flags and descriptive texts (see `indexed`). */
const roFilterUnindexed = (type: string) => ro(type, { filterable: true, sortable: true, indexed: false });
const devices = areaPermissions("DeviceManagementManagedDevices");
/** Remote actions need the privileged permission (spelled as Graph's permission reference spells it). */
const privileged = anyOf(["DeviceManagementManagedDevices.PrivilegedOperations.All"]);
/**
 * changeAssignments: the doc lists only the two Read.All permissions for this mutating POST (spec §2.5, §5.9).
 * Allot accepts those as documented, and the ReadWrite.All of the same two areas too (docs/decisions.md).
 */
const changeAssignmentsPermissions = anyOf([
  "DeviceManagementConfiguration.Read.All",
  "DeviceManagementManagedDevices.Read.All",
  "DeviceManagementConfiguration.ReadWrite.All",
  "DeviceManagementManagedDevices.ReadWrite.All",
]);
/** Navigations from a device that only read. */
const readDevices = { read: devices.read, write: anyOf([]) };

export const managedDevices: ModelPart = {
  enumTypes: [
    { name: "complianceState", members: ["unknown", "compliant", "noncompliant", "conflict", "error", "inGracePeriod", "configManager"] },
    {
      name: "managementAgentType",
      members: ["eas", "mdm", "easMdm", "intuneClient", "easIntuneClient", "configurationManagerClient", "configurationManagerClientMdm", "configurationManagerClientMdmEas", "unknown", "jamf", "googleCloudDevicePolicyController", "microsoft365ManagedMdm", "msSense", "intuneAosp", "google", "unknownFutureValue"],
    },
    {
      name: "managementState",
      members: ["managed", "retirePending", "retireFailed", "wipePending", "wipeFailed", "unhealthy", "deletePending", "retireIssued", "wipeIssued", "wipeCanceled", "retireCanceled", "discovered", "unknownFutureValue"],
    },
    { name: "ownerType", members: ["unknown", "company", "personal"] },
    { name: "managedDeviceOwnerType", members: ["unknown", "company", "personal", "unknownFutureValue"] },
    {
      name: "deviceEnrollmentType",
      members: ["unknown", "userEnrollment", "deviceEnrollmentManager", "appleBulkWithUser", "appleBulkWithoutUser", "windowsAzureADJoin", "windowsBulkUserless", "windowsAutoEnrollment", "windowsBulkAzureDomainJoin", "windowsCoManagement", "windowsAzureADJoinUsingDeviceAuth", "appleUserEnrollment", "appleUserEnrollmentWithServiceAccount", "unknownFutureValue"],
    },
    { name: "joinType", members: ["unknown", "azureADJoined", "azureADRegistered", "hybridAzureADJoined", "unknownFutureValue"] },
    { name: "managedDeviceArchitecture", members: ["unknown", "x86", "x64", "arm", "arM64", "unknownFutureValue"] },
    { name: "managedDeviceManagementFeatures", members: ["none", "microsoftManagedDesktop", "unknownFutureValue"] },
    { name: "actionState", members: ["none", "pending", "canceled", "active", "done", "failed", "notSupported"] },
    { name: "deviceRegistrationState", members: ["notRegistered", "registered", "revoked", "keyConflict", "approvalPending", "certificateReset", "notRegisteredPendingEnrollment", "unknown"] },
    { name: "deviceAssignmentItemType", members: ["application", "deviceConfiguration", "deviceManagementConfigurationPolicy", "mobileAppConfiguration", "unknownFutureValue"] },
    { name: "deviceAssignmentItemIntent", members: ["remove", "restore", "unknownFutureValue"] },
    { name: "deviceAssignmentItemStatus", members: ["initiated", "inProgress", "removed", "error", "succeeded", "unknownFutureValue"] },
    { name: "deviceType", members: ["desktop", "windowsRT", "winMO6", "nokia", "windowsPhone", "mac", "winCE", "winEmbedded", "iPhone", "iPad", "iPod", "android", "iSocConsumer", "unix", "macMDM", "holoLens", "surfaceHub", "androidForWork", "androidEnterprise", "windows10x", "androidnGMS", "chromeOS", "linux", "blackberry", "palm", "unknown", "cloudPC"] },
  ],
  complexTypes: [
    {
      name: "deviceActionResult",
      properties: {
        actionName: { type: "Edm.String" },
        actionState: { type: "actionState" },
        startDateTime: { type: "Edm.DateTimeOffset" },
        lastUpdatedDateTime: { type: "Edm.DateTimeOffset" },
      },
    },
    {
      // In a request only itemId and itemType count; the rest is the result's live reporting (ignored in bodies).
      name: "deviceAssignmentItem",
      properties: {
        itemId: { type: "Edm.String", required: true, maxLength: 40 },
        itemType: { type: "deviceAssignmentItemType", required: true },
        itemSubTypeDisplayName: { type: "Edm.String", readOnly: true, maxLength: 200 },
        itemDisplayName: { type: "Edm.String", readOnly: true, maxLength: 200 },
        assignmentItemActionIntent: { type: "deviceAssignmentItemIntent" },
        assignmentItemActionStatus: { type: "deviceAssignmentItemStatus", readOnly: true },
        intentActionMessage: { type: "Edm.String", readOnly: true, maxLength: 1500 },
        errorCode: { type: "Edm.Int64", readOnly: true },
        lastActionDateTime: { type: "Edm.DateTimeOffset", readOnly: true },
        lastModifiedDateTime: { type: "Edm.DateTimeOffset", readOnly: true },
      },
    },
    {
      name: "changeAssignmentsActionResult",
      baseType: "deviceActionResult",
      properties: { deviceAssignmentItems: { type: "deviceAssignmentItem", collection: true, readOnly: true } },
    },
  ],
  entityTypes: [
    {
      name: "managedDevice",
      baseType: "entity",
      flavor: "intune",
      audit: { category: "Device", component: "DeviceManagement" },
      properties: {
        userId: roFilter("Edm.String"),
        deviceName: roFilter("Edm.String"),
        managedDeviceName: ro("Edm.String"),
        operatingSystem: roFilterUnindexed("Edm.String"),
        osVersion: roFilterUnindexed("Edm.String"),
        deviceType: roFilterUnindexed("deviceType"),
        complianceState: roFilterUnindexed("complianceState"),
        managementAgent: roFilterUnindexed("managementAgentType"),
        managementState: roFilterUnindexed("managementState"),
        enrolledDateTime: roFilter("Edm.DateTimeOffset"),
        lastSyncDateTime: roFilter("Edm.DateTimeOffset"),
        azureADDeviceId: roFilter("Edm.String"),
        azureActiveDirectoryDeviceId: roFilterUnindexed("Edm.String"),
        azureADRegistered: ro("Edm.Boolean"),
        deviceRegistrationState: roFilterUnindexed("deviceRegistrationState"),
        userPrincipalName: roFilter("Edm.String"),
        emailAddress: roFilterUnindexed("Edm.String"),
        userDisplayName: roFilterUnindexed("Edm.String"),
        model: roFilterUnindexed("Edm.String"),
        manufacturer: roFilterUnindexed("Edm.String"),
        serialNumber: roFilter("Edm.String"),
        imei: ro("Edm.String"),
        wiFiMacAddress: ro("Edm.String"),
        ethernetMacAddress: ro("Edm.String"),
        ownerType: { type: "ownerType", filterable: true, sortable: true, indexed: false },
        managedDeviceOwnerType: { type: "managedDeviceOwnerType", filterable: true, sortable: true, indexed: false },
        deviceEnrollmentType: roFilterUnindexed("deviceEnrollmentType"),
        joinType: roFilterUnindexed("joinType"),
        autopilotEnrolled: roFilterUnindexed("Edm.Boolean"),
        enrollmentProfileName: roFilterUnindexed("Edm.String"),
        deviceCategoryDisplayName: roFilterUnindexed("Edm.String"),
        processorArchitecture: roFilterUnindexed("managedDeviceArchitecture"),
        skuFamily: roFilterUnindexed("Edm.String"),
        skuNumber: ro("Edm.Int32"),
        isEncrypted: roFilterUnindexed("Edm.Boolean"),
        isSupervised: ro("Edm.Boolean"),
        jailBroken: ro("Edm.String"),
        totalStorageSpaceInBytes: ro("Edm.Int64"),
        freeStorageSpaceInBytes: ro("Edm.Int64"),
        physicalMemoryInBytes: ro("Edm.Int64"),
        complianceGracePeriodExpirationDateTime: ro("Edm.DateTimeOffset"),
        managementCertificateExpirationDate: ro("Edm.DateTimeOffset"),
        roleScopeTagIds: { type: "Edm.String", collection: true },
        notes: { type: "Edm.String" },
        managementFeatures: roFilterUnindexed("managedDeviceManagementFeatures"),
        deviceActionResults: { type: "deviceActionResult", collection: true, readOnly: true },
      },
      navigation: {
        // The device's primary user (its userId, else its userPrincipalName), as a collection.
        users: { target: "user", collection: true, storage: { kind: "provider", provider: "managedDeviceUsers" }, permissions: readDevices },
        detectedApps: { target: "detectedApp", collection: true, storage: { kind: "provider", provider: "managedDeviceDetectedApps" }, permissions: readDevices },
      },
    },
    { name: "windowsManagedDevice", baseType: "managedDevice", properties: {} },
  ],
  entitySets: [],
  operations: [
    {
      name: "wipe",
      kind: "action",
      bindingType: "managedDevice",
      bindingCollection: false,
      parameters: {
        keepEnrollmentData: { type: "Edm.Boolean" },
        keepUserData: { type: "Edm.Boolean" },
        macOsUnlockCode: { type: "Edm.String" },
        persistEsimDataPlan: { type: "Edm.Boolean" },
        useProtectedWipe: { type: "Edm.Boolean" },
      },
      additionalParameters: "Edm.Boolean",
      handler: "deviceAction",
      permissions: privileged,
    },
    { name: "retire", kind: "action", bindingType: "managedDevice", bindingCollection: false, handler: "deviceAction", permissions: privileged },
    { name: "syncDevice", kind: "action", bindingType: "managedDevice", bindingCollection: false, handler: "deviceAction", permissions: privileged },
    {
      name: "changeAssignments",
      kind: "action",
      bindingType: "managedDevice",
      bindingCollection: false,
      parameters: { deviceAssignmentItems: { type: "deviceAssignmentItem", collection: true, required: true } },
      handler: "changeAssignments",
      permissions: changeAssignmentsPermissions,
    },
  ],
  navigationsOf: {
    // The managed devices whose primary user this is (Intune's permissions, read only).
    user: { managedDevices: { target: "managedDevice", collection: true, storage: { kind: "provider", provider: "userManagedDevices" }, permissions: readDevices } },
  },
  deviceManagement: {
    // Devices are enrolled (POST /_allot/devices), never created through Graph; notes and ownership can be changed.
    managedDevices: { target: "managedDevice", collection: true, storage: { kind: "contained" }, permissions: devices, methods: ["GET", "PATCH", "DELETE"] },
    comanagedDevices: { target: "managedDevice", collection: true, storage: { kind: "contained" }, aliasOf: "managedDevices", permissions: devices, methods: ["GET", "PATCH", "DELETE"] },
  },
};
