// Assignment targets (spec §2.8), shared by Autopilot profile assignments and device configuration assignments.

import type { ModelPart } from "./modelPart.js";

const filterFields = {
  deviceAndAppManagementAssignmentFilterId: { type: "Edm.String", default: null },
  deviceAndAppManagementAssignmentFilterType: { type: "deviceAndAppManagementAssignmentFilterType", default: "none" },
} as const;

export const assignmentTargets: ModelPart = {
  enumTypes: [
    { name: "deviceAndAppManagementAssignmentFilterType", members: ["none", "include", "exclude"] },
    { name: "deviceAndAppManagementAssignmentSource", members: ["direct", "policySets"] },
    { name: "allDevicesAssignmentTargetType", members: ["none", "user", "device", "unknownFutureValue"] },
  ],
  complexTypes: [
    { name: "deviceAndAppManagementAssignmentTarget", abstract: true, properties: { ...filterFields } },
    { name: "groupAssignmentTarget", baseType: "deviceAndAppManagementAssignmentTarget", properties: { groupId: { type: "Edm.String", required: true } } },
    { name: "exclusionGroupAssignmentTarget", baseType: "groupAssignmentTarget", properties: {} },
    { name: "allDevicesAssignmentTarget", baseType: "deviceAndAppManagementAssignmentTarget", properties: {} },
    { name: "allLicensedUsersAssignmentTarget", baseType: "deviceAndAppManagementAssignmentTarget", properties: {} },
    { name: "configurationManagerCollectionAssignmentTarget", baseType: "deviceAndAppManagementAssignmentTarget", properties: { collectionId: { type: "Edm.String", required: true } } },
    {
      name: "scopeTagGroupAssignmentTarget",
      baseType: "deviceAndAppManagementAssignmentTarget",
      properties: { targetType: { type: "allDevicesAssignmentTargetType" }, entraObjectId: { type: "Edm.String" } },
    },
    // Android firmware-over-the-air deployments target one Entra group (beta SDK discriminator list, spec §2.8).
    { name: "androidFotaDeploymentAssignmentTarget", baseType: "deviceAndAppManagementAssignmentTarget", properties: { groupId: { type: "Edm.String", required: true } } },
    {
      // The doc marks organizationalUnitId read-only; Allot accepts it on write, or the target could name nothing
      // (docs/decisions.md). The conflict setting stays server-set.
      name: "organizationalUnitAssignmentTarget",
      baseType: "deviceAndAppManagementAssignmentTarget",
      properties: {
        organizationalUnitId: { type: "Edm.String", required: true },
        assignmentConflictSetting: { type: "assignmentConflictSetting", readOnly: true },
      },
    },
    { name: "assignmentConflictSetting", properties: { assignmentOverride: { type: "Edm.Boolean" }, versionNumber: { type: "Edm.Int32" } } },
  ],
  entityTypes: [],
  entitySets: [],
  operations: [],
};
