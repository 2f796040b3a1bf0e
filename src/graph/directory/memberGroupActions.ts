// checkMemberGroups and getMemberGroups on any directory object: which groups it is a member of.
// Membership is direct (Allot does not expand nested groups transitively).

import type { Memberships } from "../../directory/memberships.js";
import type { OperationHandler } from "../entityRequests.js";
import { actionParameters } from "../operationParameters.js";
import { loadDirectoryObjects } from "./directoryObjects.js";

const stringCollection = (serviceRoot: string, value: string[]) => ({
  status: 200,
  body: { "@odata.context": `${serviceRoot}/$metadata#Collection(Edm.String)`, value },
});

export function memberGroupActions(memberships: Memberships): Record<string, OperationHandler> {
  const groupIdsOf = async (ctx: Parameters<OperationHandler>[0], memberId: string) =>
    (await memberships.groupsOf(ctx.db, ctx.tenantId, memberId)).map((r) => r.groupId);
  return {
    async checkMemberGroups(ctx, { binding, op, body }) {
      const { groupIds } = actionParameters(ctx.validator, op, body) as { groupIds: string[] };
      if (binding.kind !== "entity") throw new Error("checkMemberGroups is bound to an entity");
      const member = new Set(await groupIdsOf(ctx, binding.entity.id));
      const wanted = groupIds.map((g) => g.toLowerCase());
      return stringCollection(ctx.serviceRoot, [...new Set(wanted)].filter((g) => member.has(g)));
    },
    async getMemberGroups(ctx, { binding, op, body }) {
      const { securityEnabledOnly } = actionParameters(ctx.validator, op, body) as { securityEnabledOnly: boolean };
      if (binding.kind !== "entity") throw new Error("getMemberGroups is bound to an entity");
      const ids = await groupIdsOf(ctx, binding.entity.id);
      const groups = await loadDirectoryObjects(ctx, ctx.db, ids.map((id) => ({ id, kind: "group" as const })));
      return stringCollection(ctx.serviceRoot, groups.filter((g) => !securityEnabledOnly || g.entity.doc.securityEnabled === true).map((g) => g.entity.id));
    },
  };
}
