// The properties an assignment filter rule may read, per entity and platform, with the operators and values each
// accepts (spec §2.9; MEM filters-device-properties.md). The parser validates against this catalogue and
// supportedProperties() renders it as Graph's assignmentFilterSupportedProperty collection.
//
// Decisions [I]:
// - "Full + partial" string properties take -eq -ne -in -notIn and -startsWith -contains -notContains (the doc's
//   list), plus -notStartsWith -endsWith -notEndsWith, which exist only in the assignmentFilterOperator enum.
// - A property with supportedValues refuses any other value with -eq/-ne/-in/-notIn (compared ignoring case); the
//   partial operators take any text. Values the docs renamed over time (Azure AD → Entra ID) are listed both ways.
// - Platforms: the managed-device platforms (android = Android device administrator, androidForWork and
//   androidWorkProfile = Android Enterprise, androidAOSP, iOS, macOS, windows10AndLater) take `device.` properties,
//   the three *MobileApplicationManagement platforms take `app.` properties, the legacy windowsPhone81 and
//   windows81AndLater take none, and `unknown`, `unknownFutureValue` or no platform take every property of either
//   entity (a rule still reads only one entity).

import type { AssignmentFilterOperatorName, FilterEntity, FilterOperator } from "./ast.js";
import { OPERATOR_ENUM_NAMES } from "./ast.js";

/** Graph's devicePlatformType enum (spec §2.9). */
export type DevicePlatform =
  | "android"
  | "androidForWork"
  | "iOS"
  | "macOS"
  | "windowsPhone81"
  | "windows81AndLater"
  | "windows10AndLater"
  | "androidWorkProfile"
  | "unknown"
  | "androidAOSP"
  | "androidMobileApplicationManagement"
  | "iOSMobileApplicationManagement"
  | "unknownFutureValue"
  | "windowsMobileApplicationManagement";

export const DEVICE_PLATFORMS: readonly DevicePlatform[] = [
  "android", "androidForWork", "iOS", "macOS", "windowsPhone81", "windows81AndLater", "windows10AndLater",
  "androidWorkProfile", "unknown", "androidAOSP", "androidMobileApplicationManagement",
  "iOSMobileApplicationManagement", "unknownFutureValue", "windowsMobileApplicationManagement",
];

/** Graph's assignmentFilterSupportedProperty. */
export interface AssignmentFilterSupportedProperty {
  dataType: string;
  isCollection: boolean;
  name: string;
  propertyRegexConstraint: string | null;
  supportedOperators: AssignmentFilterOperatorName[];
  /** Empty when any value is accepted. */
  supportedValues: string[];
}

export type PropertyDataType = "String" | "Boolean" | "Version";

export interface SupportedValue {
  readonly value: string;
  /** The platforms the value belongs to; all of the property's platforms when absent. */
  readonly platforms?: readonly DevicePlatform[];
}

export interface FilterPropertyDefinition {
  readonly entity: FilterEntity;
  /** Canonical spelling. */
  readonly name: string;
  readonly dataType: PropertyDataType;
  readonly operators: readonly FilterOperator[];
  readonly platforms: readonly DevicePlatform[];
  /** Closed set of values for -eq/-ne/-in/-notIn; empty = any text. */
  readonly supportedValues: readonly SupportedValue[];
  readonly regexConstraint: string | null;
}

const WINDOWS: readonly DevicePlatform[] = ["windows10AndLater"];
const ANDROID_ENTERPRISE: readonly DevicePlatform[] = ["androidForWork", "androidWorkProfile"];
const AOSP: readonly DevicePlatform[] = ["androidAOSP"];
export const MANAGED_DEVICE_PLATFORMS: readonly DevicePlatform[] = [
  "android", "androidForWork", "androidWorkProfile", "androidAOSP", "iOS", "macOS", "windows10AndLater",
];
const ANDROID_MAM: readonly DevicePlatform[] = ["androidMobileApplicationManagement"];
const IOS_MAM: readonly DevicePlatform[] = ["iOSMobileApplicationManagement"];
export const MANAGED_APP_PLATFORMS: readonly DevicePlatform[] = [
  "androidMobileApplicationManagement", "iOSMobileApplicationManagement", "windowsMobileApplicationManagement",
];
/** Platforms that restrict nothing: the entity's default and the enum's sentinel. */
const OPEN_PLATFORMS: readonly DevicePlatform[] = ["unknown", "unknownFutureValue"];

const FULL: readonly FilterOperator[] = ["eq", "ne", "in", "notIn"];
const STRING_OPERATORS: readonly FilterOperator[] = [
  ...FULL, "startsWith", "notStartsWith", "contains", "notContains", "endsWith", "notEndsWith",
];
const EQUALITY: readonly FilterOperator[] = ["eq", "ne"];
const VERSION_OPERATORS: readonly FilterOperator[] = ["eq", "ne", "gt", "ge", "lt", "le"];

/** Unquoted version literal: dot-separated decimal parts, compared numerically part by part. */
export const VERSION_PATTERN = /^[0-9]+(?:\.[0-9]+)*$/;
const VERSION_CONSTRAINT = "^[0-9]+(\\.[0-9]+)*$";

const values = (list: readonly string[], platforms?: readonly DevicePlatform[]): SupportedValue[] =>
  list.map((value) => (platforms === undefined ? { value } : { value, platforms }));

const WINDOWS_SKUS = [
  "BusinessN", "CloudEdition", "CloudEditionN", "Core", "CoreCountrySpecific", "CoreN", "CoreSingleLanguage",
  "Education", "EducationN", "Enterprise", "EnterpriseEval", "EnterpriseG", "EnterpriseGN", "EnterpriseN",
  "EnterpriseNEval", "EnterpriseS", "EnterpriseSEval", "EnterpriseSN", "Holographic", "IoTUAP", "IoTUAPCommercial",
  "IoTEnterprise", "PPIPro", "Professional", "ProfessionalEducation", "ProfessionalEducationN",
  "ProfessionalWorkstation", "ProfessionalN", "ProfessionalSingleLanguage", "ServerRdsh",
];

const ANDROID_ENTERPRISE_MANAGEMENT_TYPES = [
  "Corporate-owned dedicated devices with Entra ID Shared mode",
  "Corporate-owned dedicated devices without Entra ID Shared mode",
  "Corporate-owned dedicated devices with Azure AD Shared mode",
  "Corporate-owned dedicated devices without Azure AD Shared mode",
  "Corporate-owned with work profile",
  "Corporate-owned fully managed",
  "Personally-owned work profile",
];
const AOSP_MANAGEMENT_TYPES = ["AOSP user-associated devices", "AOSP userless devices"];

function property(
  entity: FilterEntity,
  name: string,
  operators: readonly FilterOperator[],
  platforms: readonly DevicePlatform[],
  options: { dataType?: PropertyDataType; supportedValues?: readonly SupportedValue[] } = {},
): FilterPropertyDefinition {
  const dataType = options.dataType ?? "String";
  return {
    entity, name, dataType, operators, platforms,
    supportedValues: options.supportedValues ?? [],
    regexConstraint: dataType === "Version" ? VERSION_CONSTRAINT : null,
  };
}

/** Managed-device properties, alphabetical as in the doc. */
const DEVICE_PROPERTIES: readonly FilterPropertyDefinition[] = [
  property("device", "cpuArchitecture", FULL, ["macOS", "windows10AndLater"], {
    supportedValues: [
      ...values(["amd64", "x86"], WINDOWS),
      ...values(["arm64"]),
      ...values(["x64"], ["macOS"]),
      ...values(["unknown"]),
    ],
  }),
  property("device", "deviceCategory", STRING_OPERATORS, MANAGED_DEVICE_PLATFORMS),
  property("device", "deviceManagementType", EQUALITY, [...ANDROID_ENTERPRISE, ...AOSP], {
    supportedValues: [
      ...values(ANDROID_ENTERPRISE_MANAGEMENT_TYPES, ANDROID_ENTERPRISE),
      ...values(AOSP_MANAGEMENT_TYPES, AOSP),
    ],
  }),
  property("device", "deviceName", STRING_OPERATORS, MANAGED_DEVICE_PLATFORMS),
  property("device", "deviceOwnership", EQUALITY, MANAGED_DEVICE_PLATFORMS, {
    supportedValues: values(["Personal", "Corporate", "Unknown"]),
  }),
  property("device", "deviceTrustType", FULL, WINDOWS, {
    supportedValues: values(["Azure AD joined", "Azure AD registered", "Hybrid Azure AD joined", "Unknown"]),
  }),
  property("device", "enrollmentProfileName", STRING_OPERATORS,
    [...ANDROID_ENTERPRISE, ...AOSP, "iOS", "windows10AndLater"]),
  property("device", "isRooted", EQUALITY, ["android", ...ANDROID_ENTERPRISE, ...AOSP, "iOS"], {
    dataType: "Boolean",
    supportedValues: values(["True", "False"]),
  }),
  property("device", "manufacturer", STRING_OPERATORS, MANAGED_DEVICE_PLATFORMS),
  property("device", "model", STRING_OPERATORS, MANAGED_DEVICE_PLATFORMS),
  property("device", "operatingSystemSKU", STRING_OPERATORS, WINDOWS, { supportedValues: values(WINDOWS_SKUS) }),
  property("device", "operatingSystemVersion", VERSION_OPERATORS, MANAGED_DEVICE_PLATFORMS, { dataType: "Version" }),
  property("device", "osVersion", STRING_OPERATORS, MANAGED_DEVICE_PLATFORMS),
];

/** Managed-app properties. */
const APP_PROPERTIES: readonly FilterPropertyDefinition[] = [
  property("app", "appVersion", STRING_OPERATORS, MANAGED_APP_PLATFORMS),
  property("app", "deviceManagementType", EQUALITY, [...ANDROID_MAM, ...IOS_MAM], {
    supportedValues: [
      ...values(["Unmanaged"]),
      ...values(["Managed"], IOS_MAM),
      ...values(["Android device administrator", "Android Enterprise", ...AOSP_MANAGEMENT_TYPES,
        ...ANDROID_ENTERPRISE_MANAGEMENT_TYPES], ANDROID_MAM),
      ...values(["Automated Device Enrollment user-associated devices", "Automated Device Enrollment userless devices",
        "Account Driven User Enrollment", "Device Enrollment with Company Portal and Web Enrollment"], IOS_MAM),
    ],
  }),
  property("app", "deviceManufacturer", STRING_OPERATORS, MANAGED_APP_PLATFORMS),
  property("app", "deviceModel", STRING_OPERATORS, MANAGED_APP_PLATFORMS),
  property("app", "operatingSystemVersion", VERSION_OPERATORS, MANAGED_APP_PLATFORMS, { dataType: "Version" }),
  property("app", "osVersion", STRING_OPERATORS, MANAGED_APP_PLATFORMS),
];

export const FILTER_PROPERTIES: Readonly<Record<FilterEntity, readonly FilterPropertyDefinition[]>> = {
  device: DEVICE_PROPERTIES,
  app: APP_PROPERTIES,
};

const LOOKUP: Readonly<Record<FilterEntity, ReadonlyMap<string, FilterPropertyDefinition>>> = {
  device: new Map(DEVICE_PROPERTIES.map((p) => [p.name.toLowerCase(), p])),
  app: new Map(APP_PROPERTIES.map((p) => [p.name.toLowerCase(), p])),
};

/** Rules spell property names in any case. */
export function findProperty(entity: FilterEntity, name: string): FilterPropertyDefinition | undefined {
  return LOOKUP[entity].get(name.toLowerCase());
}

export function isOpenPlatform(platform: DevicePlatform | undefined): boolean {
  return platform === undefined || OPEN_PLATFORMS.includes(platform);
}

/** The entity a platform's filters read, `undefined` when either may be used, `null` when none can. */
export function entityForPlatform(platform: DevicePlatform | undefined): FilterEntity | undefined | null {
  if (isOpenPlatform(platform)) return undefined;
  if (MANAGED_DEVICE_PLATFORMS.includes(platform!)) return "device";
  if (MANAGED_APP_PLATFORMS.includes(platform!)) return "app";
  return null;
}

export function appliesTo(definition: FilterPropertyDefinition, platform: DevicePlatform | undefined): boolean {
  return isOpenPlatform(platform) || definition.platforms.includes(platform!);
}

/** The closed value set on a platform (all platforms' values together when the platform is open); empty = any. */
export function supportedValuesFor(
  definition: FilterPropertyDefinition, platform: DevicePlatform | undefined,
): string[] {
  const open = isOpenPlatform(platform);
  return definition.supportedValues
    .filter((v) => open || v.platforms === undefined || v.platforms.includes(platform!))
    .map((v) => v.value);
}

/**
 * getPlatformSupportedProperties(platform): the properties a filter on `platform` may read. Open platforms
 * (`unknown`, `unknownFutureValue`) list the managed-device properties, managementType `devices` being the default.
 */
export function supportedProperties(platform: DevicePlatform): AssignmentFilterSupportedProperty[] {
  const entity = entityForPlatform(platform);
  if (entity === null) return [];
  return FILTER_PROPERTIES[entity ?? "device"]
    .filter((definition) => appliesTo(definition, platform))
    .map((definition) => ({
      dataType: definition.dataType,
      isCollection: false,
      name: definition.name,
      propertyRegexConstraint: definition.regexConstraint,
      supportedOperators: definition.operators.map((op) => OPERATOR_ENUM_NAMES[op]),
      supportedValues: supportedValuesFor(definition, platform),
    }));
}
