// An identity's deploymentProfile and intendedDeploymentProfile, and a profile's assignedDevices: navigations
// that follow the assignment state the reconciler keeps on each identity.

import type { NavigationProvider } from "../graphContext.js";
import type { AutopilotAssignments, IdentityAssignmentState } from "./autopilotAssignments.js";

export function autopilotProviders(autopilot: AutopilotAssignments): Record<string, NavigationProvider> {
  const profileBy = (field: "_deploymentProfileId" | "_intendedProfileId"): NavigationProvider => ({
    async single(ctx, x, identity) {
      // A pending identity not yet evaluated is headed where the engine sends it now.
      const id = field === "_intendedProfileId" ? await autopilot.intendedProfileId(x, ctx.tenantId, identity) : (identity.doc as IdentityAssignmentState)[field];
      if (!id) return undefined;
      const profile = await ctx.entities.get(x, autopilot.profiles, ctx.tenantId, id);
      return profile ? { entity: profile, type: ctx.model.entityType(profile.type), table: autopilot.profiles } : undefined;
    },
    async list() {
      throw new Error("single-valued navigation");
    },
    async get() {
      return undefined;
    },
  });

  return {
    autopilotDeploymentProfile: profileBy("_deploymentProfileId"),
    autopilotIntendedDeploymentProfile: profileBy("_intendedProfileId"),
    autopilotAssignedDevices: {
      async list(ctx, x, profile, page) {
        const where = (params: unknown[]) => (params.push(profile.id), `${x.dialect.jsonText("doc", "_deploymentProfileId")} = ${x.dialect.param(params.length)}`);
        const { rows, count } = await ctx.entities.list(x, autopilot.identities, { tenantId: ctx.tenantId, where, orderBy: [], top: page.top + 1, skip: page.offset, count: page.count });
        const type = ctx.model.entityType("windowsAutopilotDeviceIdentity");
        return { items: rows.slice(0, page.top).map((entity) => ({ entity, type, table: autopilot.identities })), count, hasMore: rows.length > page.top };
      },
      async get(ctx, x, profile, id) {
        const identity = await ctx.entities.get(x, autopilot.identities, ctx.tenantId, id);
        if (!identity || (identity.doc as IdentityAssignmentState)._deploymentProfileId !== profile.id) return undefined;
        return { entity: identity, type: ctx.model.entityType(identity.type), table: autopilot.identities };
      },
    },
  };
}
