// The entities changeAssignments' deeper paths walk through (seed 002): Intune's device scripts — health
// (remediation) scripts, management (PowerShell) scripts and compliance scripts — each with its per-device run
// states, whose `managedDevice` leads to the device; and the apps detected on devices, whose `managedDevices`
// lead back. Run states and detected apps are linked to their devices with `…@odata.bind` on create.

import { anyOf, areaPermissions } from "./permissions.js";
import type { ModelPart } from "./modelPart.js";
import type { EntityTypeDecl, NavigationDecl, PropertyDecl } from "../../odata/model.js";

const text: PropertyDecl = { type: "Edm.String" };
const filterableText: PropertyDecl = { type: "Edm.String", filterable: true, sortable: true };
const stamp: PropertyDecl = { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true };
const dateTime: PropertyDecl = { type: "Edm.DateTimeOffset" };
const configuration = areaPermissions("DeviceManagementConfiguration");
const devices = areaPermissions("DeviceManagementManagedDevices");
/** Navigations that only read (a run state's device, an app's devices): no writes through them. */
const readDevices = { read: devices.read, write: anyOf([]) };

const scriptBase: Record<string, PropertyDecl> = {
  displayName: { ...filterableText, required: true },
  description: text,
  createdDateTime: stamp,
  lastModifiedDateTime: stamp,
  runAsAccount: { type: "runAsAccountType", default: "system" },
  enforceSignatureCheck: { type: "Edm.Boolean", default: false },
  runAs32Bit: { type: "Edm.Boolean", default: false },
  roleScopeTagIds: { type: "Edm.String", collection: true, default: ["0"] },
};

/** A run state's device: set once with `managedDevice@odata.bind` on create. */
const runStateDevice: NavigationDecl = {
  target: "managedDevice",
  collection: false,
  storage: { kind: "provider", provider: "runStateManagedDevice" },
  bindable: true,
  permissions: readDevices,
};

const scriptAudit = { category: "DeviceConfiguration", component: "DeviceConfiguration" };

/** A script type: its own properties and its contained per-device run states (`{name}DeviceState`). */
const script = (name: string, properties: Record<string, PropertyDecl>): EntityTypeDecl => ({
  name,
  baseType: "entity",
  flavor: "intune",
  audit: scriptAudit,
  properties,
  navigation: { deviceRunStates: { target: `${name}DeviceState`, collection: true, storage: { kind: "contained" } } },
});

/** A script's run state on one device, whose `managedDevice` leads to that device. */
const runStateOf = (scriptName: string, properties: Record<string, PropertyDecl>): EntityTypeDecl => ({
  name: `${scriptName}DeviceState`,
  baseType: "entity",
  flavor: "intune",
  audit: scriptAudit,
  properties,
  navigation: { managedDevice: runStateDevice },
});

/** What health and compliance scripts' run states share: the detection outcome and its times. */
const detection: Record<string, PropertyDecl> = {
  detectionState: { type: "runState", filterable: true, default: "unknown" },
  lastStateUpdateDateTime: dateTime,
  expectedStateUpdateDateTime: dateTime,
  lastSyncDateTime: dateTime,
};

export const deviceScripts: ModelPart = {
  enumTypes: [
    { name: "runAsAccountType", members: ["system", "user"] },
    { name: "runState", members: ["unknown", "success", "fail", "scriptError", "pending", "notApplicable", "unknownFutureValue"] },
    { name: "remediationState", members: ["unknown", "skipped", "success", "remediationFailed", "scriptError", "unknownFutureValue"] },
    { name: "deviceHealthScriptType", members: ["deviceHealthScript", "managedInstallerScript"] },
    { name: "deviceComplianceScriptPlatform", members: ["none", "android", "androidForWork", "iOS", "macOS", "windowsPhone81", "windows81AndLater", "windows10AndLater", "androidWorkProfile", "unknownFutureValue"] },
    {
      name: "detectedAppPlatformType",
      members: ["unknown", "windows", "windowsMobile", "windowsHolographic", "ios", "macOS", "chromeOS", "androidOSP", "androidDeviceAdministrator", "androidWorkProfile", "androidDedicatedAndFullyManaged", "unknownFutureValue"],
    },
  ],
  complexTypes: [],
  entityTypes: [
    script("deviceHealthScript", {
      publisher: text,
      version: { ...text, readOnly: true },
      ...scriptBase,
      detectionScriptContent: { type: "Edm.Binary" },
      remediationScriptContent: { type: "Edm.Binary" },
      isGlobalScript: { type: "Edm.Boolean", readOnly: true },
      highestAvailableVersion: { ...text, readOnly: true },
      deviceHealthScriptType: { type: "deviceHealthScriptType", default: "deviceHealthScript" },
    }),
    runStateOf("deviceHealthScript", {
      ...detection,
      preRemediationDetectionScriptOutput: text,
      preRemediationDetectionScriptError: text,
      remediationScriptError: text,
      postRemediationDetectionScriptOutput: text,
      postRemediationDetectionScriptError: text,
      remediationState: { type: "remediationState", filterable: true, default: "unknown" },
      assignmentFilterIds: { type: "Edm.String", collection: true, default: [] },
    }),
    script("deviceManagementScript", { ...scriptBase, scriptContent: { type: "Edm.Binary" }, fileName: text }),
    runStateOf("deviceManagementScript", {
      runState: { type: "runState", filterable: true, default: "unknown" },
      resultMessage: text,
      lastStateUpdateDateTime: dateTime,
      errorCode: { type: "Edm.Int32", default: 0 },
      errorDescription: text,
    }),
    script("deviceComplianceScript", {
      publisher: text,
      version: { ...text, readOnly: true },
      ...scriptBase,
      detectionScriptContent: { type: "Edm.Binary" },
      platform: { type: "deviceComplianceScriptPlatform", default: "windows10AndLater" },
    }),
    runStateOf("deviceComplianceScript", { ...detection, scriptOutput: text, scriptError: text }),
    {
      name: "detectedApp",
      baseType: "entity",
      flavor: "intune",
      audit: { category: "Device", component: "DeviceManagement" },
      properties: {
        displayName: { ...filterableText, required: true },
        version: filterableText,
        sizeInByte: { type: "Edm.Int64", default: 0 },
        /** The number of devices linked to the app (kept by Allot). */
        deviceCount: { type: "Edm.Int32", readOnly: true, filterable: true, sortable: true },
        publisher: filterableText,
        platform: { type: "detectedAppPlatformType", filterable: true, default: "windows" },
      },
      navigation: {
        managedDevices: { target: "managedDevice", collection: true, storage: { kind: "provider", provider: "detectedAppManagedDevices" }, bindable: true, permissions: readDevices },
      },
    },
  ],
  entitySets: [],
  operations: [],
  deviceManagement: {
    deviceHealthScripts: { target: "deviceHealthScript", collection: true, storage: { kind: "contained" }, permissions: configuration },
    deviceManagementScripts: { target: "deviceManagementScript", collection: true, storage: { kind: "contained" }, permissions: configuration },
    deviceComplianceScripts: { target: "deviceComplianceScript", collection: true, storage: { kind: "contained" }, permissions: configuration },
    detectedApps: { target: "detectedApp", collection: true, storage: { kind: "contained" }, permissions: devices },
  },
};
