// The record an assignment filter rule reads (spec §2.9's managed-device properties), from a managed device's
// Graph properties. Values are the filter language's spellings: ownership `Corporate`/`Personal`, trust type
// `Azure AD joined`…, architecture as Windows reports it (`amd64` for x64).

import type { FilterableDevice } from "./assignmentFilter/index.js";

const OWNERSHIP: Record<string, string> = { company: "Corporate", personal: "Personal" };
const TRUST: Record<string, string> = { azureADJoined: "Azure AD joined", azureADRegistered: "Azure AD registered", hybridAzureADJoined: "Hybrid Azure AD joined" };
const ARCHITECTURE: Record<string, string> = { x64: "amd64", x86: "x86", arm64: "arm64" };

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

export function filterableManagedDevice(doc: Readonly<Record<string, unknown>>): FilterableDevice {
  const owner = String(doc.managedDeviceOwnerType ?? doc.ownerType ?? "");
  const jailBroken = String(doc.jailBroken ?? "").toLowerCase();
  return {
    cpuArchitecture: ARCHITECTURE[String(doc.processorArchitecture ?? "")] ?? "unknown",
    deviceCategory: text(doc.deviceCategoryDisplayName),
    deviceManagementType: null,
    deviceName: text(doc.deviceName),
    deviceOwnership: OWNERSHIP[owner] ?? "Unknown",
    deviceTrustType: TRUST[String(doc.joinType ?? "")] ?? "Unknown",
    enrollmentProfileName: text(doc.enrollmentProfileName),
    isRooted: jailBroken === "true" ? true : jailBroken === "false" ? false : null,
    manufacturer: text(doc.manufacturer),
    model: text(doc.model),
    operatingSystemSKU: text(doc.skuFamily),
    operatingSystemVersion: text(doc.osVersion),
    osVersion: text(doc.osVersion),
  };
}
