// The device configuration and assignment filter operations: assign (spec §2.6), validateFilter, enable, getState,
// getPlatformSupportedProperties and getSupportedProperties (spec §2.9). Each validates everything before it changes anything.

import { supportedProperties, validateFilterRule, type DevicePlatform } from "../../engine/assignmentFilter/index.js";
import { badRequest } from "../../odata/errors.js";
import type { IdentityStore } from "../../store/identityStore.js";
import type { OperationHandler } from "../entityRequests.js";
import type { GraphContext } from "../graphContext.js";
import { actionParameters } from "../operationParameters.js";
import type { ConfigurationAssignments } from "./configurationAssignments.js";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const collectionContext = (ctx: GraphContext, type: string) => `${ctx.serviceRoot}/$metadata#Collection(${ctx.model.namespace}.${type})`;

export function configurationActions(assignments: ConfigurationAssignments, identity: IdentityStore): Record<string, OperationHandler> {
  const platformOf = (ctx: GraphContext, value: unknown): DevicePlatform => {
    const platform = value ?? "unknown";
    if (typeof platform !== "string" || !ctx.model.enumTypes.get("devicePlatformType")!.members.includes(platform)) {
      throw badRequest(`'${String(platform)}' is not a devicePlatformType.`);
    }
    return platform as DevicePlatform;
  };

  return {
    async deviceConfigurationAssign(ctx, { binding, body }) {
      if (binding.kind !== "entity") throw new Error("assign is bound to a device configuration");
      if (!isObject(body)) throw badRequest("The body of 'assign' must be a JSON object.");
      for (const key of Object.keys(body)) {
        if (key !== "assignments" && key !== "deviceConfigurationGroupAssignments") throw badRequest(`The parameter '${key}' is not a parameter of the action 'assign'.`);
      }
      const list = (name: string): unknown[] => {
        const v = body[name];
        if (v === undefined || v === null) return [];
        if (!Array.isArray(v)) throw badRequest(`The parameter '${name}' must be an array.`);
        return v;
      };
      const posted = list("assignments");
      const legacy = list("deviceConfigurationGroupAssignments");
      const stored = await ctx.db.transaction(async (tx) => {
        const configuration = await ctx.entities.get(tx, assignments.tables.configurations, ctx.tenantId, binding.entity.id);
        if (!configuration) throw badRequest(`No deviceConfiguration with id '${binding.entity.id}' exists.`);
        return assignments.replaceAll(ctx, tx, configuration, posted, legacy);
      });
      const type = ctx.model.entityType("deviceConfigurationAssignment");
      return { status: 200, body: { "@odata.context": collectionContext(ctx, type.name), value: stored.map((a) => ctx.serializer.entity(type, a)) } };
    },

    async assignmentFilterValidate(ctx, { body }) {
      if (!isObject(body) || !isObject(body.deviceAndAppManagementAssignmentFilter)) {
        throw badRequest("The body of 'validateFilter' must be {\"deviceAndAppManagementAssignmentFilter\": {…}}.");
      }
      for (const key of Object.keys(body)) {
        if (key !== "deviceAndAppManagementAssignmentFilter") throw badRequest(`The parameter '${key}' is not a parameter of the action 'validateFilter'.`);
      }
      // The filter is checked as a PATCH would be (no required properties); only its rule decides the answer.
      const { values } = ctx.validator.entity(ctx.model.entityType("deviceAndAppManagementAssignmentFilter"), body.deviceAndAppManagementAssignmentFilter, "update");
      if (typeof values.rule !== "string") throw badRequest("The filter to validate needs its 'rule'.");
      const result = validateFilterRule(values.rule, platformOf(ctx, values.platform));
      return {
        status: 200,
        body: {
          "@odata.context": `${ctx.serviceRoot}/$metadata#microsoft.graph.assignmentFilterValidationResult`,
          value: { "@odata.type": "microsoft.graph.assignmentFilterValidationResult", isValidRule: result.isValidRule },
        },
      };
    },

    async assignmentFilterEnable(ctx, { op, body }) {
      const { enable } = actionParameters(ctx.validator, op, body) as { enable: boolean };
      await ctx.db.transaction(async (tx) => {
        const tenant = await identity.getTenant(ctx.tenantId, tx);
        if (!tenant) throw badRequest("The tenant does not exist.");
        await identity.putTenant({ ...tenant, assignmentFiltersEnabled: enable }, tx);
      });
      return { status: 204 };
    },

    async assignmentFilterState(ctx) {
      const tenant = await identity.getTenant(ctx.tenantId);
      return {
        status: 200,
        body: { "@odata.context": `${ctx.serviceRoot}/$metadata#microsoft.graph.assignmentFilterState`, value: { enabled: tenant?.assignmentFiltersEnabled ?? true } },
      };
    },

    async assignmentFilterSupportedProperties(ctx, { binding, args }) {
      for (const name of Object.keys(args)) if (name !== "platform") throw badRequest(`The parameter '${name}' is not a parameter of this function.`);
      if (binding.kind !== "entity" && args.platform === undefined) throw badRequest("The function 'getPlatformSupportedProperties' needs its 'platform' parameter.");
      // An instance answers for its own platform; the collection function for the one named.
      const platform = platformOf(ctx, binding.kind === "entity" ? binding.entity.doc.platform : args.platform);
      return { status: 200, body: { "@odata.context": collectionContext(ctx, "assignmentFilterSupportedProperty"), value: supportedProperties(platform) } };
    },
  };
}
