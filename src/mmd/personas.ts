// Microsoft Managed Desktop personas (spec §1.3): which exist, which can be reassigned to, and how a persona maps
// to an Autopilot group tag and back. Pure.

/** Personas a device can be reassigned to, in the order MMD lists them. */
export const REASSIGNABLE_PERSONAS = ["SensitiveData", "Standard", "PowerUser", "Kiosk"] as const;
export type Persona = (typeof REASSIGNABLE_PERSONAS)[number];

/** Every persona value a device may show; Starter appears only in the device schema and cannot be assigned. */
export const DEVICE_PERSONAS = [...REASSIGNABLE_PERSONAS, "Starter"] as const;

const TAG_PREFIX = "Microsoft365Managed_";
const SHARED = "-Shared";

/** Persona names are matched case-insensitively and answered in their documented spelling. */
export function reassignablePersona(name: string): Persona | undefined {
  return REASSIGNABLE_PERSONAS.find((p) => p.toLowerCase() === name.toLowerCase());
}

export const isSharedTag = (tag: string | null | undefined) => (tag ?? "").endsWith(SHARED);

/** The group tag for a persona, keeping a shared device shared. */
export function groupTagFor(persona: Persona, currentTag: string | null | undefined): string {
  return `${TAG_PREFIX}${persona}${isSharedTag(currentTag) ? SHARED : ""}`;
}

/** The persona a group tag names, if it is an MMD tag. */
export function personaOfTag(tag: string | null | undefined): string | undefined {
  if (!tag || !tag.startsWith(TAG_PREFIX)) return undefined;
  const name = tag.slice(TAG_PREFIX.length).replace(new RegExp(`${SHARED}$`), "");
  return DEVICE_PERSONAS.find((p) => p.toLowerCase() === name.toLowerCase());
}

/** PowerUser is not supported in shared-device mode (MMD prepare/shared-devices). */
export const personaAllowedFor = (persona: Persona, currentTag: string | null | undefined) => !(persona === "PowerUser" && isSharedTag(currentTag));

export const personaGroupName = (persona: string) => `Modern Workplace Device Profiles - ${persona}`;

/** The dynamic rule of a persona's device group: its tag, shared or not. */
export const personaGroupRule = (persona: Persona) =>
  `(device.devicePhysicalIds -any (_ -eq "[OrderID]:${TAG_PREFIX}${persona}")) -or (device.devicePhysicalIds -any (_ -eq "[OrderID]:${TAG_PREFIX}${persona}${SHARED}"))`;
