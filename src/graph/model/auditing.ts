// deviceManagement/auditEvents: Intune's audit log, in the shape of Graph's auditEvent resource. Allot writes
// one event per successful write; the collection itself is read-only.

import { anyOf } from "./permissions.js";
import type { ModelPart } from "./modelPart.js";

const auditReaders = anyOf([
  "DeviceManagementApps.Read.All",
  "DeviceManagementApps.ReadWrite.All",
  "DeviceManagementConfiguration.Read.All",
  "DeviceManagementConfiguration.ReadWrite.All",
  "DeviceManagementRBAC.Read.All",
  "DeviceManagementRBAC.ReadWrite.All",
  "DeviceManagementServiceConfig.Read.All",
  "DeviceManagementServiceConfig.ReadWrite.All",
  "DeviceManagementManagedDevices.Read.All",
  "DeviceManagementManagedDevices.ReadWrite.All",
]);

const text = { type: "Edm.String" } as const;

export const auditing: ModelPart = {
  enumTypes: [],
  complexTypes: [
    {
      name: "auditActor",
      properties: {
        type: text,
        userPermissions: { type: "Edm.String", collection: true },
        applicationId: text,
        applicationDisplayName: text,
        userPrincipalName: text,
        servicePrincipalName: text,
        ipAddress: text,
        userId: text,
        remoteTenantId: text,
        remoteUserId: text,
        userRoleScopeTags: { type: "roleScopeTagInfo", collection: true },
      },
    },
    { name: "roleScopeTagInfo", properties: { displayName: text, roleScopeTagId: text } },
    { name: "auditProperty", properties: { displayName: text, oldValue: text, newValue: text } },
    {
      name: "auditResource",
      properties: {
        displayName: text,
        modifiedProperties: { type: "auditProperty", collection: true },
        type: text,
        auditResourceType: text,
        resourceId: text,
      },
    },
  ],
  entityTypes: [
    {
      name: "auditEvent",
      baseType: "entity",
      flavor: "intune",
      properties: {
        displayName: { type: "Edm.String", readOnly: true },
        // componentName, activityOperationType, activityResult and category are unindexed: a handful of values
        // each (a filter on one reads the tenant's events in order), and every index costs each event a B-tree
        // insert — a bulk reassignment writes them by the thousand (issue 8).
        componentName: { type: "Edm.String", readOnly: true, filterable: true, sortable: true, indexed: false },
        actor: { type: "auditActor", readOnly: true },
        activity: { type: "Edm.String", readOnly: true },
        activityDateTime: { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true },
        activityType: { type: "Edm.String", readOnly: true, filterable: true, sortable: true },
        activityOperationType: { type: "Edm.String", readOnly: true, filterable: true, indexed: false },
        activityResult: { type: "Edm.String", readOnly: true, filterable: true, indexed: false },
        correlationId: { type: "Edm.Guid", readOnly: true, filterable: true },
        resources: { type: "auditResource", collection: true, readOnly: true },
        category: { type: "Edm.String", readOnly: true, filterable: true, sortable: true, indexed: false },
      },
    },
  ],
  entitySets: [],
  operations: [],
  deviceManagement: {
    auditEvents: {
      target: "auditEvent",
      collection: true,
      storage: { kind: "contained" },
      permissions: { read: auditReaders, write: anyOf([]) },
    },
  },
};
