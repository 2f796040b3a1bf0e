// The devices of one fleet call, drawn slice by slice and encoded as the rows the store binds: managed devices,
// Entra devices, Autopilot identities and the devices' group memberships. Pure (no store, no model graph): the
// plan is plain data, so the same drawing runs on the request's thread or on a worker thread, and for a given
// plan both produce exactly the same rows in the same order.

import { narrowRuleRecord } from "../../../directory/dynamicMembership.js";
import { compileMembershipRule, propertiesReadBy } from "../../../directory/membershipRule/index.js";
import { encodeRow, type RowLayout } from "../../../store/entityRows.js";
import { DeviceIds, fleetDevice } from "./fleetDevices.js";
import type { PrimaryUser } from "./fleetUsers.js";
import { SeededRandom } from "./seededRandom.js";

/** A dynamic device group's rule, as text (compiled where the devices are drawn). */
export interface GroupRule {
  groupId: string;
  rule: string;
}

export interface DevicePlan {
  tenantId: string;
  /** The call's random sequence where the devices' draws begin (SeededRandom.state). */
  randomState: number[];
  /** Managed devices of the tenant before the call: ordinals continue after them. */
  existingManaged: number;
  devices: number;
  autopilot: boolean;
  nowMs: number;
  /** Primary users in name order, assigned round-robin. */
  owners: PrimaryUser[];
  /** Every active dynamic device rule the new devices are matched against, in the order memberships are added. */
  rules: GroupRule[];
  /** Static device groups by the position of the device (in the call) that joins them. */
  staticMembers: [number, string[]][];
  layouts: { managed: RowLayout; entra: RowLayout; autopilot: RowLayout };
  sliceSize: number;
  /** The first slice's size: smaller, since the writes wait for it; the next ones grow to `sliceSize` (nextSliceSize). */
  firstSliceSize: number;
}

export interface DeviceSlice {
  /** Row values back to back, in each layout's column order. */
  managed: unknown[];
  entra: unknown[];
  autopilot: unknown[];
  autopilotCount: number;
  /** The rows' documents are UTF-8 bytes (Uint8Array), not texts: SQLite slices from the worker (packedSlice.ts). */
  docAsBytes?: boolean;
  managedIds: string[];
  /**
   * The devices' memberships (member type device) as parallel lists: a slice crosses to the writing thread by
   * structured clone, and thousands of small objects took longer to copy there than the same values in lists.
   */
  memberships: { groupIds: string[]; memberIds: string[]; dynamic: boolean[] };
}

/**
 * Slices grow by half from the first one up to the full size: the writer takes about twice as long per device as
 * the drawing, so while it writes one slice the worker draws the next, larger one, and it never waits for a full
 * slice right after the small first one (it did, ~0.15 s of every 50,000-device call).
 */
export const nextSliceSize = (plan: Pick<DevicePlan, "sliceSize">, size: number) => Math.min(plan.sliceSize, Math.ceil(size * 1.5));

export function* deviceSlices(plan: DevicePlan): Generator<DeviceSlice> {
  const random = new SeededRandom(plan.randomState);
  const compiled = plan.rules.map((r) => ({ groupId: r.groupId, rule: compileMembershipRule(r.rule) }));
  const rules = compiled.map((r) => ({ groupId: r.groupId, matches: r.rule.matches }));
  // Only the properties the rules read: a copy of each whole document was most of the matching's time.
  const read = [...new Set(compiled.flatMap((r) => propertiesReadBy(r.rule.ast)))];
  const staticMembers = new Map(plan.staticMembers);
  const { owners, layouts, tenantId } = plan;
  const ids = new DeviceIds(random);
  for (let done = 0, size = plan.firstSliceSize; done < plan.devices; done += size, size = nextSliceSize(plan, size)) {
    const slice: DeviceSlice = { managed: [], entra: [], autopilot: [], autopilotCount: 0, managedIds: [], memberships: { groupIds: [], memberIds: [], dynamic: [] } };
    const { groupIds, memberIds, dynamic } = slice.memberships;
    let m = 0;
    let e = 0;
    let a = 0;
    const end = Math.min(plan.devices, done + size);
    for (let i = done; i < end; i++) {
      const ordinal = plan.existingManaged + i + 1;
      const user = owners.length > 0 ? owners[(ordinal - 1) % owners.length] : undefined;
      // Oldest first within the call (lastOrdinal - ordinal), after every device of earlier calls (+ firstOrdinal).
      const device = fleetDevice(random, ids, ordinal, plan.existingManaged + plan.devices - i, user, plan.autopilot, plan.nowMs);
      m = encodeRow(layouts.managed, tenantId, device.managed, slice.managed, m);
      slice.managedIds.push(device.managed.id);
      e = encodeRow(layouts.entra, tenantId, device.entra, slice.entra, e);
      if (device.autopilot) {
        a = encodeRow(layouts.autopilot, tenantId, device.autopilot, slice.autopilot, a);
        slice.autopilotCount++;
      }
      if (rules.length > 0) {
        const record = narrowRuleRecord("device", device.entra, read);
        for (const r of rules) {
          if (!r.matches(record)) continue;
          groupIds.push(r.groupId);
          memberIds.push(device.entra.id);
          dynamic.push(true);
        }
      }
      for (const groupId of staticMembers.get(i) ?? []) {
        groupIds.push(groupId);
        memberIds.push(device.entra.id);
        dynamic.push(false);
      }
    }
    yield slice;
  }
}
