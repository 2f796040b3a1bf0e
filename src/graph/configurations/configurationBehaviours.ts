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
import type { ConfigurationStates } from "./configurationStates.js";

export function registerConfigurationBehaviours(behaviours: EntityBehaviours, states: ConfigurationStates) {
  behaviours.register("deviceConfigurationAssignment", {
    async afterWrite(ctx, tx, after, before) {
      if (after.parentId) await states.reevaluateConfiguration(tx, ctx.tenantId, after.parentId, before ? [before] : []);
    },
    async afterDelete(ctx, tx, deleted) {
      if (deleted.parentId) await states.reevaluateConfiguration(tx, ctx.tenantId, deleted.parentId, [deleted]);
    },
  });
  behaviours.register("deviceConfiguration", {
    async afterWrite(ctx, tx, after, before) {
      if (before) await states.redeliver(tx, ctx.tenantId, after.id);
    },
    async afterDelete(ctx, tx, deleted) {
      await states.forgetConfiguration(tx, ctx.tenantId, deleted.id);
    },
  });
  behaviours.register("deviceAndAppManagementAssignmentFilter", {
    async afterWrite(ctx, tx, after, before) {
      if (!before || (before.doc.rule === after.doc.rule && before.doc.platform === after.doc.platform)) return;
      const catalogue = await states.catalogue(tx, ctx.tenantId);
      for (const configurationId of catalogue.usingFilter(after.id)) await states.reevaluateConfiguration(tx, ctx.tenantId, configurationId);
    },
  });
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
  const entra = [...new Set(changes.filter((c) => c.memberType === "device").map((c) => c.memberId))];
  const users = [...new Set(changes.filter((c) => c.memberType === "user").map((c) => c.memberId))];
  const devices = await states.facts.managedDevicesOf(tx, ctx.tenantId, entra, users);
  await states.reevaluate(tx, ctx.tenantId, { devices, configurations: "all" }, devices.length === 1 ? devices[0] : ctx.requestId);
}

export async function onManagedDeviceChanges(states: ConfigurationStates, _services: GraphServices, tx: SqlExecutor, tenantId: string, managedDeviceIds: string[]) {
  await states.reevaluate(tx, tenantId, { devices: managedDeviceIds, configurations: "all" }, managedDeviceIds.length === 1 ? managedDeviceIds[0] : tenantId);
}
