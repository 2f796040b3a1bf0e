// Assignment filters (spec §2.9): deviceManagement/assignmentFilters with its collection actions and functions.
// The rule is parsed by the engine's filter language (src/engine/assignmentFilter/); `payloads` is a read-only
// reverse index of the configuration assignments that use the filter, maintained by the graph layer.

import { DEVICE_PLATFORMS, MAX_RULE_LENGTH } from "../../engine/assignmentFilter/index.js";
import type { BoundOperationDecl } from "../../odata/model.js";
import { configurationPermissions } from "./deviceConfigurations.js";
import type { ModelPart } from "./modelPart.js";

const text = { type: "Edm.String" } as const;

const filterOperation = (decl: Omit<BoundOperationDecl, "bindingType" | "permissions"> & { write?: boolean }): BoundOperationDecl => {
  const { write, ...rest } = decl;
  return {
    bindingType: "deviceAndAppManagementAssignmentFilter",
    permissions: write ? configurationPermissions.write : configurationPermissions.read,
    ...rest,
  };
};

export const assignmentFilters: ModelPart = {
  enumTypes: [
    { name: "devicePlatformType", members: [...DEVICE_PLATFORMS] },
    { name: "assignmentFilterManagementType", members: ["devices", "apps", "unknownFutureValue"] },
    {
      name: "associatedAssignmentPayloadType",
      // "deviceManagmentConfigurationAndCompliancePolicy" is the API's own spelling.
      members: [
        "unknown", "deviceConfigurationAndCompliance", "application", "androidEnterpriseApp", "enrollmentConfiguration",
        "groupPolicyConfiguration", "zeroTouchDeploymentDeviceConfigProfile", "androidEnterpriseConfiguration",
        "deviceFirmwareConfigurationInterfacePolicy", "resourceAccessPolicy", "win32app", "deviceManagmentConfigurationAndCompliancePolicy",
      ],
    },
    {
      name: "assignmentFilterOperator",
      members: [
        "notSet", "equals", "notEquals", "startsWith", "notStartsWith", "contains", "notContains", "in", "notIn",
        "endsWith", "notEndsWith", "greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals", "unknownFutureValue",
      ],
    },
  ],
  complexTypes: [
    {
      name: "payloadByFilter",
      properties: {
        payloadId: text,
        payloadType: { type: "associatedAssignmentPayloadType" },
        groupId: text,
        assignmentFilterType: { type: "deviceAndAppManagementAssignmentFilterType" },
      },
    },
    { name: "assignmentFilterValidationResult", properties: { isValidRule: { type: "Edm.Boolean" } } },
    { name: "assignmentFilterState", properties: { enabled: { type: "Edm.Boolean" } } },
    {
      name: "assignmentFilterSupportedProperty",
      properties: {
        dataType: text,
        isCollection: { type: "Edm.Boolean" },
        name: text,
        propertyRegexConstraint: text,
        supportedOperators: { type: "assignmentFilterOperator", collection: true },
        supportedValues: { type: "Edm.String", collection: true },
      },
    },
  ],
  entityTypes: [
    {
      name: "deviceAndAppManagementAssignmentFilter",
      baseType: "entity",
      flavor: "intune",
      audit: { category: "AssignmentFilter", component: "AssignmentFilter" },
      properties: {
        createdDateTime: { type: "Edm.DateTimeOffset", readOnly: true, sortable: true },
        lastModifiedDateTime: { type: "Edm.DateTimeOffset", readOnly: true, sortable: true },
        displayName: { type: "Edm.String", required: true, filterable: true, sortable: true },
        description: text,
        platform: { type: "devicePlatformType", default: "unknown", filterable: true },
        rule: { type: "Edm.String", required: true, maxLength: MAX_RULE_LENGTH },
        roleScopeTags: { type: "Edm.String", collection: true, default: ["0"] },
        payloads: { type: "payloadByFilter", collection: true, readOnly: true, default: [] },
        assignmentFilterManagementType: { type: "assignmentFilterManagementType", default: "devices", filterable: true },
      },
    },
  ],
  entitySets: [],
  operations: [
    filterOperation({
      name: "validateFilter",
      kind: "action",
      bindingCollection: true,
      parameters: { deviceAndAppManagementAssignmentFilter: { type: "deviceAndAppManagementAssignmentFilter", required: true } },
      returns: { type: "assignmentFilterValidationResult", collection: false },
      handler: "assignmentFilterValidate",
      readOnly: true,
    }),
    filterOperation({ name: "enable", kind: "action", bindingCollection: true, parameters: { enable: { type: "Edm.Boolean", required: true } }, handler: "assignmentFilterEnable", write: true }),
    filterOperation({ name: "getState", kind: "function", bindingCollection: true, returns: { type: "assignmentFilterState", collection: false }, handler: "assignmentFilterState", readOnly: true }),
    filterOperation({
      name: "getPlatformSupportedProperties",
      kind: "function",
      bindingCollection: true,
      parameters: { platform: { type: "devicePlatformType", required: true } },
      returns: { type: "assignmentFilterSupportedProperty", collection: true },
      handler: "assignmentFilterSupportedProperties",
      readOnly: true,
    }),
    filterOperation({
      name: "getSupportedProperties",
      kind: "function",
      bindingCollection: false,
      returns: { type: "assignmentFilterSupportedProperty", collection: true },
      handler: "assignmentFilterSupportedProperties",
      readOnly: true,
    }),
  ],
  deviceManagement: {
    assignmentFilters: { target: "deviceAndAppManagementAssignmentFilter", collection: true, storage: { kind: "contained" }, permissions: configurationPermissions },
  },
};
