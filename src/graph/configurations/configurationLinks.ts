// The certificate links of device configurations (rootCertificate, identityCertificate, …): each points at other
// deviceConfigurations of the same tenant. The ids live in the configuration's document under `_links` (never
// serialized); `nav@odata.bind` on create or PATCH sets them, `$ref` adds to and removes from a collection link.

import { DEVICE_CONFIGURATION_LINK_PROVIDER } from "../../graph/model/deviceConfigurations.js";
import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import { badRequest } from "../../odata/errors.js";
import type { SqlExecutor } from "../../store/database.js";
import type { StoredEntity } from "../../store/entityStore.js";
import type { GraphContext, NavigationProvider, ProvidedEntity } from "../graphContext.js";

type Links = Record<string, string | string[] | undefined>;

const linksOf = (e: StoredEntity): Links => (e.doc._links ?? {}) as Links;
const idsOf = (e: StoredEntity, name: string): string[] => {
  const v = linksOf(e)[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

export function configurationsTable(model: CompiledModel): StorageTable {
  return model.entityType("deviceManagement").navigation.get("deviceConfigurations")!.table!;
}

function linkProvider(model: CompiledModel, name: string): NavigationProvider {
  const table = configurationsTable(model);
  const provided = (e: StoredEntity): ProvidedEntity => ({ entity: e, type: model.entityType(e.type), table });
  const navOf = (parent: StoredEntity) => {
    const nav = model.entityType(parent.type).navigation.get(name);
    if (!nav) throw badRequest(`The type '${model.namespace}.${parent.type}' has no navigation property '${name}'.`);
    return nav;
  };

  /** Every target must be a configuration of the tenant of the navigation's type, and not the parent itself. */
  const checkTargets = async (ctx: GraphContext, tx: SqlExecutor, parent: StoredEntity, ids: string[]) => {
    const nav = navOf(parent);
    const target = model.entityType(nav.target);
    const found = await ctx.entities.getMany(tx, table, ctx.tenantId, ids);
    for (const id of ids) {
      const e = found.get(id);
      if (id === parent.id) throw badRequest(`A device configuration cannot be its own ${name}.`);
      if (!e) throw badRequest(`No deviceConfiguration with id '${id}' exists to be the ${name}.`);
      if (!model.isAssignable(model.entityType(e.type), target)) {
        throw badRequest(`The deviceConfiguration '${id}' is a ${e.type}; ${name} must be a ${target.qualifiedName}.`);
      }
    }
    return nav;
  };

  const store = async (ctx: GraphContext, tx: SqlExecutor, parent: StoredEntity, ids: string[], collection: boolean) => {
    // The parent object is updated in place, so the write that bound the link goes on with the current document.
    parent.doc._links = { ...linksOf(parent), [name]: collection ? ids : ids[0] };
    await ctx.entities.replace(tx, table, ctx.tenantId, parent);
  };

  return {
    async single(ctx, x, parent) {
      const [id] = idsOf(parent, name);
      if (id === undefined) return undefined;
      const e = await ctx.entities.get(x, table, ctx.tenantId, id);
      return e && provided(e);
    },
    async list(ctx, x, parent, page) {
      const ids = idsOf(parent, name);
      const found = await ctx.entities.getMany(x, table, ctx.tenantId, ids);
      const all = ids.flatMap((id) => {
        const e = found.get(id);
        return e && (!page.types || page.types.includes(e.type)) ? [provided(e)] : [];
      });
      return { items: all.slice(page.offset, page.offset + page.top), count: page.count ? all.length : undefined, hasMore: all.length > page.offset + page.top };
    },
    async get(ctx, x, parent, id) {
      if (!idsOf(parent, name).includes(id)) return undefined;
      const e = await ctx.entities.get(x, table, ctx.tenantId, id);
      return e && provided(e);
    },
    async addReference(ctx, tx, parent, targetId) {
      const nav = await checkTargets(ctx, tx, parent, [targetId]);
      const ids = nav.collection ? [...new Set([...idsOf(parent, name), targetId])] : [targetId];
      await store(ctx, tx, parent, ids, nav.collection);
    },
    async removeReference(ctx, tx, parent, targetId) {
      const nav = navOf(parent);
      const ids = idsOf(parent, name);
      if (!ids.includes(targetId)) throw badRequest(`The ${name} of '${parent.id}' does not include '${targetId}'.`);
      await store(ctx, tx, parent, ids.filter((i) => i !== targetId), nav.collection);
    },
    async setReferences(ctx, tx, parent, targetIds) {
      const nav = await checkTargets(ctx, tx, parent, targetIds);
      if (!nav.collection && targetIds.length > 1) throw badRequest(`The navigation property '${name}' takes one reference.`);
      await store(ctx, tx, parent, [...new Set(targetIds)], nav.collection);
    },
  };
}

/** One provider per link navigation name the model declares. */
export function configurationLinkProviders(model: CompiledModel): Map<string, NavigationProvider> {
  const out = new Map<string, NavigationProvider>();
  const prefix = `${DEVICE_CONFIGURATION_LINK_PROVIDER}.`;
  for (const t of model.entityTypes.values()) {
    for (const nav of t.navigation.values()) {
      if (nav.storage.kind === "provider" && nav.storage.provider.startsWith(prefix) && !out.has(nav.storage.provider)) {
        out.set(nav.storage.provider, linkProvider(model, nav.storage.provider.slice(prefix.length)));
      }
    }
  }
  return out;
}
