// The `members` navigation of a group (with $ref to add and remove static members) and the `memberOf`
// navigation of users, devices and groups, both over the group_members rows.

import { badRequest, notFound } from "../../odata/errors.js";
import type { MemberType, Memberships } from "../../directory/memberships.js";
import { isDynamicGroup } from "../../directory/dynamicMembership.js";
import { notifyMembershipChanges, type NavigationProvider } from "../graphContext.js";
import { findDirectoryObject, loadDirectoryObjects } from "./directoryObjects.js";
import { entityNotFound } from "../entityRequests.js";

export function groupMembersProvider(memberships: Memberships): NavigationProvider {
  return {
    async list(ctx, x, group, page) {
      // Entity type names of directory objects are their member types (user, device, group).
      const memberTypes = page.types as MemberType[] | undefined;
      const rows = page.top > 0 ? await memberships.membersOf(x, ctx.tenantId, group.id, { top: page.top + 1, offset: page.offset, memberTypes }) : [];
      const items = await loadDirectoryObjects(ctx, x, rows.slice(0, page.top).map((r) => ({ id: r.memberId, kind: r.memberType })));
      const count = page.count ? await memberships.countMembers(x, ctx.tenantId, group.id, memberTypes) : undefined;
      return { items, count, hasMore: rows.length > page.top };
    },
    async get(ctx, x, group, id) {
      const row = await memberships.get(x, ctx.tenantId, group.id, id);
      if (!row) return undefined;
      return (await loadDirectoryObjects(ctx, x, [{ id, kind: row.memberType }]))[0];
    },
    async addReference(ctx, tx, group, targetId) {
      if (isDynamicGroup(group)) {
        throw badRequest("Members of a group with dynamic membership are computed from its membershipRule and cannot be added manually.");
      }
      const target = await findDirectoryObject(ctx, tx, targetId);
      if (!target) throw entityNotFound(ctx.model.entityType("directoryObject"), targetId);
      if (target.kind === "group" && target.entity.id === group.id) throw badRequest("A group cannot be a member of itself.");
      if (await memberships.get(tx, ctx.tenantId, group.id, targetId)) {
        throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
      }
      await memberships.add(tx, ctx.tenantId, { groupId: group.id, memberId: targetId, memberType: target.kind, dynamic: false });
      await notifyMembershipChanges(ctx, tx, [{ groupId: group.id, memberId: targetId, memberType: target.kind, change: "added" }]);
    },
    async removeReference(ctx, tx, group, targetId) {
      const row = await memberships.get(tx, ctx.tenantId, group.id, targetId);
      if (!row) throw notFound(`Resource '${targetId}' does not exist or one of its queried reference-property objects are not present.`, "Request_ResourceNotFound");
      if (row.dynamic) throw badRequest("Members of a group with dynamic membership are computed from its membershipRule and cannot be removed manually.");
      await memberships.remove(tx, ctx.tenantId, group.id, targetId);
      await notifyMembershipChanges(ctx, tx, [{ groupId: group.id, memberId: targetId, memberType: row.memberType, change: "removed" }]);
    },
  };
}

export function memberOfProvider(memberships: Memberships): NavigationProvider {
  return {
    async list(ctx, x, member, page) {
      const rows = page.types && !page.types.includes("group") ? [] : await memberships.groupsOf(x, ctx.tenantId, member.id);
      const slice = rows.slice(page.offset, page.offset + page.top);
      const items = await loadDirectoryObjects(ctx, x, slice.map((r) => ({ id: r.groupId, kind: "group" as const })));
      return { items, count: page.count ? rows.length : undefined, hasMore: rows.length > page.offset + page.top };
    },
    async get(ctx, x, member, id) {
      const row = await memberships.get(x, ctx.tenantId, id, member.id);
      return row ? (await loadDirectoryObjects(ctx, x, [{ id, kind: "group" }]))[0] : undefined;
    },
  };
}
