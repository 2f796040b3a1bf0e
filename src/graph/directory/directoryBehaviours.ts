// What the directory adds to generic CRUD: unique user principal names, valid membership rules, and dynamic
// memberships kept current whenever a device, user or rule changes.

import { badRequest } from "../../odata/errors.js";
import { DynamicMembership, isDynamicGroup } from "../../directory/dynamicMembership.js";
import type { Memberships } from "../../directory/memberships.js";
import { compileMembershipRule, MembershipRuleError } from "../../directory/membershipRule/index.js";
import { notifyMembershipChanges, type EntityBehaviours } from "../graphContext.js";
import { hashPassword } from "../../identity/userPasswords.js";

const RULE_FIELDS = ["groupTypes", "membershipRule", "membershipRuleProcessingState"];

export function registerDirectoryBehaviours(behaviours: EntityBehaviours, memberships: Memberships, dynamic: DynamicMembership) {
  behaviours.register("user", {
    async validate(ctx, tx, draft, before) {
      // The clear-text password is replaced by its hash before anything is stored.
      const profile = draft.doc.passwordProfile as { password?: unknown; passwordHash?: unknown } | undefined;
      if (profile && typeof profile.password === "string") {
        const { password, ...rest } = profile;
        draft.doc.passwordProfile = { ...rest, passwordHash: await hashPassword(password) };
      } else if (profile && before) {
        draft.doc.passwordProfile = { ...profile, passwordHash: (before.doc.passwordProfile as { passwordHash?: unknown } | undefined)?.passwordHash };
      }
      const upn = String(draft.doc.userPrincipalName ?? "");
      if (!/^[^@\s]+@[^@\s]+$/.test(upn)) throw badRequest(`Invalid value specified for property 'userPrincipalName' of resource 'User'.`, "Request_BadRequest");
      if (before && before.doc.userPrincipalName === upn) return;
      const rows = await ctx.entities.findBy(tx, ctx.model.entitySets.get("users")!.table, ctx.tenantId, "userPrincipalName", upn);
      if (rows.some((r) => r.id !== draft.id)) {
        throw badRequest("Another object with the same value for property userPrincipalName already exists.", "Request_BadRequest");
      }
    },
    async afterWrite(ctx, tx, after) {
      await notifyMembershipChanges(ctx, tx, await dynamic.reevaluateMember(tx, ctx.tenantId, "user", after, after.id));
    },
    async afterDelete(ctx, tx, deleted) {
      await notifyMembershipChanges(ctx, tx, await memberships.forget(tx, ctx.tenantId, deleted.id));
    },
  });

  behaviours.register("device", {
    async afterWrite(ctx, tx, after) {
      await notifyMembershipChanges(ctx, tx, await dynamic.reevaluateMember(tx, ctx.tenantId, "device", after, after.id));
    },
    async afterDelete(ctx, tx, deleted) {
      await notifyMembershipChanges(ctx, tx, await memberships.forget(tx, ctx.tenantId, deleted.id));
    },
  });

  behaviours.register("group", {
    async validate(_ctx, _tx, draft) {
      const doc = draft.doc;
      if (isDynamicGroup(draft)) {
        if (typeof doc.membershipRule !== "string" || doc.membershipRule.trim() === "") {
          throw badRequest("A group with 'DynamicMembership' in groupTypes needs a membershipRule.", "Request_BadRequest");
        }
        try {
          compileMembershipRule(doc.membershipRule);
        } catch (e) {
          if (e instanceof MembershipRuleError) {
            throw badRequest(`Invalid value specified for property 'membershipRule' of resource 'Group': ${e.message}`, "Request_BadRequest");
          }
          throw e;
        }
        doc.membershipRuleProcessingState ??= "On";
        if (!["On", "Paused"].includes(String(doc.membershipRuleProcessingState))) {
          throw badRequest("membershipRuleProcessingState must be 'On' or 'Paused'.", "Request_BadRequest");
        }
      } else if (doc.membershipRule != null) {
        throw badRequest("A membershipRule needs 'DynamicMembership' in groupTypes.", "Request_BadRequest");
      }
    },
    async afterWrite(ctx, tx, after, before) {
      const ruleChanged = !before || RULE_FIELDS.some((f) => JSON.stringify(before.doc[f]) !== JSON.stringify(after.doc[f]));
      if (!ruleChanged) return;
      if (before && isDynamicGroup(after) !== isDynamicGroup(before) && (await memberships.countMembers(tx, ctx.tenantId, after.id)) > 0 && !isDynamicGroup(before)) {
        throw badRequest("Remove the static members before turning a group into a dynamic group.", "Request_BadRequest");
      }
      await notifyMembershipChanges(ctx, tx, await dynamic.reevaluateGroup(tx, ctx.tenantId, after));
    },
    async afterDelete(ctx, tx, deleted) {
      await notifyMembershipChanges(ctx, tx, await memberships.forget(tx, ctx.tenantId, deleted.id));
    },
  });
}
