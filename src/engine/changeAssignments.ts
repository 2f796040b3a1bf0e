// changeAssignments on one device (spec §2.5): per-device removal and restoration of assigned items. Pure: the
// request is planned against the device's previous result and its effective removals, and each later step
// advances the result on the clock. The group assignment itself is never touched; what the configuration engine
// honours is the device's effective removal set.
//
// Replace semantics [D]: a call carries the complete desired removal set. Per item of the new result:
//   in the call, not removed yet       → remove, initiated (an item already being removed keeps its progress)
//   in the call, already removed       → kept as it is (remove, removed)
//   in the call, being restored        → remove, initiated again (the newer call wins)
//   removed earlier, not in the call   → restore, initiated (a restore under way keeps its progress)
//   being removed, not in the call     → dropped: the removal never took effect, so there is nothing to restore
// Finished history (succeeded restores, failed removals) not named again leaves the result.
//
// Lifecycle: initiated → inProgress (step 1) → removed | succeeded | error (step 2). An item joins the effective
// removal set when its removal reaches `removed` and leaves it when its restore reaches `succeeded`.

export type AssignmentItemType = "application" | "deviceConfiguration" | "deviceManagementConfigurationPolicy" | "mobileAppConfiguration" | "unknownFutureValue";
export type AssignmentItemIntent = "remove" | "restore" | "unknownFutureValue";
export type AssignmentItemStatus = "initiated" | "inProgress" | "removed" | "error" | "succeeded" | "unknownFutureValue";

/** The documented maximum of items in one result. */
export const MAX_RESULT_ITEMS = 30;
export const CHANGE_ASSIGNMENTS = "changeAssignments";
export const RESULT_TYPE = "#microsoft.graph.changeAssignmentsActionResult";
/** Steps after the one in the request: to inProgress, then to the outcome. */
export const LATER_STEPS = 2;

/** An item of the effective removal set (the managed device's `_removedAssignmentItems`). */
export interface RemovedItem {
  itemId: string;
  itemType: string;
}

export interface DeviceAssignmentItem {
  "@odata.type": "#microsoft.graph.deviceAssignmentItem";
  itemId: string;
  itemType: string;
  itemSubTypeDisplayName: string | null;
  itemDisplayName: string | null;
  assignmentItemActionIntent: AssignmentItemIntent;
  assignmentItemActionStatus: AssignmentItemStatus;
  intentActionMessage: string | null;
  errorCode: number;
  lastActionDateTime: string;
  lastModifiedDateTime: string;
}

export interface ChangeAssignmentsResult {
  "@odata.type": typeof RESULT_TYPE;
  actionName: typeof CHANGE_ASSIGNMENTS;
  actionState: "pending" | "active" | "done" | "failed";
  startDateTime: string;
  lastUpdatedDateTime: string;
  deviceAssignmentItems: DeviceAssignmentItem[];
}

/** One item the call names, already checked to exist, with what the result reports about it. */
export interface DesiredItem {
  itemId: string;
  itemType: string;
  itemDisplayName: string | null;
  itemSubTypeDisplayName: string | null;
}

export const itemKey = (i: { itemId: string; itemType: string }) => `${i.itemType}/${i.itemId.toLowerCase()}`;

const inFlight = (s: AssignmentItemStatus) => s === "initiated" || s === "inProgress";

function newItem(from: DesiredItem | DeviceAssignmentItem, intent: AssignmentItemIntent, at: string): DeviceAssignmentItem {
  return {
    "@odata.type": "#microsoft.graph.deviceAssignmentItem",
    itemId: from.itemId,
    itemType: from.itemType,
    itemSubTypeDisplayName: from.itemSubTypeDisplayName ?? null,
    itemDisplayName: from.itemDisplayName ?? null,
    assignmentItemActionIntent: intent,
    assignmentItemActionStatus: "initiated",
    intentActionMessage: null,
    errorCode: 0,
    lastActionDateTime: at,
    lastModifiedDateTime: at,
  };
}

/** The result's action state follows its items: pending while any is initiated, active while any is in progress. */
export function actionStateOf(items: DeviceAssignmentItem[]): ChangeAssignmentsResult["actionState"] {
  if (items.some((i) => i.assignmentItemActionStatus === "initiated")) return "pending";
  if (items.some((i) => i.assignmentItemActionStatus === "inProgress")) return "active";
  return items.some((i) => i.assignmentItemActionStatus === "error") ? "failed" : "done";
}

export type Plan = { ok: true; result: ChangeAssignmentsResult; started: boolean } | { ok: false; itemCount: number };

/**
 * The new result of a call naming `desired` (distinct items), given the previous result and the effective
 * removals. `ok: false` when the result would hold more than 30 items. `started`: some item needs the lifecycle.
 */
export function planChangeAssignments(previous: ChangeAssignmentsResult | undefined, removed: RemovedItem[], desired: DesiredItem[], at: string): Plan {
  const before = new Map((previous?.deviceAssignmentItems ?? []).map((i) => [itemKey(i), i]));
  const removedKeys = new Set(removed.map(itemKey));
  const desiredKeys = new Set(desired.map(itemKey));
  const items: DeviceAssignmentItem[] = [];
  for (const d of desired) {
    const was = before.get(itemKey(d));
    const keep = was && was.assignmentItemActionIntent === "remove" && (inFlight(was.assignmentItemActionStatus) || (was.assignmentItemActionStatus === "removed" && removedKeys.has(itemKey(d))));
    if (keep) items.push(was);
    else if (removedKeys.has(itemKey(d)) && !(was && was.assignmentItemActionIntent === "restore")) {
      // Removed by an earlier result that has since been replaced: still removed.
      items.push({ ...newItem(d, "remove", at), assignmentItemActionStatus: "removed", lastActionDateTime: was?.lastActionDateTime ?? at });
    } else items.push(newItem(d, "remove", at));
  }
  for (const r of removed) {
    if (desiredKeys.has(itemKey(r))) continue;
    const was = before.get(itemKey(r));
    if (was && was.assignmentItemActionIntent === "restore" && inFlight(was.assignmentItemActionStatus)) items.push(was);
    else items.push(newItem(was ?? { ...r, itemDisplayName: null, itemSubTypeDisplayName: null }, "restore", at));
  }
  if (items.length > MAX_RESULT_ITEMS) return { ok: false, itemCount: items.length };
  const result: ChangeAssignmentsResult = {
    "@odata.type": RESULT_TYPE,
    actionName: CHANGE_ASSIGNMENTS,
    actionState: actionStateOf(items),
    startDateTime: at,
    lastUpdatedDateTime: at,
    deviceAssignmentItems: items,
  };
  return { ok: true, result, started: items.some((i) => inFlight(i.assignmentItemActionStatus)) };
}

/** Why an item cannot be removed from the device any more (deleted, no longer assigned), or undefined. */
export type ItemCheck = (item: DeviceAssignmentItem) => { errorCode: number; message: string } | undefined;

/**
 * Applies lifecycle step 1 (initiated → inProgress) or 2 (inProgress → outcome). Returns the new result and the
 * new effective removal set.
 */
export function advanceChangeAssignments(
  step: number,
  result: ChangeAssignmentsResult,
  removed: RemovedItem[],
  at: string,
  check: ItemCheck,
): { result: ChangeAssignmentsResult; removed: RemovedItem[] } {
  let nextRemoved = removed;
  const items = result.deviceAssignmentItems.map((item): DeviceAssignmentItem => {
    if (step === 1 && item.assignmentItemActionStatus === "initiated") {
      const message = item.assignmentItemActionIntent === "remove" ? "Removing the item from the device." : "Restoring the item on the device.";
      return { ...item, assignmentItemActionStatus: "inProgress", intentActionMessage: message, lastModifiedDateTime: at };
    }
    if (step !== 2 || item.assignmentItemActionStatus !== "inProgress") return item;
    if (item.assignmentItemActionIntent === "restore") {
      // Lifting a removal always succeeds: the item applies again through its group assignment (if it still has one).
      nextRemoved = nextRemoved.filter((r) => itemKey(r) !== itemKey(item));
      return { ...item, assignmentItemActionStatus: "succeeded", intentActionMessage: null, errorCode: 0, lastModifiedDateTime: at };
    }
    const failure = check(item);
    if (failure) return { ...item, assignmentItemActionStatus: "error", intentActionMessage: failure.message, errorCode: failure.errorCode, lastModifiedDateTime: at };
    if (!nextRemoved.some((r) => itemKey(r) === itemKey(item))) nextRemoved = [...nextRemoved, { itemId: item.itemId, itemType: item.itemType }];
    return { ...item, assignmentItemActionStatus: "removed", intentActionMessage: null, errorCode: 0, lastModifiedDateTime: at };
  });
  return { result: { ...result, actionState: actionStateOf(items), lastUpdatedDateTime: at, deviceAssignmentItems: items }, removed: nextRemoved };
}

/** itemSubTypeDisplayName of a device configuration, from its @odata.type (the documented value list). */
export function configurationSubType(odataType: string): string {
  const t = odataType.replace(/^#?microsoft\.graph\./, "");
  const known: [RegExp, string][] = [
    [/CustomConfiguration$/, "custom"],
    [/GeneralConfiguration$|DeviceRestriction|RestrictionConfiguration$/, "deviceRestrictions"],
    [/EndpointProtectionConfiguration$/, "endpointProtection"],
    [/WiredNetwork/i, "wiredNetwork"],
    [/Wi[Ff]i/, "wiFi"],
    [/Vpn/i, "vpn"],
    [/Email|Eas/, "email"],
    [/TrustedRootCertificate|TrustedCertificate/, "trustedCertificate"],
    [/Scep/, "scepCertificate"],
    [/Pkcs/, "pkcsCertificate"],
    [/UpdateForBusiness/, "windowsUpdateforBusiness"],
    [/DeliveryOptimization/, "deliveryOptimization"],
    [/IdentityProtection/, "identityProtection"],
    [/Kiosk/i, "kiosk"],
    [/HealthMonitoring/, "windowsHealthMonitoring"],
    [/EditionUpgrade/, "editionUpgradeAndModeSwitch"],
    [/DomainJoin/, "domainJoinPreview"],
    [/SharedPC|SharedMultiUser/i, "sharedMultiUserDevice"],
    [/DeviceFeatures/, "deviceFeatures"],
  ];
  return known.find(([re]) => re.test(t))?.[1] ?? "unknown";
}
