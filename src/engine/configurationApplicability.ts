// Whether one device configuration applies to one managed device, and why (spec §2.7, §3.1, §3.2). Pure: the
// caller supplies the device's facts (its Entra device's groups, its primary user's groups and licence, its
// ConfigMgr collections, its changeAssignments removals), the configuration's assignments, and a callback that
// answers whether an assignment filter matches this device.
//
// The steps, in order:
// 1. Reach. Each include target reaches the device by device (its Entra device is in the group, All devices, a
//    ConfigMgr collection holding it) and/or by user (its primary user is in the group, All licensed users).
//    A group holding both the device and its user reaches it both ways.
// 2. Exclusions of the same kind only (§3.1): an exclusion group holding the device removes device-kind reach, one
//    holding the primary user removes user-kind reach. A cross-kind exclusion is ignored, so an include survives
//    while any reach is left. Exclusions act on includes of either intent; a filter on an exclusion is ignored.
// 3. Filters (§3.2), per intent: among the surviving includes, precedence exclude > no filter > include decides
//    which mode's assignments are evaluated; the others are "Not evaluated". An include-mode assignment applies
//    when the device matches its filter, an exclude-mode one when it does not; within the winning mode the results
//    are OR-ed (the intent reaches the device when any one of its assignments applies).
// 4. Intent (§2.7) [I]: each intent is evaluated on its own assignments; when `remove` reaches the device the
//    configuration is to be removed from it, whatever `apply` says (an explicit removal is the stronger statement).
// 5. Per-device override [I]: a configuration removed from this device with changeAssignments does not apply,
//    whatever its assignments say.

export type ConfigurationTarget =
  | { kind: "group"; groupId: string }
  | { kind: "exclusionGroup"; groupId: string }
  | { kind: "allDevices" }
  | { kind: "allLicensedUsers" }
  | { kind: "configurationManagerCollection"; collectionId: string }
  /** targetType device/user restricts the object kind that can be reached; none reaches either. */
  | { kind: "scopeTagGroup"; targetType: "none" | "user" | "device" | "unknownFutureValue"; entraObjectId: string }
  /** A target type the engine does not resolve (androidFotaDeployment, organizationalUnit): it reaches nothing. */
  | { kind: "unsupported"; odataType: string };

export type FilterMode = "include" | "exclude";
export type ConfigurationIntent = "apply" | "remove";

export interface ConfigurationAssignmentInput {
  id: string;
  target: ConfigurationTarget;
  /** An assignment filter with mode include or exclude; absent (or mode none) when the assignment has none. */
  filter?: { id: string; mode: FilterMode };
  intent: ConfigurationIntent;
}

export interface ConfigurationDeviceFacts {
  managedDeviceId: string;
  /** The Entra device's object id, when the managed device has one (scope tag targets may name it directly). */
  entraDeviceObjectId?: string;
  /** Groups holding the Entra device. */
  deviceGroupIds: ReadonlySet<string>;
  primaryUser?: { id: string; groupIds: ReadonlySet<string>; licensed: boolean };
  configurationManagerCollectionIds: ReadonlySet<string>;
  /** Configuration ids removed from this device with changeAssignments (itemType deviceConfiguration). */
  removedConfigurationIds: ReadonlySet<string>;
}

/** Does filter `filterId` match this device? undefined when the filter does not exist. */
export type FilterMatch = (filterId: string) => boolean | undefined;

export type ReachKind = "device" | "user";
export type ReachSource = "deviceGroup" | "userGroup" | "allDevices" | "allLicensedUsers" | "configurationManagerCollection" | "scopeTagGroup";

export interface Reach {
  kind: ReachKind;
  source: ReachSource;
  /** The exclusion assignments of the same kind that removed this reach. */
  excludedBy: string[];
}

export type FilterResult = "match" | "noMatch" | "notEvaluated" | "filterNotFound" | "ignored";

export type AssignmentOutcome =
  /** The target does not reach the device. */
  | "notTargeted"
  /** An exclusion target: `excludes` tells whether it holds the device or its user. */
  | "exclusion"
  /** Every reach was removed by a same-kind exclusion. */
  | "excluded"
  /** Another filter mode of the same intent won (§3.2). */
  | "notEvaluated"
  /** Its filter decided against the device. */
  | "filteredOut"
  | "applies";

export interface AssignmentEvaluation {
  assignmentId: string;
  intent: ConfigurationIntent;
  target: ConfigurationTarget;
  reach: Reach[];
  /** For exclusion targets: the kinds this exclusion removes for this device (empty when it holds neither). */
  excludes?: ReachKind[];
  filter?: { id: string; mode: FilterMode; result: FilterResult };
  outcome: AssignmentOutcome;
  reason: string;
}

export type ApplicabilityOutcome = "applies" | "removeIntent" | "removedByChangeAssignments" | "filteredOut" | "excluded" | "notTargeted";

export interface ConfigurationApplicability {
  configurationId: string;
  applies: boolean;
  outcome: ApplicabilityOutcome;
  /** The assignment(s) that decided the outcome (the applying ones, the removing ones, the excluding ones…). */
  decidingAssignmentIds: string[];
  assignments: AssignmentEvaluation[];
  reason: string;
}

/** The reach of an include target, before exclusions. */
function reachOf(target: ConfigurationTarget, device: ConfigurationDeviceFacts): Reach[] {
  const user = device.primaryUser;
  const reach = (kind: ReachKind, source: ReachSource): Reach => ({ kind, source, excludedBy: [] });
  switch (target.kind) {
    case "group": {
      const out: Reach[] = [];
      if (device.deviceGroupIds.has(target.groupId)) out.push(reach("device", "deviceGroup"));
      if (user?.groupIds.has(target.groupId)) out.push(reach("user", "userGroup"));
      return out;
    }
    case "allDevices":
      return [reach("device", "allDevices")];
    case "allLicensedUsers":
      return user?.licensed ? [reach("user", "allLicensedUsers")] : [];
    case "configurationManagerCollection":
      return device.configurationManagerCollectionIds.has(target.collectionId) ? [reach("device", "configurationManagerCollection")] : [];
    case "scopeTagGroup": {
      const id = target.entraObjectId;
      const out: Reach[] = [];
      const byDevice = device.deviceGroupIds.has(id) || device.entraDeviceObjectId === id;
      const byUser = !!user && (user.groupIds.has(id) || user.id === id);
      if (target.targetType !== "user" && byDevice) out.push(reach("device", "scopeTagGroup"));
      if (target.targetType !== "device" && byUser) out.push(reach("user", "scopeTagGroup"));
      return out;
    }
    case "exclusionGroup":
    case "unsupported":
      return [];
  }
}

/** The kinds an exclusion group removes for this device: device if it holds the device, user if it holds the user. */
function exclusionKinds(groupId: string, device: ConfigurationDeviceFacts): ReachKind[] {
  const out: ReachKind[] = [];
  if (device.deviceGroupIds.has(groupId)) out.push("device");
  if (device.primaryUser?.groupIds.has(groupId)) out.push("user");
  return out;
}

const describeReach = (r: Reach) =>
  ({
    deviceGroup: "the device is a member of the group",
    userGroup: "the primary user is a member of the group",
    allDevices: "All devices",
    allLicensedUsers: "the primary user is licensed (All licensed users)",
    configurationManagerCollection: "the device is in the ConfigMgr collection",
    scopeTagGroup: r.kind === "device" ? "the device is in the scope tag group" : "the primary user is in the scope tag group",
  })[r.source];

export function evaluateConfiguration(
  configurationId: string,
  assignments: readonly ConfigurationAssignmentInput[],
  device: ConfigurationDeviceFacts,
  filterMatches: FilterMatch,
): ConfigurationApplicability {
  // Step 2's inputs: which exclusions hold the device or the user.
  const deviceExclusions: string[] = [];
  const userExclusions: string[] = [];
  const evaluations: AssignmentEvaluation[] = [];
  for (const a of assignments) {
    if (a.target.kind !== "exclusionGroup") continue;
    const kinds = exclusionKinds(a.target.groupId, device);
    if (kinds.includes("device")) deviceExclusions.push(a.id);
    if (kinds.includes("user")) userExclusions.push(a.id);
  }

  const survivors: AssignmentEvaluation[] = [];
  for (const a of assignments) {
    const evaluation: AssignmentEvaluation = { assignmentId: a.id, intent: a.intent, target: a.target, reach: [], outcome: "notTargeted", reason: "" };
    if (a.filter) evaluation.filter = { id: a.filter.id, mode: a.filter.mode, result: "notEvaluated" };
    evaluations.push(evaluation);
    if (a.target.kind === "exclusionGroup") {
      const kinds = exclusionKinds(a.target.groupId, device);
      evaluation.outcome = "exclusion";
      evaluation.excludes = kinds;
      if (evaluation.filter) evaluation.filter.result = "ignored";
      evaluation.reason = kinds.length === 0
        ? "exclusion group holds neither the device nor its primary user"
        : `exclusion group holds the ${kinds.map((k) => (k === "device" ? "device" : "primary user")).join(" and the ")}: removes ${kinds.join(" and ")}-kind includes`;
      continue;
    }
    if (a.target.kind === "unsupported") {
      evaluation.reason = `target type ${a.target.odataType} is not resolved to devices`;
      continue;
    }
    evaluation.reach = reachOf(a.target, device);
    if (evaluation.reach.length === 0) {
      evaluation.reason = "the target reaches neither the device nor its primary user";
      continue;
    }
    for (const r of evaluation.reach) r.excludedBy = r.kind === "device" ? deviceExclusions : userExclusions;
    const left = evaluation.reach.filter((r) => r.excludedBy.length === 0);
    if (left.length === 0) {
      evaluation.outcome = "excluded";
      evaluation.reason = `excluded by a ${[...new Set(evaluation.reach.map((r) => r.kind))].join("/")}-kind exclusion group`;
      continue;
    }
    evaluation.reason = left.map(describeReach).join("; ");
    survivors.push(evaluation);
  }

  const byIntent = (intent: ConfigurationIntent) => resolveFilters(survivors.filter((e) => e.intent === intent), filterMatches);
  const remove = byIntent("remove");
  const apply = byIntent("apply");

  const result = (outcome: ApplicabilityOutcome, deciding: string[], reason: string): ConfigurationApplicability => ({
    configurationId, applies: outcome === "applies", outcome, decidingAssignmentIds: deciding, assignments: evaluations, reason,
  });

  if (remove.length > 0) {
    return result("removeIntent", remove, "an assignment with intent remove reaches the device: the configuration is to be removed from it");
  }
  if (apply.length > 0) {
    if (device.removedConfigurationIds.has(configurationId)) return result("removedByChangeAssignments", apply, "removed by changeAssignments");
    return result("applies", apply, "applies through " + apply.join(", "));
  }
  const filtered = evaluations.filter((e) => e.outcome === "filteredOut").map((e) => e.assignmentId);
  if (filtered.length > 0) return result("filteredOut", filtered, "every assignment reaching the device was filtered out");
  const excluded = evaluations.filter((e) => e.outcome === "excluded");
  if (excluded.length > 0) {
    const by = [...new Set(excluded.flatMap((e) => e.reach.flatMap((r) => r.excludedBy)))];
    return result("excluded", by, "every include reaching the device is removed by an exclusion of the same kind");
  }
  return result("notTargeted", [], "no assignment targets the device or its primary user");
}

/**
 * §3.2 for the surviving includes of one intent: only the winning filter mode is evaluated, its results OR-ed.
 * Fills in each evaluation's outcome and filter result; answers the ids of the assignments that apply.
 */
function resolveFilters(includes: AssignmentEvaluation[], filterMatches: FilterMatch): string[] {
  if (includes.length === 0) return [];
  const modeOf = (e: AssignmentEvaluation): "exclude" | "none" | "include" => e.filter?.mode ?? "none";
  const winner = includes.some((e) => modeOf(e) === "exclude") ? "exclude" : includes.some((e) => modeOf(e) === "none") ? "none" : "include";
  const applying: string[] = [];
  for (const e of includes) {
    const mode = modeOf(e);
    if (mode !== winner) {
      e.outcome = "notEvaluated";
      e.reason += `; Not evaluated: an assignment with ${winner === "none" ? "no filter" : `an ${winner} filter`} takes precedence`;
      continue;
    }
    if (!e.filter) {
      e.outcome = "applies";
      applying.push(e.assignmentId);
      continue;
    }
    const matched = filterMatches(e.filter.id);
    if (matched === undefined) {
      e.filter.result = "filterNotFound";
      e.outcome = "filteredOut";
      e.reason += `; filter ${e.filter.id} does not exist`;
      continue;
    }
    e.filter.result = matched ? "match" : "noMatch";
    const applies = mode === "include" ? matched : !matched;
    e.outcome = applies ? "applies" : "filteredOut";
    e.reason += `; ${mode} filter ${matched ? "matches" : "does not match"} the device`;
    if (applies) applying.push(e.assignmentId);
  }
  return applying;
}

/**
 * The same decision as evaluateConfiguration(...).applies, without building the explanation: the bulk path of
 * re-evaluation (a full pass evaluates millions of pairs). A property test holds the two equal.
 */
export function configurationApplies(
  configurationId: string,
  assignments: readonly ConfigurationAssignmentInput[],
  device: ConfigurationDeviceFacts,
  filterMatches: FilterMatch,
): boolean {
  const user = device.primaryUser;
  let deviceExcluded = false;
  let userExcluded = false;
  for (const a of assignments) {
    if (a.target.kind !== "exclusionGroup") continue;
    if (device.deviceGroupIds.has(a.target.groupId)) deviceExcluded = true;
    if (user?.groupIds.has(a.target.groupId)) userExcluded = true;
  }
  // Modes present among the surviving includes, per intent: bit 1 exclude, 2 none, 4 include.
  let applyModes = 0;
  let removeModes = 0;
  const survivors: ConfigurationAssignmentInput[] = [];
  for (const a of assignments) {
    if (!survives(a.target, device, deviceExcluded, userExcluded)) continue;
    survivors.push(a);
    const bit = a.filter ? (a.filter.mode === "exclude" ? 1 : 4) : 2;
    if (a.intent === "remove") removeModes |= bit;
    else applyModes |= bit;
  }
  if (survivors.length === 0) return false;
  if (removeModes !== 0 && intentApplies(survivors, "remove", winningMode(removeModes), filterMatches)) return false;
  if (applyModes === 0 || !intentApplies(survivors, "apply", winningMode(applyModes), filterMatches)) return false;
  return !device.removedConfigurationIds.has(configurationId);
}

const winningMode = (modes: number) => (modes & 1 ? 1 : modes & 2 ? 2 : 4);

function intentApplies(survivors: readonly ConfigurationAssignmentInput[], intent: ConfigurationIntent, mode: number, filterMatches: FilterMatch): boolean {
  for (const a of survivors) {
    if (a.intent !== intent) continue;
    const bit = a.filter ? (a.filter.mode === "exclude" ? 1 : 4) : 2;
    if (bit !== mode) continue;
    if (!a.filter) return true;
    const matched = filterMatches(a.filter.id);
    if (matched === undefined) continue;
    if (a.filter.mode === "include" ? matched : !matched) return true;
  }
  return false;
}

/** Whether an include target reaches the device by a kind no same-kind exclusion removed. */
function survives(target: ConfigurationTarget, device: ConfigurationDeviceFacts, deviceExcluded: boolean, userExcluded: boolean): boolean {
  const user = device.primaryUser;
  switch (target.kind) {
    case "group":
      return (!deviceExcluded && device.deviceGroupIds.has(target.groupId)) || (!userExcluded && !!user?.groupIds.has(target.groupId));
    case "allDevices":
      return !deviceExcluded;
    case "allLicensedUsers":
      return !userExcluded && !!user?.licensed;
    case "configurationManagerCollection":
      return !deviceExcluded && device.configurationManagerCollectionIds.has(target.collectionId);
    case "scopeTagGroup": {
      const id = target.entraObjectId;
      const byDevice = target.targetType !== "user" && (device.deviceGroupIds.has(id) || device.entraDeviceObjectId === id);
      const byUser = target.targetType !== "device" && !!user && (user.groupIds.has(id) || user.id === id);
      return (!deviceExcluded && byDevice) || (!userExcluded && byUser);
    }
    case "exclusionGroup":
    case "unsupported":
      return false;
  }
}
