// What a device's status for a configuration it is assigned becomes (spec §3.5 [I]), and the platform rule behind
// it. A configuration type is written for one platform family (its @odata.type says which); on a device of another
// platform it is `notApplicable` (counted in notApplicableCount and notApplicablePlatformCount), otherwise it
// succeeds (`compliant`, counted in successCount). Until the device's next check-in on the lifecycle clock the
// status is pending: Graph's complianceStatus enum has no pending member, so deviceStatuses reports `unknown` and
// the overview counts it in pendingCount.

export type PlatformFamily = "windows" | "windowsPhone" | "iOS" | "macOS" | "android";

/** Final statuses the engine produces; error and conflict exist in the enum and the counts but are not simulated. */
export type ConfigurationFinalStatus = "compliant" | "notApplicable" | "error" | "conflict";
export type ConfigurationDeviceStatus = "pending" | ConfigurationFinalStatus;

/** The platform family a configuration type targets, from its @odata.type; undefined when it fits any platform. */
export function configurationPlatform(odataType: string): PlatformFamily | undefined {
  const name = odataType.replace(/^#?microsoft\.graph\./, "").toLowerCase();
  if (name.startsWith("windowsphone")) return "windowsPhone";
  if (name.startsWith("windows") || name.startsWith("sharedpc") || name.startsWith("editionupgrade")) return "windows";
  if (name.startsWith("ios")) return "iOS";
  if (name.startsWith("macos")) return "macOS";
  if (name.startsWith("android") || name.startsWith("aosp")) return "android";
  return undefined;
}

/** The platform family of a managed device, from its operatingSystem. */
export function devicePlatform(operatingSystem: string | null | undefined): PlatformFamily | undefined {
  const os = (operatingSystem ?? "").toLowerCase();
  if (os.startsWith("windows phone") || os === "windowsphone") return "windowsPhone";
  if (os.startsWith("windows")) return "windows";
  if (os === "ios" || os === "ipados") return "iOS";
  if (os === "macos" || os === "mac os" || os === "osx") return "macOS";
  if (os.startsWith("android")) return "android";
  return undefined;
}

export function finalStatusFor(configurationOdataType: string, operatingSystem: string | null | undefined): ConfigurationFinalStatus {
  const wanted = configurationPlatform(configurationOdataType);
  if (!wanted) return "compliant";
  return devicePlatform(operatingSystem) === wanted ? "compliant" : "notApplicable";
}

const PLATFORM_NUMBERS: Record<PlatformFamily, number> = { windows: 1, windowsPhone: 2, iOS: 3, macOS: 4, android: 5 };

/** deviceConfigurationDeviceStatus.platform is an Int32; Allot numbers the families (0 = unknown). */
export function platformNumber(operatingSystem: string | null | undefined): number {
  const family = devicePlatform(operatingSystem);
  return family ? PLATFORM_NUMBERS[family] : 0;
}

/** What deviceStatuses shows for a stored status. */
export function reportedComplianceStatus(status: ConfigurationDeviceStatus): string {
  return status === "pending" ? "unknown" : status;
}
