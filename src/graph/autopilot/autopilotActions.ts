// The Autopilot actions: a profile's assign (devices by identity id, on all three paths of the documents),
// hasPayloadLinks, deleteDevices by serial number, and the identity actions (users, resource accounts, group tag,
// next enrollment). Each validates everything before it changes anything.

import { badRequest } from "../../odata/errors.js";
import type { StoredEntity } from "../../store/entityStore.js";
import { retagEntraDevice } from "./groupTags.js";
import type { GraphContext } from "../graphContext.js";
import type { OperationHandler } from "../entityRequests.js";
import { actionParameters } from "../operationParameters.js";
import type { AutopilotAssignments } from "./autopilotAssignments.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function userByPrincipalName(ctx: GraphContext, upn: string): Promise<StoredEntity | undefined> {
  return (await ctx.entities.findBy(ctx.db, ctx.model.entitySets.get("users")!.table, ctx.tenantId, "userPrincipalName", upn))[0];
}

export function autopilotActions(autopilot: AutopilotAssignments): Record<string, OperationHandler> {
  return {
    async autopilotAssign(ctx, { binding, op, body }) {
      const { deviceIds } = actionParameters(ctx.validator, op, body) as { deviceIds: string[] };
      if (binding.kind !== "entity") throw new Error("assign is bound to a profile");
      const unique = [...new Set(deviceIds.map((d) => d.toLowerCase()))];
      const bad = unique.filter((d) => !GUID.test(d));
      if (bad.length) throw badRequest(`'${bad[0]}' is not a Windows Autopilot device identity id.`);
      await ctx.db.transaction(async (tx) => {
        const found = await ctx.entities.getMany(tx, autopilot.identities, ctx.tenantId, unique);
        const missing = unique.filter((d) => !found.has(d));
        if (missing.length) throw badRequest(`No Windows Autopilot device identity with id '${missing[0]}' exists.`);
        for (const identity of found.values()) {
          await ctx.entities.replace(tx, autopilot.identities, ctx.tenantId, { ...identity, doc: { ...identity.doc, _directProfileId: binding.entity.id } });
        }
        await autopilot.reevaluate(ctx, tx, unique);
      });
      return { status: 204 };
    },

    async hasPayloadLinks(ctx, { op, body }) {
      const { payloadIds } = actionParameters(ctx.validator, op, body) as { payloadIds: string[] };
      // Allot has no policy sets: nothing links a payload from one.
      const value = payloadIds.map((payloadId) => ({ payloadId, hasLink: false, error: null, sources: [] }));
      return { status: 200, body: { "@odata.context": `${ctx.serviceRoot}/$metadata#Collection(microsoft.graph.hasPayloadLinkResultItem)`, value } };
    },

    async autopilotDeleteDevices(ctx, { op, body }) {
      const { serialNumbers } = actionParameters(ctx.validator, op, body) as { serialNumbers: string[] };
      const value = await ctx.db.transaction(async (tx) => {
        const out = [];
        for (const serialNumber of serialNumbers) {
          const [identity] = await ctx.entities.findBy(tx, autopilot.identities, ctx.tenantId, "serialNumber", serialNumber);
          if (!identity) {
            out.push({ serialNumber, deviceRegistrationId: null, deletionState: "failed", errorMessage: "Device not found" });
            continue;
          }
          await ctx.entities.delete(tx, autopilot.identities, ctx.tenantId, identity);
          await ctx.audit.record(ctx, tx, { operation: "Delete", activity: "Delete windowsAutopilotDeviceIdentity", type: ctx.model.entityType(identity.type), entity: identity });
          out.push({ serialNumber, deviceRegistrationId: identity.id, deletionState: "accepted", errorMessage: null });
        }
        return out;
      });
      return { status: 200, body: { "@odata.context": `${ctx.serviceRoot}/$metadata#Collection(microsoft.graph.deletedWindowsAutopilotDeviceState)`, value } };
    },

    async autopilotIdentityAction(ctx, { binding, op, body }) {
      const params = actionParameters(ctx.validator, op, body) as Record<string, string | undefined>;
      if (binding.kind !== "entity" || !binding.table) throw new Error("identity actions are bound to an identity");
      if (params.userPrincipalName && op.name !== "assignResourceAccountToDevice" && !(await userByPrincipalName(ctx, params.userPrincipalName))) {
        throw badRequest(`No user '${params.userPrincipalName}' exists in this tenant.`);
      }
      const table = binding.table;
      await ctx.db.transaction(async (tx) => {
        const before = (await ctx.entities.get(tx, table, ctx.tenantId, binding.entity.id))!;
        const doc = { ...before.doc };
        switch (op.name) {
          case "assignUserToDevice":
            Object.assign(doc, { userPrincipalName: params.userPrincipalName, addressableUserName: params.addressableUserName ?? "" });
            break;
          case "unassignUserFromDevice":
            Object.assign(doc, { userPrincipalName: "", addressableUserName: "" });
            break;
          case "updateDeviceProperties":
            for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) doc[k] = v;
            break;
          case "assignResourceAccountToDevice":
            Object.assign(doc, { resourceName: params.resourceAccountName, deviceAccountUpn: params.userPrincipalName ?? doc.deviceAccountUpn, addressableUserName: params.addressableUserName ?? doc.addressableUserName });
            break;
          case "unassignResourceAccountFromDevice":
            Object.assign(doc, { resourceName: "", deviceAccountUpn: "" });
            break;
          case "allowNextEnrollment":
            Object.assign(doc, { enrollmentState: "notContacted", userlessEnrollmentStatus: "allowed" });
            break;
          default:
            throw new Error(`unhandled Autopilot identity action ${op.name}`);
        }
        await ctx.entities.replace(tx, table, ctx.tenantId, { ...before, doc });
        if (op.name === "updateDeviceProperties" && params.groupTag !== undefined && params.groupTag !== before.doc.groupTag) {
          await retagEntraDevice(ctx, tx, String(before.doc.azureAdDeviceId ?? ""), params.groupTag);
        }
      });
      return { status: 204 };
    },
  };
}
