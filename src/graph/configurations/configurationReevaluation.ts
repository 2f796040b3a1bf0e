// What re-evaluates what, inside the transaction of the change (incremental: nothing recomputes the tenant for a
// local change):
// - an assignment created, changed or deleted: its configuration, over the devices it reaches before and after;
// - a configuration's settings changed: its devices receive the new version (pending again); deleted: its state goes;
// - a filter's rule or platform changed: the configurations using it, over the devices they reach;
// - a managed device enrolled, changed or deleted, or its changeAssignments removals changed: that device;
// - a group membership change of an Entra device or a user: the managed devices of that device or user.

import type { MembershipChange } from "../../directory/memberships.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EntityBehaviours, GraphContext, GraphServices } from "../graphContext.js";
import type { ConfigurationListener } from "./configurationListeners.js";
import type { ConfigurationStates } from "./configurationStates.js";

/** The configuration engine's listener on the graph surface of configurations and filters. */
export function configurationReevaluation(states: ConfigurationStates): ConfigurationListener {
  return {
    async assignmentsChanged(ctx, tx, configurationId) {
      await states.reevaluateConfiguration(tx, ctx.tenantId, configurationId);
    },
    async configurationChanged(ctx, tx, after, before) {
      if (!after && before) await states.forgetConfiguration(tx, ctx.tenantId, before.id);
      else if (after && before) await states.redeliver(tx, ctx.tenantId, after.id);
    },
    async filterRuleChanged(ctx, tx, after, before) {
      const filterId = (after ?? before)!.id;
      const catalogue = await states.catalogue(tx, ctx.tenantId);
      for (const configurationId of catalogue.usingFilter(filterId)) await states.reevaluateConfiguration(tx, ctx.tenantId, configurationId);
    },
  };
}

/** Managed devices enrolled, changed or deleted through Graph re-evaluate themselves. */
export function registerManagedDeviceReevaluation(behaviours: EntityBehaviours, states: ConfigurationStates) {
  behaviours.register("managedDevice", {
    async afterWrite(ctx, tx, after) {
      await states.reevaluate(tx, ctx.tenantId, { devices: [after.id], configurations: "all" }, after.id);
    },
    async afterDelete(ctx, tx, deleted) {
      await states.reevaluate(tx, ctx.tenantId, { devices: [deleted.id], configurations: "all" }, deleted.id);
    },
  });
}

export async function onConfigurationMembershipChanges(states: ConfigurationStates, ctx: GraphContext, tx: SqlExecutor, changes: MembershipChange[]) {
  // Only configurations assigned to (or excluding) a group whose members changed can change their answers: a bulk
  // retag moving thousands of devices between groups no configuration names costs no device reads.
  const configurations = (await states.catalogue(tx, ctx.tenantId)).namingGroups(new Set(changes.map((c) => c.groupId)));
  if (configurations.length === 0) return;
  const entra = [...new Set(changes.filter((c) => c.memberType === "device").map((c) => c.memberId))];
  const users = [...new Set(changes.filter((c) => c.memberType === "user").map((c) => c.memberId))];
  const devices = await states.facts.managedDevicesOf(tx, ctx.tenantId, entra, users);
  await states.reevaluate(tx, ctx.tenantId, { devices, configurations }, devices.length === 1 ? devices[0] : ctx.requestId);
}

export async function onManagedDeviceChanges(states: ConfigurationStates, _services: GraphServices, tx: SqlExecutor, tenantId: string, managedDeviceIds: string[] | "all") {
  const subject = managedDeviceIds !== "all" && managedDeviceIds.length === 1 ? managedDeviceIds[0] : tenantId;
  await states.reevaluate(tx, tenantId, { devices: managedDeviceIds, configurations: "all" }, subject);
}
