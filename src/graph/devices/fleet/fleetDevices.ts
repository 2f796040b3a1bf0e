// One synthetic device, as enrollment builds one (src/graph/devices/enrollment.ts): its managed device, its
// Entra device and, for Autopilot devices, its windowsAutopilotDeviceIdentity, linked by ids and serial number.
// Properties vary with the hardware drawn from the catalogue.

import { enrolledIdentityDocument } from "../autopilotIdentityDocument.js";
import type { StoredEntity } from "../../../store/entityStore.js";
import { COMPLIANCE, GROUP_TAGS, HARDWARE, PLATFORMS, type Hardware, type Platform } from "./fleetCatalogue.js";
import type { PrimaryUser } from "./fleetUsers.js";
import { GuidSequence, weighted, type SeededRandom } from "./seededRandom.js";

export interface FleetDevice {
  managed: StoredEntity;
  entra: StoredEntity;
  autopilot?: StoredEntity;
}

/** Share of company-owned Windows devices registered with Autopilot; with 95% company-owned, ~60% of Windows. */
const AUTOPILOT_SHARE_OF_COMPANY_WINDOWS = 0.63;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const hardware = weighted(HARDWARE);
const groupTag = weighted(GROUP_TAGS);
const compliance = weighted(COMPLIANCE);
const osVersion = Object.fromEntries(Object.entries(PLATFORMS).map(([p, t]) => [p, weighted(t.osVersions)])) as Record<Platform, (r: SeededRandom) => string>;

/** Entra's enrollmentType for Intune's deviceEnrollmentType. */
const ENTRA_ENROLLMENT_TYPE: Record<string, string> = {
  windowsAzureADJoin: "AzureDomainJoined",
  windowsCoManagement: "OnPremiseCoManaged",
  windowsAutoEnrollment: "WindowsAutoEnrollment",
  appleBulkWithUser: "AppleBulkWithUser",
  appleUserEnrollment: "AppleUserEnrollment",
  userEnrollment: "UserEnrollment",
};

const TRUST_TYPE: Record<string, string> = { azureADJoined: "AzureAd", hybridAzureADJoined: "ServerAd", azureADRegistered: "Workplace" };

function enrollmentOf(random: SeededRandom, hw: Hardware, company: boolean, autopilot: boolean) {
  if (hw.platform === "windows") {
    if (!company) return { joinType: "azureADRegistered", deviceEnrollmentType: "windowsAutoEnrollment", managementAgent: "mdm" };
    if (!autopilot && random.chance(0.35)) {
      const comanaged = random.chance(0.5);
      return { joinType: "hybridAzureADJoined", deviceEnrollmentType: comanaged ? "windowsCoManagement" : "windowsAutoEnrollment", managementAgent: comanaged ? "configurationManagerClientMdm" : "mdm" };
    }
    return { joinType: "azureADJoined", deviceEnrollmentType: "windowsAzureADJoin", managementAgent: "mdm" };
  }
  const apple = hw.platform === "ios" || hw.platform === "macos";
  return {
    joinType: "azureADRegistered",
    deviceEnrollmentType: company && apple ? "appleBulkWithUser" : apple ? "appleUserEnrollment" : "userEnrollment",
    managementAgent: "mdm",
  };
}

function deviceNameOf(random: SeededRandom, hw: Hardware, company: boolean, ordinal: number, user?: PrimaryUser): string {
  if (company) return `${PLATFORMS[hw.platform].namePrefix}-${String(ordinal).padStart(7, "0")}`;
  if (hw.platform === "windows" || !user) return `DESKTOP-${random.chars("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 7)}`;
  return `${user.displayName.split(" ")[0]}'s ${hw.platform === "ios" ? (hw.deviceType === "iPad" ? "iPad" : "iPhone") : hw.model}`;
}

/** The ids of one call's devices: each kind counts up on its own (see GuidSequence). */
export class DeviceIds {
  readonly managed: GuidSequence;
  readonly azureAD: GuidSequence;
  readonly entra: GuidSequence;
  readonly autopilot: GuidSequence;

  constructor(random: SeededRandom) {
    this.managed = new GuidSequence(random);
    this.azureAD = new GuidSequence(random);
    this.entra = new GuidSequence(random);
    this.autopilot = new GuidSequence(random);
  }
}

/**
 * Draws one device. Its dates step back from now by `ageRank` (two million devices enrolled over 2.5 years;
 * synced within two days, or a month for the non-compliant). The caller ranks a call's devices oldest first and
 * each call's devices older than the previous call's, so date indexes are written in order, page after page,
 * instead of one random page per device. `withAutopilot`: the fleet registers Autopilot identities at all.
 */
export function fleetDevice(random: SeededRandom, ids: DeviceIds, ordinal: number, ageRank: number, user: PrimaryUser | undefined, withAutopilot: boolean, nowMs: number): FleetDevice {
  const hw = hardware(random);
  const traits = PLATFORMS[hw.platform];
  const windows = hw.platform === "windows";
  const company = random.chance(traits.companyOwned);
  const autopilot = withAutopilot && windows && company && random.chance(AUTOPILOT_SHARE_OF_COMPANY_WINDOWS);
  const tag = autopilot ? groupTag(random) : undefined;
  const enrollment = enrollmentOf(random, hw, company, autopilot);
  const complianceState = compliance(random);
  const enrolledMs = nowMs - 2 * HOUR - (ageRank % 2_000_000) * 40 * SECOND + random.int(30 * SECOND);
  const lastSyncMs = Math.max(enrolledMs, nowMs - (ageRank % 1_000_000) * (complianceState === "compliant" ? 170 : 2_500) + random.int(100));
  const enrolled = new Date(enrolledMs).toISOString();
  const lastSync = new Date(lastSyncMs).toISOString();
  const deviceIds = { managed: ids.managed.next(), azureAD: ids.azureAD.next(), entra: ids.entra.next(), autopilot: autopilot ? ids.autopilot.next() : undefined };
  const serialNumber = hw.serial(ordinal);
  const deviceName = deviceNameOf(random, hw, company, ordinal, user);
  const storage = hw.storageGB * 1_000_000_000;
  const profileName = tag ? tag.profileName : company && hw.platform === "ios" ? "Corporate iOS (ADE)" : company && hw.platform === "macos" ? "Corporate macOS (ADE)" : null;
  const phone = hw.deviceType === "iPhone" || hw.platform === "android";

  const managed: Record<string, unknown> = {
    deviceName,
    operatingSystem: traits.managedOS,
    osVersion: osVersion[hw.platform](random),
    model: hw.model,
    manufacturer: hw.manufacturer,
    serialNumber,
    managedDeviceOwnerType: company ? "company" : "personal",
    ownerType: company ? "company" : "personal",
    joinType: enrollment.joinType,
    skuFamily: windows ? (company ? "Enterprise" : "Professional") : "",
    skuNumber: windows ? (company ? 4 : 48) : 0,
    deviceCategoryDisplayName: "Unknown",
    processorArchitecture: hw.processorArchitecture,
    complianceState,
    managementAgent: enrollment.managementAgent,
    managementState: "managed",
    deviceEnrollmentType: enrollment.deviceEnrollmentType,
    deviceRegistrationState: "registered",
    deviceType: hw.deviceType,
    azureADRegistered: true,
    isEncrypted: random.chance(windows && company ? 0.97 : 0.9),
    isSupervised: company && hw.platform === "ios",
    jailBroken: windows ? "Unknown" : "False",
    managementFeatures: tag?.mmd ? "microsoftManagedDesktop" : "none",
    enrolledDateTime: enrolled,
    lastSyncDateTime: lastSync,
    totalStorageSpaceInBytes: storage,
    freeStorageSpaceInBytes: Math.round(storage * (0.15 + random.float() * 0.7)),
    physicalMemoryInBytes: hw.memoryGiB * 1024 ** 3,
    wiFiMacAddress: random.hex(6).toUpperCase(),
    imei: phone ? `35${String(random.next()).padStart(10, "0")}${random.int(1000).toString().padStart(3, "0")}` : "",
    roleScopeTagIds: ["0"],
    deviceActionResults: [],
    autopilotEnrolled: autopilot,
    enrollmentProfileName: profileName,
    azureADDeviceId: deviceIds.azureAD,
    azureActiveDirectoryDeviceId: deviceIds.azureAD,
    managedDeviceName: `${user ? user.userPrincipalName.split("@")[0] : "userless"}_${traits.managedOS}_${enrolled.slice(0, 10)}`,
  };
  if (user) {
    managed.userId = user.id;
    managed.userPrincipalName = user.userPrincipalName;
    managed.userDisplayName = user.displayName;
    managed.emailAddress = user.mail;
  }

  const physicalIds = [
    ...(deviceIds.autopilot ? [`[ZTDId]:${deviceIds.autopilot}`, `[OrderID]:${tag!.tag}`] : []),
    windows ? `[HWID]:h:${random.hex(16)}` : `[GID]:g:${random.hex(8)}`,
  ];
  const entra: Record<string, unknown> = {
    accountEnabled: true,
    alternativeSecurityIds: [{ type: 2, identityProvider: null, key: Buffer.from(random.hex(20), "hex").toString("base64") }],
    deviceId: deviceIds.azureAD,
    displayName: deviceName,
    operatingSystem: traits.entraOS,
    operatingSystemVersion: managed.osVersion,
    manufacturer: hw.manufacturer,
    model: hw.model,
    trustType: TRUST_TYPE[enrollment.joinType],
    profileType: "RegisteredDevice",
    deviceOwnership: company ? "Company" : "Personal",
    deviceCategory: "Unknown",
    enrollmentProfileName: profileName,
    enrollmentType: ENTRA_ENROLLMENT_TYPE[enrollment.deviceEnrollmentType],
    managementType: "MDM",
    isManaged: true,
    isCompliant: complianceState === "compliant",
    devicePhysicalIds: physicalIds,
    systemLabels: [],
    registrationDateTime: enrolled,
    approximateLastSignInDateTime: lastSync,
    createdDateTime: enrolled,
  };

  const device: FleetDevice = {
    managed: { id: deviceIds.managed, type: windows ? "windowsManagedDevice" : "managedDevice", seq: 0, doc: managed },
    entra: { id: deviceIds.entra, type: "device", seq: 0, doc: entra },
  };
  if (deviceIds.autopilot) {
    device.autopilot = {
      id: deviceIds.autopilot,
      type: "windowsAutopilotDeviceIdentity",
      seq: 0,
      doc: enrolledIdentityDocument({
        groupTag: tag!.tag,
        serialNumber,
        manufacturer: hw.manufacturer,
        model: hw.model,
        systemFamily: hw.systemFamily,
        deviceName,
        azureADDeviceId: deviceIds.azureAD,
        managedDeviceId: deviceIds.managed,
        userPrincipalName: user?.userPrincipalName,
        userDisplayName: user?.displayName,
        at: enrolled,
        lastContactedAt: lastSync,
      }),
    };
  }
  return device;
}
