// The Entra directory subset that assignments point at: users, groups (static and dynamic) and devices.

import { anyOf, areaPermissions } from "./permissions.js";

import type { ModelPart } from "./modelPart.js";

const text = { type: "Edm.String" } as const;
const filterableText = { type: "Edm.String", filterable: true, sortable: true } as const;
/** Filterable text served from a column without an index (descriptive properties of big tables; see `indexed`). */
const unindexedText = { ...filterableText, indexed: false } as const;
const createdAt = { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true } as const;
// Group.* and Directory.* also cover members (Graph's permission reference lists all three families).
const groupMembers = {
  read: anyOf(["GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"]),
  write: anyOf(["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"]),
};
const memberOf = { read: groupMembers.read, write: anyOf([]) };

export const directory: ModelPart = {
  enumTypes: [],
  complexTypes: [
    {
      name: "passwordProfile",
      properties: {
        forceChangePasswordNextSignIn: { type: "Edm.Boolean" },
        forceChangePasswordNextSignInWithMfa: { type: "Edm.Boolean" },
        password: { type: "Edm.String" },
      },
    },
    {
      name: "alternativeSecurityId",
      properties: { type: { type: "Edm.Int32" }, identityProvider: text, key: { type: "Edm.Binary" } },
    },
  ],
  entityTypes: [
    { name: "entity", abstract: true, properties: { id: { type: "Edm.String", readOnly: true, filterable: true, sortable: true } } },
    {
      name: "directoryObject",
      baseType: "entity",
      flavor: "directory",
      audit: { category: "Directory", component: "Directory" },
      properties: { deletedDateTime: { type: "Edm.DateTimeOffset", readOnly: true } },
    },
    {
      name: "user",
      baseType: "directoryObject",
      flavor: "directory",
      properties: {
        accountEnabled: { type: "Edm.Boolean", required: true, filterable: true, indexed: false },
        displayName: { ...filterableText, required: true, maxLength: 256 },
        givenName: filterableText,
        surname: filterableText,
        userPrincipalName: { ...filterableText, required: true },
        mailNickname: { ...filterableText, required: true, maxLength: 64 },
        mail: filterableText,
        otherMails: { type: "Edm.String", collection: true, filterable: true },
        proxyAddresses: { type: "Edm.String", collection: true, filterable: true, readOnly: true },
        jobTitle: unindexedText,
        department: unindexedText,
        companyName: unindexedText,
        employeeId: filterableText,
        city: unindexedText,
        state: unindexedText,
        country: unindexedText,
        officeLocation: text,
        usageLocation: unindexedText,
        userType: unindexedText,
        mobilePhone: text,
        businessPhones: { type: "Edm.String", collection: true },
        preferredLanguage: text,
        createdDateTime: createdAt,
        passwordProfile: { type: "passwordProfile", writeOnly: true, required: true },
      },
      navigation: {
        memberOf: { target: "directoryObject", collection: true, storage: { kind: "provider", provider: "memberOf" }, permissions: memberOf },
      },
    },
    {
      name: "group",
      baseType: "directoryObject",
      flavor: "directory",
      properties: {
        displayName: { ...filterableText, required: true, maxLength: 256 },
        description: { ...filterableText, maxLength: 1024 },
        mailEnabled: { type: "Edm.Boolean", required: true, filterable: true },
        mailNickname: { ...filterableText, required: true, maxLength: 64 },
        mail: { ...filterableText, readOnly: true },
        securityEnabled: { type: "Edm.Boolean", required: true, filterable: true },
        groupTypes: { type: "Edm.String", collection: true, filterable: true, default: [] },
        membershipRule: { ...text, maxLength: 3072 },
        membershipRuleProcessingState: { ...filterableText },
        isAssignableToRole: { type: "Edm.Boolean", filterable: true },
        visibility: text,
        createdDateTime: createdAt,
        renewedDateTime: { type: "Edm.DateTimeOffset", readOnly: true },
      },
      navigation: {
        members: {
          target: "directoryObject",
          collection: true,
          storage: { kind: "provider", provider: "groupMembers" },
          references: true,
          permissions: groupMembers,
        },
        memberOf: { target: "directoryObject", collection: true, storage: { kind: "provider", provider: "memberOf" }, permissions: memberOf },
      },
    },
    {
      name: "device",
      baseType: "directoryObject",
      flavor: "directory",
      // A reassignment or group-tag change of a fleet rewrites thousands of devices' devicePhysicalIds at once.
      rewrittenInPlace: true,
      properties: {
        accountEnabled: { type: "Edm.Boolean", required: true, filterable: true, indexed: false },
        alternativeSecurityIds: { type: "alternativeSecurityId", collection: true, required: true },
        deviceId: { type: "Edm.String", required: true, filterable: true, sortable: true },
        displayName: { ...filterableText, required: true, maxLength: 256 },
        operatingSystem: { ...unindexedText, required: true },
        operatingSystemVersion: { ...unindexedText, required: true },
        devicePhysicalIds: { type: "Edm.String", collection: true, filterable: true, default: [] },
        manufacturer: unindexedText,
        model: unindexedText,
        trustType: unindexedText,
        profileType: unindexedText,
        deviceOwnership: unindexedText,
        deviceCategory: unindexedText,
        enrollmentProfileName: unindexedText,
        enrollmentType: unindexedText,
        managementType: unindexedText,
        isManaged: { type: "Edm.Boolean", filterable: true, indexed: false },
        isCompliant: { type: "Edm.Boolean", filterable: true, indexed: false },
        isRooted: { type: "Edm.Boolean" },
        systemLabels: { type: "Edm.String", collection: true, filterable: true },
        approximateLastSignInDateTime: { type: "Edm.DateTimeOffset", filterable: true, sortable: true },
        registrationDateTime: { type: "Edm.DateTimeOffset", readOnly: true, filterable: true, sortable: true },
        createdDateTime: createdAt,
      },
      navigation: {
        memberOf: { target: "directoryObject", collection: true, storage: { kind: "provider", provider: "memberOf" }, permissions: memberOf },
      },
    },
  ],
  entitySets: [
    { name: "users", entityType: "user", permissions: areaPermissions("User", true), search: ["displayName", "userPrincipalName", "mail", "givenName", "surname", "mailNickname"] },
    { name: "groups", entityType: "group", permissions: areaPermissions("Group", true), search: ["displayName", "description", "mail", "mailNickname"] },
    { name: "devices", entityType: "device", permissions: areaPermissions("Device", true), search: ["displayName"] },
  ],
  operations: [
    {
      name: "checkMemberGroups",
      kind: "action",
      bindingType: "directoryObject",
      bindingCollection: false,
      parameters: { groupIds: { type: "Edm.String", collection: true, required: true } },
      returns: { type: "Edm.String", collection: true },
      handler: "checkMemberGroups",
      permissions: groupMembers.read,
      readOnly: true,
    },
    {
      name: "getMemberGroups",
      kind: "action",
      bindingType: "directoryObject",
      bindingCollection: false,
      parameters: { securityEnabledOnly: { type: "Edm.Boolean", required: true } },
      returns: { type: "Edm.String", collection: true },
      handler: "getMemberGroups",
      permissions: groupMembers.read,
      readOnly: true,
    },
  ],
};
