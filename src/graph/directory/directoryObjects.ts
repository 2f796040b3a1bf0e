// Directory objects live in three tables (users, groups, devices); a reference names only an id.

import type { StorageTable } from "../../odata/compiledModel.js";
import type { SqlExecutor } from "../../store/database.js";
import type { MemberType } from "../../directory/memberships.js";
import type { GraphContext, ProvidedEntity } from "../graphContext.js";

const KINDS: { kind: MemberType; set: string }[] = [
  { kind: "user", set: "users" },
  { kind: "device", set: "devices" },
  { kind: "group", set: "groups" },
];

export const directoryTable = (ctx: GraphContext, kind: MemberType): StorageTable => ctx.model.entitySets.get(KINDS.find((k) => k.kind === kind)!.set)!.table;

export async function findDirectoryObject(ctx: GraphContext, x: SqlExecutor, id: string): Promise<(ProvidedEntity & { kind: MemberType }) | undefined> {
  for (const { kind } of KINDS) {
    const entity = await ctx.entities.get(x, directoryTable(ctx, kind), ctx.tenantId, id);
    if (entity) return { entity, type: ctx.model.entityType(entity.type), kind };
  }
  return undefined;
}

/** Loads the objects of membership rows, in the rows' order, one query per kind. */
export async function loadDirectoryObjects(ctx: GraphContext, x: SqlExecutor, refs: { id: string; kind: MemberType }[]): Promise<ProvidedEntity[]> {
  const found = new Map<string, ProvidedEntity>();
  for (const { kind } of KINDS) {
    const ids = refs.filter((r) => r.kind === kind).map((r) => r.id);
    for (const [id, entity] of await ctx.entities.getMany(x, directoryTable(ctx, kind), ctx.tenantId, ids)) {
      found.set(id, { entity, type: ctx.model.entityType(entity.type) });
    }
  }
  return refs.flatMap((r) => (found.has(r.id) ? [found.get(r.id)!] : []));
}
