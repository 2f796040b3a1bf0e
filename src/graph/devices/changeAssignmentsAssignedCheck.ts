// Whether a device configuration still applies to a device through its group assignments, asked of the
// configuration engine when a changeAssignments removal is about to take effect: a configuration that no longer
// reaches the device (unassigned, excluded, filtered out, or to be removed by an intent-remove assignment) has
// nothing to remove, and the item ends in `error`.

import type { ConfigurationStates } from "../configurations/configurationStates.js";
import type { AssignedCheck } from "./changeAssignmentsRequests.js";

export function assignedThroughEngine(states: ConfigurationStates): AssignedCheck {
  return async (services, tx, tenantId, deviceId, item) => {
    if (item.itemType !== "deviceConfiguration") return undefined;
    const device = await services.entities.get(tx, states.facts.managedDevices, tenantId, deviceId);
    const catalogue = await states.catalogue(tx, tenantId);
    const configuration = catalogue.configurations.get(item.itemId);
    if (!device || !configuration) return undefined; // existence is checked on its own
    const [{ facts }] = await states.facts.read(tx, tenantId, [device]);
    const { outcome } = states.evaluate(catalogue, configuration, device, facts);
    return outcome === "applies" || outcome === "removedByChangeAssignments";
  };
}
