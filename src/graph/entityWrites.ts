// Storing a new entity with its type's rules: behaviours validate it, the row is inserted, behaviours react
// (dynamic memberships …), and the write is audited. Used by POST, enrollment and actions alike.

import type { StorageTable } from "../odata/compiledModel.js";
import type { SqlExecutor } from "../store/database.js";
import type { StoredEntity } from "../store/entityStore.js";
import type { GraphContext } from "./graphContext.js";

export async function storeNewEntity(
  ctx: GraphContext,
  tx: SqlExecutor,
  table: StorageTable,
  entity: StoredEntity,
  beforeReactions?: () => Promise<void>,
): Promise<void> {
  const type = ctx.model.entityType(entity.type);
  for (const b of ctx.behaviours.for(type)) await b.validate?.(ctx, tx, entity);
  await ctx.entities.insert(tx, table, ctx.tenantId, entity);
  await beforeReactions?.();
  for (const b of ctx.behaviours.for(type)) await b.afterWrite?.(ctx, tx, entity);
  await ctx.audit.record(ctx, tx, { operation: "Create", activity: `Create ${type.name}`, type, entity });
}

/** Storing a changed entity with its type's rules (validate, replace, react, audit). */
export async function storeChangedEntity(ctx: GraphContext, tx: SqlExecutor, table: StorageTable, before: StoredEntity, after: StoredEntity): Promise<void> {
  const type = ctx.model.entityType(after.type);
  for (const b of ctx.behaviours.for(type)) await b.validate?.(ctx, tx, after, before);
  await ctx.entities.replace(tx, table, ctx.tenantId, after);
  for (const b of ctx.behaviours.for(type)) await b.afterWrite?.(ctx, tx, after, before);
  await ctx.audit.record(ctx, tx, { operation: "Patch", activity: `Patch ${type.name}`, type, entity: after, before });
}
