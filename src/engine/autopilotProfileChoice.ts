// Which Windows Autopilot deployment profile a device gets (spec §3.3). Pure: the caller supplies the device's
// group memberships and the tenant's profiles with their assignments.
//
// - A profile reaches a device through a group include whose group holds the device, through a direct `assign`
//   of the device, or through an All devices assignment.
// - An exclusion group holding the device removes the profile's group includes and direct assigns for it
//   (exclusions of the same kind: device groups against device targets). Exclusions do not apply to All devices
//   assignments, which Intune documents as unsupported together.
// - Among the profiles that reach the device through groups or direct assignment, the oldest created wins (ties by
//   id). Only when none does, an All devices profile applies: the tenant's default (again the oldest).
// - A winner whose deviceType does not fit the device is a failure with the matching detailed status.

export type AutopilotTarget =
  | { kind: "group"; groupId: string }
  | { kind: "exclusionGroup"; groupId: string }
  | { kind: "allDevices" };

export interface ProfileCandidate {
  id: string;
  createdDateTime: string;
  deviceType: "windowsPc" | "holoLens" | "surfaceHub2" | "surfaceHub2S" | "virtualMachine" | "unknownFutureValue";
  targets: AutopilotTarget[];
  /** Autopilot identity ids assigned directly with the `assign` action. */
  directDeviceIds: ReadonlySet<string>;
}

export type AutopilotHardware = "windowsPc" | "holoLens" | "surfaceHub2" | "surfaceHub2S" | "virtualMachine";

export interface AutopilotDeviceFacts {
  identityId: string;
  groupIds: ReadonlySet<string>;
  hardware: AutopilotHardware;
}

export type ProfileChoice =
  | { outcome: "assigned"; profileId: string; via: "group" | "direct" | "allDevices" }
  | { outcome: "failed"; profileId: string; detailedStatus: string }
  | { outcome: "notAssigned" };

const older = (a: ProfileCandidate, b: ProfileCandidate) =>
  a.createdDateTime < b.createdDateTime || (a.createdDateTime === b.createdDateTime && a.id < b.id);

/** What kind of hardware a device is, from its model name (Autopilot identities carry no device type). */
export function hardwareOf(model: string | null | undefined): AutopilotHardware {
  const m = (model ?? "").toLowerCase();
  if (m.includes("hololens")) return "holoLens";
  if (m.includes("surface hub 2s")) return "surfaceHub2S";
  if (m.includes("surface hub")) return "surfaceHub2";
  if (m.includes("virtual machine")) return "virtualMachine";
  return "windowsPc";
}

const DETAILED_STATUS: Record<string, string> = {
  windowsPc: "windowsPcProfileNotSupported",
  virtualMachine: "windowsPcProfileNotSupported",
  holoLens: "holoLensProfileNotSupported",
  surfaceHub2: "surfaceHubProfileNotSupported",
  surfaceHub2S: "surfaceHub2SProfileNotSupported",
};

/** A PC profile serves PCs and virtual machines; the others serve their own hardware only. */
function fits(profile: ProfileCandidate["deviceType"], hardware: AutopilotHardware): boolean {
  const pcLike = (t: string) => t === "windowsPc" || t === "virtualMachine";
  return profile === hardware || (pcLike(profile) && pcLike(hardware));
}

export function reachedBy(profile: ProfileCandidate, device: AutopilotDeviceFacts): "group" | "direct" | "allDevices" | undefined {
  const excluded = profile.targets.some((t) => t.kind === "exclusionGroup" && device.groupIds.has(t.groupId));
  if (!excluded) {
    if (profile.directDeviceIds.has(device.identityId)) return "direct";
    if (profile.targets.some((t) => t.kind === "group" && device.groupIds.has(t.groupId))) return "group";
  }
  return profile.targets.some((t) => t.kind === "allDevices") ? "allDevices" : undefined;
}

export function chooseProfile(device: AutopilotDeviceFacts, profiles: readonly ProfileCandidate[]): ProfileChoice {
  let targeted: { profile: ProfileCandidate; via: "group" | "direct" } | undefined;
  let fallback: ProfileCandidate | undefined;
  for (const profile of profiles) {
    const via = reachedBy(profile, device);
    if (via === "allDevices") {
      if (!fallback || older(profile, fallback)) fallback = profile;
    } else if (via && (!targeted || older(profile, targeted.profile))) {
      targeted = { profile, via };
    }
  }
  const winner = targeted ? { profile: targeted.profile, via: targeted.via } : fallback ? { profile: fallback, via: "allDevices" as const } : undefined;
  if (!winner) return { outcome: "notAssigned" };
  if (!fits(winner.profile.deviceType, device.hardware)) {
    return { outcome: "failed", profileId: winner.profile.id, detailedStatus: DETAILED_STATUS[winner.profile.deviceType] ?? "none" };
  }
  return { outcome: "assigned", profileId: winner.profile.id, via: winner.via };
}
