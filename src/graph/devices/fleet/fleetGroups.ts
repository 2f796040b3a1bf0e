// The fleet's groups: static user groups, static device groups and dynamic device groups with real rules, in a
// fixed rotation by the group's ordinal so every call of three or more groups has each kind.

import { compileMembershipRule, type CompiledMembershipRule } from "../../../directory/membershipRule/index.js";
import type { StoredEntity } from "../../../store/entityStore.js";
import type { SeededRandom } from "./seededRandom.js";

export type FleetGroupKind = "dynamicDevice" | "staticUser" | "staticDevice";

export interface FleetGroup {
  entity: StoredEntity;
  kind: FleetGroupKind;
  rule?: CompiledMembershipRule;
  /** How many static members to draw (capped by what exists). */
  size: number;
}

const KINDS: readonly FleetGroupKind[] = ["dynamicDevice", "staticUser", "staticDevice"];

const tagRule = (tag: string) => `(device.devicePhysicalIds -any (_ -eq "[OrderID]:${tag}"))`;

export const DYNAMIC_RULES: readonly { label: string; rule: string }[] = [
  { label: "Autopilot - Standard", rule: tagRule("Microsoft365Managed_Standard") },
  { label: "Surface devices", rule: 'device.deviceModel -startsWith "Surface"' },
  { label: "iOS devices", rule: 'device.deviceOSType -eq "iOS"' },
  { label: "Autopilot - Sensitive data", rule: tagRule("Microsoft365Managed_SensitiveData") },
  { label: "Corporate Windows devices", rule: '(device.deviceOSType -eq "Windows") -and (device.deviceOwnership -eq "Company")' },
  { label: "Autopilot - Power users", rule: tagRule("Microsoft365Managed_PowerUser") },
  { label: "Android devices", rule: 'device.deviceOSType -eq "Android"' },
  { label: "All Autopilot devices", rule: '(device.devicePhysicalIds -any (_ -startsWith "[ZTDId]"))' },
  { label: "Dell devices", rule: 'device.deviceManufacturer -eq "Dell Inc."' },
  { label: "Windows 11 24H2", rule: 'device.deviceOSVersion -startsWith "10.0.26100"' },
  { label: "ThinkPads", rule: 'device.deviceModel -in ["ThinkPad T14 Gen 4", "ThinkPad X1 Carbon Gen 11", "ThinkPad L14 Gen 4"]' },
  { label: "Shared frontline devices", rule: tagRule("Shared-Frontline") },
  { label: "Macs", rule: 'device.deviceOSType -eq "MacMDM"' },
  { label: "Personal devices", rule: 'device.deviceOwnership -eq "Personal"' },
  { label: "Engineering lab devices", rule: tagRule("Engineering-Lab") },
  { label: "Windows 10 devices", rule: '(device.deviceOSType -eq "Windows") -and (device.deviceOSVersion -startsWith "10.0.19045")' },
];

const STATIC_USER_LABELS = ["Pilot users", "Executives", "Remote workers", "Finance approvers", "Field engineers", "Help desk"];
const STATIC_DEVICE_LABELS = ["Pilot devices", "Loaner pool", "Kiosk devices", "Conference rooms", "Lab machines", "VIP devices"];

/** The group with this ordinal (1-based, counting every group of the tenant). */
export function fleetGroup(random: SeededRandom, ordinal: number, nowMs: number): FleetGroup {
  const kind = KINDS[(ordinal - 1) % KINDS.length];
  const round = Math.floor((ordinal - 1) / KINDS.length);
  const number = String(ordinal).padStart(5, "0");
  const base = { mailEnabled: false, securityEnabled: true, isAssignableToRole: false, visibility: "Private", createdDateTime: new Date(nowMs).toISOString(), renewedDateTime: new Date(nowMs).toISOString() };
  let doc: Record<string, unknown>;
  let rule: CompiledMembershipRule | undefined;
  let size = 0;
  if (kind === "dynamicDevice") {
    const template = DYNAMIC_RULES[round % DYNAMIC_RULES.length];
    rule = compileMembershipRule(template.rule);
    doc = {
      ...base,
      displayName: `FLT${number} - ${template.label}`,
      description: `Dynamic device group: ${template.label}.`,
      mailNickname: `flt${number}-dynamic`,
      groupTypes: ["DynamicMembership"],
      membershipRule: template.rule,
      membershipRuleProcessingState: "On",
    };
  } else {
    const label = (kind === "staticUser" ? STATIC_USER_LABELS : STATIC_DEVICE_LABELS)[round % STATIC_USER_LABELS.length];
    size = kind === "staticUser" ? 10 + random.int(191) : 10 + random.int(491);
    doc = {
      ...base,
      displayName: `FLT${number} - ${label}`,
      description: `Static ${kind === "staticUser" ? "user" : "device"} group: ${label}.`,
      mailNickname: `flt${number}-${kind === "staticUser" ? "users" : "devices"}`,
      groupTypes: [],
    };
  }
  return { entity: { id: random.uuid(), type: "group", seq: 0, doc }, kind, rule, size };
}

/** `count` distinct positions in [0, n), drawn deterministically. */
export function drawPositions(random: SeededRandom, n: number, count: number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(random.int(n));
  return [...chosen];
}
