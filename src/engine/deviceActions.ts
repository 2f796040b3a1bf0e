// The lifecycles of a managed device's remote actions (spec §2.5 [I]). Pure: each step takes the device document
// and the time and returns the next document. The first step runs in the request; the others on the clock.
//
//   wipe:       managementState wipePending, result pending → wipeIssued, active → done: the device has been
//               reset (re-enrolled as Autopilot does, never synced since, compliance unknown), managed again
//   retire:     retirePending, pending → retireIssued, active → done (company data removed; device stays listed)
//   syncDevice: result pending → done, lastSyncDateTime stamped

export type DeviceActionName = "wipe" | "retire" | "syncDevice";
export type DeviceDocument = Record<string, unknown>;

export interface DeviceActionResult {
  "@odata.type": "#microsoft.graph.deviceActionResult";
  actionName: string;
  actionState: "none" | "pending" | "canceled" | "active" | "done" | "failed" | "notSupported";
  startDateTime: string;
  lastUpdatedDateTime: string;
}

type Step = (device: DeviceDocument, at: string) => DeviceDocument;

/** Never synced since a reset: Intune shows the minimum date. */
export const NEVER = "0001-01-01T00:00:00.000Z";

function withResult(device: DeviceDocument, action: string, state: DeviceActionResult["actionState"], at: string, start = false): DeviceDocument {
  const results = ((device.deviceActionResults as DeviceActionResult[] | undefined) ?? []).filter((r) => r.actionName !== action || !start);
  const existing = results.find((r) => r.actionName === action);
  // deviceActionResult has a derived type (changeAssignmentsActionResult), so every value says which it is.
  const next: DeviceActionResult = { "@odata.type": "#microsoft.graph.deviceActionResult", actionName: action, actionState: state, startDateTime: existing?.startDateTime ?? at, lastUpdatedDateTime: at };
  // Intune keeps the latest result per action name.
  return { ...device, deviceActionResults: [...results.filter((r) => r.actionName !== action), next] };
}

const LIFECYCLES: Record<DeviceActionName, Step[]> = {
  wipe: [
    (d, at) => ({ ...withResult(d, "wipe", "pending", at, true), managementState: "wipePending" }),
    (d, at) => ({ ...withResult(d, "wipe", "active", at), managementState: "wipeIssued" }),
    (d, at) => ({
      ...withResult(d, "wipe", "done", at),
      managementState: "managed",
      enrolledDateTime: at,
      lastSyncDateTime: NEVER,
      complianceState: "unknown",
    }),
  ],
  retire: [
    (d, at) => ({ ...withResult(d, "retire", "pending", at, true), managementState: "retirePending" }),
    (d, at) => ({ ...withResult(d, "retire", "active", at), managementState: "retireIssued" }),
    (d, at) => withResult(d, "retire", "done", at),
  ],
  syncDevice: [(d, at) => withResult(d, "syncDevice", "pending", at, true), (d, at) => ({ ...withResult(d, "syncDevice", "done", at), lastSyncDateTime: at })],
};

export const isDeviceAction = (name: string): name is DeviceActionName => name in LIFECYCLES;

export const stepCount = (action: DeviceActionName) => LIFECYCLES[action].length;

export function applyDeviceActionStep(action: DeviceActionName, step: number, device: DeviceDocument, at: string): DeviceDocument {
  const f = LIFECYCLES[action][step];
  if (!f) throw new Error(`${action} has no step ${step}`);
  return f(device, at);
}
