// Generic handling of every Graph request the model can route: walk the resolved path through the store,
// check the caller's permission, then read, create, update, delete, count or change references — the same code
// for every entity set, navigation and type cast.

import { randomUUID } from "node:crypto";
import type { EntityType, StorageTable } from "../odata/compiledModel.js";
import { badRequest, GraphError, notFound, forbidden } from "../odata/errors.js";
import type { BoundOperationDecl, OperationPermissions, PermissionDecl } from "../odata/model.js";
import type { PathStep, ResolvedPath } from "../odata/pathResolver.js";
import { JsonText } from "../odata/jsonText.js";
import type { QueryOptions } from "../odata/queryOptions.js";
import { decodeSkipToken, encodeSkipToken, queryFingerprint } from "../odata/skipToken.js";
import type { SqlExecutor } from "../store/database.js";
import type { StoredEntity } from "../store/entityStore.js";
import { buildListQuery } from "./collectionQuery.js";
import { storeNewEntity } from "./entityWrites.js";
import type { GraphContext, NavigationProvider } from "./graphContext.js";

export interface GraphResponse {
  status: number;
  body?: unknown;
  /** Plain text bodies ($count). */
  text?: string;
  headers?: Record<string, string>;
}

export interface GraphRequest {
  method: string;
  resolved: ResolvedPath;
  options: QueryOptions;
  body: unknown;
  /** The request URL relative to the service root (for nextLink), e.g. `/users?$top=5`. */
  relativeUrl: string;
  /** Seed fixtures keep their ids; API requests never set this. */
  presetId?: string;
  /** A GET without query options: its key in the read cache (tenant, service root, path). */
  readKey?: string;
}

/** Where a GET by key may keep its answer: the cache key and the store's stamp read before the lookup. */
interface ReadSlot {
  key: string;
  stamp: number;
  /** The read was observed already (a cache hit whose observation had work to do). */
  observed: boolean;
}

/** Where the walk stands: a collection (table or provider) or one entity. */
type Position =
  | { kind: "collection"; type: EntityType; table?: StorageTable; parent?: StoredEntity; provider?: NavigationProvider; castTypes?: string[] }
  | { kind: "entity"; type: EntityType; entity: StoredEntity; table?: StorageTable; parentPosition: Position | undefined; viaProvider?: NavigationProvider; providerParent?: StoredEntity; fromSnapshot?: boolean }
  | { kind: "singleton"; type: EntityType };

export type OperationHandler = (
  ctx: GraphContext,
  request: { binding: Position; op: BoundOperationDecl; body: unknown; args: Record<string, string> },
) => Promise<GraphResponse>;

const typeAndDescendants = (t: EntityType): string[] => [t.name, ...t.derived.flatMap(typeAndDescendants)];

export function hasPermission(ctx: GraphContext, decl: PermissionDecl): boolean {
  const names = ctx.principal.kind === "application" ? decl.application : decl.delegated;
  return names.some((n) => ctx.principal.permissions.has(n));
}

function requirePermission(ctx: GraphContext, decl: PermissionDecl | undefined) {
  if (!decl) throw new Error("no permissions declared for this operation");
  if (!hasPermission(ctx, decl)) {
    const kind = ctx.principal.kind === "application" ? decl.application : decl.delegated;
    if (kind.length === 0) throw forbidden("This operation is not supported for this kind of token.", "Authorization_RequestDenied");
    throw forbidden(`Insufficient privileges to complete the operation. One of these permissions is required: ${kind.join(", ")}.`, "Authorization_RequestDenied");
  }
}

export function entityNotFound(type: EntityType, id: string): GraphError {
  const flavor = flavorOf(type);
  return flavor === "directory"
    ? notFound(`Resource '${id}' does not exist or one of its queried reference-property objects are not present.`, "Request_ResourceNotFound")
    : notFound(`No ${type.name} with id '${id}' exists.`, "ResourceNotFound");
}

function flavorOf(type: EntityType): "directory" | "intune" {
  for (let t: EntityType | undefined = type; t; t = t.base) if (t.decl.flavor) return t.decl.flavor;
  return "intune";
}

export class EntityRequests {
  constructor(private readonly operations: Map<string, OperationHandler>) {}

  /** Whether a bound operation's handler exists (an operation without one answers 501). */
  implements(handler: string): boolean {
    return this.operations.has(handler);
  }

  async handle(ctx: GraphContext, req: GraphRequest): Promise<GraphResponse> {
    const { resolved, method } = req;
    const last = resolved.steps.at(-1)!;
    const isRead = method === "GET";
    if (last.kind === "operation") {
      requirePermission(ctx, last.op.permissions);
      const expected = last.op.kind === "action" ? "POST" : "GET";
      if (method !== expected) throw this.noRoute(req);
      const handler = this.operations.get(last.op.handler);
      if (!handler) throw new GraphError(501, "NotImplemented", `The operation '${last.op.name}' is not implemented by Allot yet.`);
      const binding = await this.walk(ctx, ctx.db, resolved.steps.slice(0, -1));
      const response = await handler(ctx, { binding, op: last.op, body: req.body, args: last.args });
      if (!last.op.readOnly && last.op.kind === "action" && binding.kind === "entity") {
        await ctx.db.transaction((tx) => ctx.audit.record(ctx, tx, { operation: "Action", activity: last.op.name, type: binding.type, entity: binding.entity }));
      }
      return response;
    }
    // Only collections (and what is inside them) declare permissions; a bare singleton is not served, and a
    // collection that grants no write permission at all is read-only.
    if (!resolved.permissions) throw this.noRoute(req);
    const w = resolved.permissions.write;
    if (!isRead && w.application.length === 0 && w.delegated.length === 0) throw this.noRoute(req);
    if (resolved.methods && last.kind !== "ref" && last.kind !== "count" && !resolved.methods.includes(method)) throw this.noRoute(req);
    requirePermission(ctx, this.permissionFor(resolved.permissions, isRead));
    if (isRead) {
      let slot: ReadSlot | undefined;
      if (req.readKey !== undefined && last.kind === "key" && ctx.readCache && !ctx.replication.enabled && cacheablePath(resolved.steps)) {
        const stamp = ctx.db.readStamp();
        if (stamp !== undefined) {
          slot = { key: req.readKey, stamp, observed: false };
          const hit = ctx.readCache.get(stamp, req.readKey);
          if (hit !== undefined) {
            // A read-timed lifecycle may come due on this read: then it is answered from the store, once observed.
            const observed = ctx.observeRead(ctx.tenantId, hit.entityId, hit.table);
            if (observed === false) return { status: 200, body: new JsonText(hit.text) };
            await observed;
            slot.observed = true;
          }
        }
      }
      const position = await this.walk(ctx, ctx.db, last.kind === "count" || last.kind === "ref" ? resolved.steps.slice(0, -1) : resolved.steps, "replica");
      if (last.kind === "count") {
        if (position.kind !== "collection") throw this.noRoute(req);
        return { status: 200, text: String(await this.count(ctx, position)) };
      }
      if (last.kind === "ref") {
        if (position.kind !== "collection") throw this.noRoute(req);
        return this.list(ctx, req, position, true);
      }
      if (position.kind === "collection") return this.list(ctx, req, position, false);
      if (position.kind === "singleton") throw this.noRoute(req);
      return { status: 200, body: await this.single(ctx, req, position, slot) };
    }
    if (last.kind === "count") throw this.noRoute(req);
    return ctx.db.transaction(async (tx) => {
      if (last.kind === "ref") return this.changeReference(ctx, tx, req);
      const position = await this.walk(ctx, tx, resolved.steps);
      if (method === "POST" && position.kind === "collection" && position.table) return this.create(ctx, tx, req, position);
      if (method === "PATCH" && position.kind === "entity" && position.table) return this.update(ctx, tx, req, position);
      if (method === "DELETE" && position.kind === "entity" && position.table) return this.delete(ctx, tx, position);
      throw this.noRoute(req);
    });
  }

  private permissionFor(p: OperationPermissions | undefined, read: boolean) {
    if (!p) return undefined;
    return read ? p.read : p.write;
  }

  /** Graph's answer for a verb the path does not support (spec §4.1). */
  noRoute(req: GraphRequest): GraphError {
    return new GraphError(
      400,
      "No method match route template",
      `No OData route exists that match template ${req.resolved.template} with http verb ${req.method} for request ${req.relativeUrl.split("?")[0]}.`,
    );
  }

  /**
   * Loads every keyed entity along the path; a missing one is 404, whatever follows it. A read walks the
   * `replica` view: under replication lag, an entity written moments ago is seen as it was before the write.
   */
  async walk(ctx: GraphContext, x: SqlExecutor, steps: PathStep[], view: "latest" | "replica" = "latest"): Promise<Position> {
    let pos: Position | undefined;
    for (const step of steps) {
      switch (step.kind) {
        case "entitySet":
          pos = { kind: "collection", type: step.type, table: step.table };
          break;
        case "singleton":
          pos = { kind: "singleton", type: step.type };
          break;
        case "navigation": {
          const from = pos!;
          if (from.kind === "collection") throw new Error("navigation from a collection");
          const parent = from.kind === "entity" ? from.entity : undefined;
          // A navigation of derived types reached without a cast: only an entity of such a type has it.
          if (step.declaredOn && !(from.kind === "entity" && step.declaredOn.some((t) => ctx.model.isAssignable(ctx.model.entityType(from.entity.type), t)))) {
            throw notFound(`The ${from.type.name} '${parent?.id ?? ""}' has no navigation property '${step.nav.name}'.`, "ResourceNotFound");
          }
          if (step.nav.storage.kind === "contained") {
            if (!step.nav.collection) throw new GraphError(501, "NotImplemented", "Single-valued contained navigation is not implemented.");
            pos = { kind: "collection", type: step.type, table: step.nav.table, parent };
          } else {
            const provider = ctx.providers.get(step.nav.storage.provider);
            if (!provider || !parent) throw new Error(`no navigation provider ${step.nav.storage.provider}`);
            if (step.nav.collection) {
              pos = { kind: "collection", type: step.type, provider, parent };
            } else {
              const found = await provider.single!(ctx, x, parent);
              if (!found) throw notFound(`The ${from.type.name} '${parent.id}' has no ${step.nav.name}.`, "ResourceNotFound");
              pos = { kind: "entity", type: found.type, entity: found.entity, table: found.table, parentPosition: undefined };
            }
          }
          break;
        }
        case "key": {
          const from = pos as Extract<Position, { kind: "collection" }>;
          if (from.provider) {
            const found = await from.provider.get(ctx, x, from.parent!, step.id);
            if (!found || (from.castTypes && !from.castTypes.includes(found.entity.type))) throw entityNotFound(step.type, step.id);
            pos = { kind: "entity", type: found.type, entity: found.entity, parentPosition: from, viaProvider: from.provider, providerParent: from.parent };
          } else {
            const lagging = view === "replica" && ctx.replication.enabled ? await ctx.replication.lagging(x, from.table!, ctx.tenantId, step.id, ctx.clock.now()) : undefined;
            const entity = lagging
              ? lagging.existed && (from.parent === undefined || lagging.entity.parentId === from.parent.id) ? lagging.entity : undefined
              : await ctx.entities.get(x, from.table!, ctx.tenantId, step.id, from.parent?.id);
            if (!entity || (from.castTypes && !from.castTypes.includes(entity.type))) throw entityNotFound(from.type, step.id);
            pos = { kind: "entity", type: ctx.model.entityType(entity.type), entity, table: from.table, parentPosition: from };
            if (lagging) pos.fromSnapshot = true;
          }
          break;
        }
        case "cast": {
          const from = pos!;
          if (from.kind === "collection") pos = { ...from, type: step.type, castTypes: typeAndDescendants(step.type) };
          else if (from.kind === "entity") {
            if (!ctx.model.isAssignable(from.type, step.type)) throw entityNotFound(step.type, from.entity.id);
            pos = { ...from, type: step.type };
          } else throw badRequest("A type cast cannot follow a singleton.");
          break;
        }
        default:
          throw new Error(`unexpected step ${step.kind}`);
      }
    }
    return pos!;
  }

  private async count(ctx: GraphContext, pos: Extract<Position, { kind: "collection" }>): Promise<number> {
    if (pos.provider) return (await pos.provider.list(ctx, ctx.db, pos.parent!, { top: 0, offset: 0, count: true, types: pos.castTypes })).count ?? 0;
    const q = buildListQuery({
      model: ctx.model, dialect: ctx.db.dialect, table: pos.table!, type: pos.type, options: { orderBy: [], count: true, expand: [] },
      tenantId: ctx.tenantId, parentId: pos.parent?.id, castTypes: pos.castTypes, pageSize: 0,
    });
    return (await ctx.entities.list(ctx.db, pos.table!, q)).count ?? 0;
  }

  private contextUrl(ctx: GraphContext, req: GraphRequest, entity: boolean, select?: Set<string>): string {
    const all = req.resolved.steps;
    // The last step that counts ($count and $ref do not): a key there is the addressed entity, not part of the path.
    let last = all.length - 1;
    while (last >= 0 && (all[last].kind === "count" || all[last].kind === "ref")) last--;
    let path = "";
    for (let i = 0; i <= last; i++) {
      const s = all[i];
      if (s.kind === "count" || s.kind === "ref") continue;
      if (s.kind === "entitySet") path += s.set.name;
      else if (s.kind === "singleton") path += s.name;
      else if (s.kind === "navigation") path += `/${s.nav.name}`;
      else if (s.kind === "cast") path += `/${s.type.qualifiedName}`;
      else if (s.kind === "key" && i !== last) path += `('${s.id}')`;
    }
    if (select) path += `(${[...select].join(",")})`;
    if (entity) path += "/$entity";
    return `${ctx.serviceRoot}/$metadata#${path}`;
  }

  private async list(ctx: GraphContext, req: GraphRequest, pos: Extract<Position, { kind: "collection" }>, refs: boolean): Promise<GraphResponse> {
    const { options } = req;
    const select = refs ? undefined : ctx.serializer.checkSelect(pos.type, options.select);
    const pageSize = Math.min(options.top ?? ctx.maxPageSize, ctx.maxPageSize);
    const fingerprint = queryFingerprint([req.relativeUrl.split("?")[0], options.filter, options.search, JSON.stringify(options.orderBy)]);
    const cursor = options.skipToken !== undefined ? decodeSkipToken(options.skipToken, fingerprint) : undefined;
    let items: { entity: StoredEntity; type: EntityType }[];
    let count: number | undefined;
    let hasMore: boolean;
    let next: { afterSeq?: number; offset?: number } | undefined;
    if (pos.provider) {
      if (options.filter !== undefined || options.orderBy.length || options.search !== undefined) {
        throw badRequest("$filter, $orderby and $search are not supported on this navigation.");
      }
      const offset = cursor?.offset ?? options.skip ?? 0;
      const page = await pos.provider.list(ctx, ctx.db, pos.parent!, { top: pageSize, offset, count: options.count, types: pos.castTypes });
      items = page.items;
      count = page.count;
      hasMore = page.hasMore;
      next = { offset: offset + pageSize };
    } else {
      const q = buildListQuery({
        model: ctx.model, dialect: ctx.db.dialect, table: pos.table!, type: pos.type, set: this.entitySetOf(req), options,
        tenantId: ctx.tenantId, parentId: pos.parent?.id, castTypes: pos.castTypes, pageSize: pageSize + 1, cursor,
        consistencyLevel: headerValue(ctx.requestHeaders["consistencylevel"]),
      });
      const result = await ctx.entities.list(ctx.db, pos.table!, q);
      hasMore = result.rows.length > pageSize;
      const rows = result.rows.slice(0, pageSize);
      count = result.count;
      next = q.orderBy.length === 0 ? { afterSeq: rows.at(-1)?.seq } : { offset: q.skip + pageSize };
      const page = ctx.replication.enabled ? await this.asReplicaSees(ctx, pos.table!, rows) : rows;
      items = page.map((entity) => ({ entity, type: ctx.model.entityType(entity.type) }));
    }
    if (!refs) {
      const shown = await this.presented(ctx, pos.type, items.map((i) => i.entity));
      items = items.map((i, n) => ({ ...i, entity: shown[n] }));
    }
    const value = refs
      ? items.map((i) => ({ "@odata.id": `${ctx.serviceRoot}/directoryObjects/${i.entity.id}` }))
      : await this.withExpansions(ctx, req, pos.type, items.map((i) => ctx.serializer.entity(pos.type, i.entity, select)), items);
    const body: Record<string, unknown> = { "@odata.context": refs ? `${ctx.serviceRoot}/$metadata#Collection($ref)` : this.contextUrl(ctx, req, false, select) };
    if (count !== undefined) body["@odata.count"] = count;
    if (hasMore && pageSize > 0) body["@odata.nextLink"] = this.nextLink(ctx, req, encodeSkipToken(next, fingerprint));
    body.value = value;
    return { status: 200, body };
  }

  /**
   * A list page as a lagging replica shows it: an entity created moments ago is absent, one changed moments ago
   * has its previous document. The page's query, count and continuation are those of the latest state.
   */
  private async asReplicaSees(ctx: GraphContext, table: StorageTable, rows: StoredEntity[]): Promise<StoredEntity[]> {
    const lagging = await ctx.replication.laggingInTable(ctx.db, table, ctx.tenantId, ctx.clock.now());
    if (lagging.size === 0) return rows;
    return rows.flatMap((row) => {
      const state = lagging.get(row.id);
      if (!state) return [row];
      return state.existed ? [state.entity] : [];
    });
  }

  /** A client's write under replication lag; the system's own (seed fixtures, not audited) are seen at once. */
  private async recordForReplicas(ctx: GraphContext, tx: SqlExecutor, table: StorageTable, id: string, before: StoredEntity | undefined) {
    if (ctx.replication.enabled && ctx.audited) await ctx.replication.recordWrite(tx, table, ctx.tenantId, id, before, ctx.clock.now());
  }

  private entitySetOf(req: GraphRequest) {
    const first = req.resolved.steps[0];
    return first.kind === "entitySet" && req.resolved.steps.length <= 2 ? first.set : undefined;
  }

  private nextLink(ctx: GraphContext, req: GraphRequest, token: string): string {
    const [path, query = ""] = req.relativeUrl.split("?");
    const params = new URLSearchParams(query);
    for (const k of [...params.keys()]) {
      if (/^\$?(skip|skiptoken)$/i.test(k)) params.delete(k);
    }
    params.set("$skiptoken", token);
    return `${ctx.serviceRoot}${path}?${params.toString().replace(/%24/g, "$")}`;
  }

  /** Entities as reads show them: each behaviour of the type that overlays state applies in turn. */
  private async presented(ctx: GraphContext, type: EntityType, entities: StoredEntity[]): Promise<StoredEntity[]> {
    let shown = entities;
    for (const b of ctx.behaviours.for(type)) if (b.present && shown.length) shown = await b.present(ctx, ctx.db, shown);
    return shown;
  }

  private async single(ctx: GraphContext, req: GraphRequest, pos: Extract<Position, { kind: "entity" }>, slot?: ReadSlot) {
    // Each step that has nothing to do is skipped without an await: a GET by id is the hottest request there is.
    const observed = pos.table && !pos.fromSnapshot && slot?.observed !== true ? ctx.observeRead(ctx.tenantId, pos.entity.id, pos.table.name) : false;
    if (observed !== false && (await observed)) {
      pos = { ...pos, entity: (await ctx.entities.get(ctx.db, pos.table!, ctx.tenantId, pos.entity.id)) ?? pos.entity };
    }
    const presents = ctx.behaviours.presents(pos.type);
    if (presents) pos = { ...pos, entity: (await this.presented(ctx, pos.type, [pos.entity]))[0] };
    const select = ctx.serializer.checkSelect(pos.type, req.options.select);
    const declared = this.declaredType(req, pos);
    const context = this.contextUrl(ctx, req, true, select);
    // The whole entity, nothing to expand: its text straight from the document (the same bytes as the object).
    if (select === undefined && req.options.expand.length === 0) {
      const text = ctx.serializer.entityText(declared, pos.entity, context);
      if (text !== undefined) {
        // Kept only when the answer is the stored entity alone: no overlay (Autopilot's pending state), no
        // snapshot of a lagging replica, no read observation with work to do (it may change what a read sees).
        if (slot && observed === false && !slot.observed && !presents && pos.table && !pos.fromSnapshot) {
          ctx.readCache!.set(slot.stamp, slot.key, { text, entityId: pos.entity.id, table: pos.table.name });
        }
        return new JsonText(text);
      }
    }
    const body = ctx.serializer.entity(declared, pos.entity, select, context);
    if (req.options.expand.length === 0) return body;
    const [expanded] = await this.withExpansions(ctx, req, pos.type, [body], [{ entity: pos.entity, type: pos.type }]);
    return expanded;
  }

  /** The type the path declares for the addressed entity: its collection's (by key), a navigation's, or a cast's. */
  private declaredType(req: GraphRequest, pos: Extract<Position, { kind: "entity" }>): EntityType {
    const steps = req.resolved.steps;
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i];
      if (s.kind === "key" || s.kind === "cast" || (s.kind === "navigation" && !s.nav.collection)) return s.type;
    }
    return pos.type;
  }

  /** $expand: one level, each navigation loaded in one query per navigation for the whole page. */
  private async withExpansions(
    ctx: GraphContext,
    req: GraphRequest,
    type: EntityType,
    bodies: Record<string, unknown>[],
    items: { entity: StoredEntity; type: EntityType }[],
  ): Promise<Record<string, unknown>[]> {
    for (const item of req.options.expand) {
      const nav = type.navigation.get(item.navigation);
      if (!nav) throw badRequest(`Could not find a navigation property named '${item.navigation}' on type '${type.qualifiedName}'.`);
      if (nav.permissions) requirePermission(ctx, nav.permissions.read);
      const target = ctx.model.entityType(nav.target);
      const select = ctx.serializer.checkSelect(target, item.select);
      for (let i = 0; i < items.length; i++) {
        let children: { entity: StoredEntity; type: EntityType }[];
        if (nav.storage.kind === "contained") {
          const q = buildListQuery({
            model: ctx.model, dialect: ctx.db.dialect, table: nav.table!, type: target, options: { orderBy: [], count: false, expand: [] },
            tenantId: ctx.tenantId, parentId: items[i].entity.id, pageSize: ctx.maxPageSize,
          });
          children = (await ctx.entities.list(ctx.db, nav.table!, q)).rows.map((entity) => ({ entity, type: ctx.model.entityType(entity.type) }));
        } else {
          const provider = ctx.providers.get(nav.storage.provider)!;
          children = (await provider.list(ctx, ctx.db, items[i].entity, { top: ctx.maxPageSize, offset: 0, count: false })).items;
        }
        const shown = await this.presented(ctx, target, children.map((c) => c.entity));
        const serialized = shown.map((entity) => ctx.serializer.entity(target, entity, select));
        bodies[i][nav.name] = nav.collection ? serialized : (serialized[0] ?? null);
      }
    }
    return bodies;
  }

  private async create(ctx: GraphContext, tx: SqlExecutor, req: GraphRequest, pos: Extract<Position, { kind: "collection" }>): Promise<GraphResponse> {
    const { type, values, bindings } = ctx.validator.entity(pos.type, req.body, "create");
    if (pos.castTypes && !pos.castTypes.includes(type.name)) throw badRequest(`The type '${type.qualifiedName}' does not match the type cast of the path.`);
    const now = ctx.clock.now().toISOString();
    const doc: Record<string, unknown> = { ...values };
    for (const stamp of ["createdDateTime", "lastModifiedDateTime"]) if (type.properties.has(stamp)) doc[stamp] = now;
    const entity: StoredEntity = { id: req.presetId ?? randomUUID(), type: type.name, parentId: pos.parent?.id, seq: 0, doc };
    await storeNewEntity(ctx, tx, pos.table!, entity, async () => {
      for (const [navName, refs] of Object.entries(bindings)) {
        const provider = ctx.providers.get((type.navigation.get(navName)!.storage as { provider: string }).provider)!;
        for (const ref of refs) await provider.addReference!(ctx, tx, entity, referencedId(ref));
      }
    });
    await this.recordForReplicas(ctx, tx, pos.table!, entity.id, undefined);
    const body = ctx.serializer.entity(pos.type, entity, undefined, `${this.contextUrl(ctx, req, false)}/$entity`);
    return { status: 201, body, headers: { location: `${ctx.serviceRoot}${req.relativeUrl.split("?")[0]}/${entity.id}` } };
  }

  private async update(ctx: GraphContext, tx: SqlExecutor, req: GraphRequest, pos: Extract<Position, { kind: "entity" }>): Promise<GraphResponse> {
    const before = pos.entity;
    const existingType = ctx.model.entityType(before.type);
    const { values, bindings } = ctx.validator.entity(this.declaredType(req, pos), req.body, "update", existingType);
    const doc: Record<string, unknown> = { ...before.doc, ...values };
    if (existingType.properties.has("lastModifiedDateTime")) doc.lastModifiedDateTime = ctx.clock.now().toISOString();
    const after: StoredEntity = { ...before, doc };
    for (const b of ctx.behaviours.for(existingType)) await b.validate?.(ctx, tx, after, before);
    await ctx.entities.replace(tx, pos.table!, ctx.tenantId, after);
    // `nav@odata.bind` in a PATCH sets the navigation to the references given (replacing what it held).
    for (const [navName, refs] of Object.entries(bindings)) {
      const provider = ctx.providers.get((existingType.navigation.get(navName)!.storage as { provider: string }).provider)!;
      if (provider.setReferences) await provider.setReferences(ctx, tx, after, refs.map(referencedId));
      else for (const ref of refs) await provider.addReference!(ctx, tx, after, referencedId(ref));
    }
    await this.recordForReplicas(ctx, tx, pos.table!, before.id, before);
    for (const b of ctx.behaviours.for(existingType)) await b.afterWrite?.(ctx, tx, after, before);
    await ctx.audit.record(ctx, tx, { operation: "Patch", activity: `Patch ${existingType.name}`, type: existingType, entity: after, before });
    if (flavorOf(existingType) === "directory") return { status: 204 };
    return { status: 200, body: ctx.serializer.entity(this.declaredType(req, pos), after, undefined, this.contextUrl(ctx, req, true)) };
  }

  private async delete(ctx: GraphContext, tx: SqlExecutor, pos: Extract<Position, { kind: "entity" }>): Promise<GraphResponse> {
    const type = ctx.model.entityType(pos.entity.type);
    for (const b of ctx.behaviours.for(type)) await b.beforeDelete?.(ctx, tx, pos.entity);
    await ctx.entities.delete(tx, pos.table!, ctx.tenantId, pos.entity);
    await this.recordForReplicas(ctx, tx, pos.table!, pos.entity.id, pos.entity);
    for (const b of ctx.behaviours.for(type)) await b.afterDelete?.(ctx, tx, pos.entity);
    await ctx.audit.record(ctx, tx, { operation: "Delete", activity: `Delete ${type.name}`, type, entity: pos.entity });
    return { status: 204 };
  }

  private async auditReference(ctx: GraphContext, tx: SqlExecutor, req: GraphRequest, parent: StoredEntity, verb: "Add" | "Remove", targetId: string) {
    const nav = [...req.resolved.steps].reverse().find((s) => s.kind === "navigation");
    const type = ctx.model.entityType(parent.type);
    const navName = nav && nav.kind === "navigation" ? nav.nav.name : "reference";
    const changes = [{ displayName: navName, oldValue: verb === "Remove" ? targetId : "", newValue: verb === "Add" ? targetId : "" }];
    await ctx.audit.record(ctx, tx, { operation: "Patch", activity: `${verb} ${navName.replace(/s$/, "")} ${verb === "Add" ? "to" : "from"} ${type.name}`, type, entity: parent, changes });
  }

  /** POST …/nav/$ref {"@odata.id"} adds a reference; DELETE …/nav/{id}/$ref removes one. */
  private async changeReference(ctx: GraphContext, tx: SqlExecutor, req: GraphRequest): Promise<GraphResponse> {
    const steps = req.resolved.steps.slice(0, -1);
    const lastStep = steps.at(-1)!;
    // Only navigations declared with references have $ref routes (bindable ones are linked on create only).
    const navStep = [...steps].reverse().find((s) => s.kind === "navigation");
    if (!navStep || navStep.kind !== "navigation" || !navStep.nav.references) throw this.noRoute(req);
    if (req.method === "POST" && lastStep.kind === "navigation") {
      const pos = await this.walk(ctx, tx, steps);
      if (pos.kind !== "collection" || !pos.provider?.addReference) throw this.noRoute(req);
      const body = req.body as Record<string, unknown> | undefined;
      const ref = body && typeof body === "object" ? body["@odata.id"] : undefined;
      if (typeof ref !== "string") throw badRequest("The request body must be a JSON object with an '@odata.id' reference.");
      const targetId = referencedId(ref);
      await pos.provider.addReference(ctx, tx, pos.parent!, targetId);
      await this.auditReference(ctx, tx, req, pos.parent!, "Add", targetId);
      return { status: 204 };
    }
    if (req.method === "DELETE" && lastStep.kind === "key") {
      const pos = await this.walk(ctx, tx, steps);
      if (pos.kind !== "entity" || !pos.viaProvider?.removeReference) throw this.noRoute(req);
      await pos.viaProvider.removeReference(ctx, tx, pos.providerParent!, pos.entity.id);
      await this.auditReference(ctx, tx, req, pos.providerParent!, "Remove", pos.entity.id);
      return { status: 204 };
    }
    throw this.noRoute(req);
  }
}

/**
 * Paths whose answer comes from stored rows alone: entity sets, contained navigations, keys and casts (a
 * navigation provider may read other state, such as memberships or the configuration engine's).
 */
function cacheablePath(steps: readonly PathStep[]): boolean {
  for (const step of steps) {
    if (step.kind === "navigation") {
      if (step.nav.storage.kind !== "contained") return false;
    } else if (step.kind !== "entitySet" && step.kind !== "singleton" && step.kind !== "key" && step.kind !== "cast") return false;
  }
  return true;
}

/** `https://graph.microsoft.com/v1.0/directoryObjects/{id}`, `…/users('{id}')`, `…/deviceConfigurations/{id}`,
 * `…/deviceManagement/managedDevices/{id}` or a bare id → the id. */
export function referencedId(ref: string): string {
  const m = /(?:^|\/)(?:directoryObjects|users|groups|devices|deviceConfigurations|managedDevices|comanagedDevices)(?:\/|\(')([^/'()?]+)(?:'\))?\/?$/.exec(ref.trim());
  const id = m ? m[1] : /^[0-9a-f-]{36}$/i.test(ref.trim()) ? ref.trim() : undefined;
  if (!id) throw badRequest(`Invalid object identifier '${ref}'.`);
  return decodeURIComponent(id);
}

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
