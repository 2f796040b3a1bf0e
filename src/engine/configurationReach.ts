// Which directory objects an include can reach a device through, over a set of configurations' assignments: the
// decision behind skipping devices that no configuration could apply to (spec §3.1). Pure.
//
// An include reaches a device through All devices or All licensed users (anyone), a group holding its Entra device
// or its primary user, a scope tag target naming one of those objects or a group of them, or a ConfigMgr
// collection. Exclusions only take reach away, so they never make a device worth evaluating. Intent, filters and
// scope tag target types only narrow further; they are ignored here, which keeps the answer a superset.

import type { ConfigurationAssignmentInput } from "./configurationApplicability.js";

export interface ConfigurationReach {
  /** Some include reaches every device (All devices, All licensed users). */
  everyone: boolean;
  /** Groups, or directory objects named by scope tag targets, whose members (or who themselves) may be reached. */
  directoryObjectIds: ReadonlySet<string>;
  configurationManagerCollectionIds: ReadonlySet<string>;
}

export function configurationReach(assignmentLists: Iterable<readonly ConfigurationAssignmentInput[]>): ConfigurationReach {
  let everyone = false;
  const directoryObjectIds = new Set<string>();
  const configurationManagerCollectionIds = new Set<string>();
  for (const assignments of assignmentLists) {
    for (const { target: t } of assignments) {
      if (t.kind === "allDevices" || t.kind === "allLicensedUsers") everyone = true;
      else if (t.kind === "group") directoryObjectIds.add(t.groupId);
      else if (t.kind === "scopeTagGroup") directoryObjectIds.add(t.entraObjectId);
      else if (t.kind === "configurationManagerCollection") configurationManagerCollectionIds.add(t.collectionId);
    }
  }
  return { everyone, directoryObjectIds, configurationManagerCollectionIds };
}

/** No include of these assignments can reach any device: an evaluation can only remove rows that exist. */
export function reachesNoOne(reach: ConfigurationReach): boolean {
  return !reach.everyone && reach.directoryObjectIds.size === 0 && reach.configurationManagerCollectionIds.size === 0;
}
