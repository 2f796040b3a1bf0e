// Which Intune service family (spec §4.8) a Graph request counts against, from the path the model resolved:
// the entity types its steps address, not the URL text. The first step whose type (or an ancestor) belongs to a
// listed family decides (`/users/{id}/managedDevices` is "devices", `/deviceManagement/deviceConfigurations/{id}/
// assignments` is "deviceConfiguration"); any other path under Intune's singletons is "other" (Autopilot and
// assignment filters among them); a path outside Intune (the directory) is not Intune-throttled.

import type { EntityType } from "../odata/compiledModel.js";
import type { ResolvedPath } from "../odata/pathResolver.js";
import type { ServiceFamily } from "../gate/throttleLimits.js";

/** Entity types of Intune's listed families (types not in the model yet are harmless here). */
const FAMILY_OF_TYPE: ReadonlyMap<string, ServiceFamily> = new Map([
  ["managedDevice", "devices"],
  ["deviceManagementScript", "devices"],
  ["deviceConfiguration", "deviceConfiguration"],
  ["deviceConfigurationAssignment", "deviceConfiguration"],
  ["deviceConfigurationDeviceStatus", "deviceConfiguration"],
  ["deviceConfigurationUserStatus", "deviceConfiguration"],
  ["deviceConfigurationDeviceOverview", "deviceConfiguration"],
  ["deviceConfigurationUserOverview", "deviceConfiguration"],
  ["deviceEnrollmentConfiguration", "enrollment"],
  ["enrollmentConfigurationAssignment", "enrollment"],
]);

/** Types that make a path Intune's even without a listed family. */
const INTUNE_ROOTS = new Set(["deviceManagement", "deviceAppManagement"]);

function familyOfType(type: EntityType): ServiceFamily | undefined {
  for (let t: EntityType | undefined = type; t; t = t.base) {
    const family = FAMILY_OF_TYPE.get(t.name);
    if (family) return family;
  }
  return undefined;
}

export function intuneServiceFamily(resolved: ResolvedPath): ServiceFamily | undefined {
  let intune = false;
  for (const step of resolved.steps) {
    if (step.kind !== "entitySet" && step.kind !== "singleton" && step.kind !== "navigation") continue;
    const family = familyOfType(step.type);
    if (family) return family;
    if (INTUNE_ROOTS.has(step.type.name)) intune = true;
  }
  return intune ? "other" : undefined;
}
