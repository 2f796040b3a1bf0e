// The model's half of docs/coverage.md: every operation a running Allot serves, derived from what serves it — the
// compiled Graph model (entity sets, contained and provider navigations, keys, $count, $ref, bound operations,
// with the methods the generic executor allows them) and the HTTP routes registered besides it (MMD, identity,
// the control plane, $batch). Routes are spelled as `modelRoute` spells the requests it records.

import type { CompiledModel, EntityType, NavigationProperty } from "../odata/compiledModel.js";
import type { BoundOperationDecl, OperationPermissions } from "../odata/model.js";
import type { NavigationProvider } from "../graph/graphContext.js";

export type CatalogueApi = "Graph" | "Graph $batch" | "MMD" | "Identity" | "Control plane";

export interface CatalogueEntry {
  api: CatalogueApi;
  /** `/groups/{id}/members/$ref` for Graph, the Fastify pattern for the others. */
  route: string;
  method: string;
  /** What the row is: list, get, create, update, delete, count, add/remove reference, action, function, route. */
  kind: string;
  implemented: boolean;
}

export interface CatalogueSources {
  model: CompiledModel;
  providers: ReadonlyMap<string, NavigationProvider>;
  /** Whether a bound operation's handler exists. */
  implements(handler: string): boolean;
  routes: readonly { method: string; url: string }[];
}

const MAX_DEPTH = 8;

const writable = (p: OperationPermissions) => p.write.application.length > 0 || p.write.delegated.length > 0;
const allows = (methods: readonly string[] | undefined, method: string) => methods === undefined || methods.includes(method);

/** A type and every type derived from it (reachable through a cast segment). */
function withDescendants(type: EntityType): EntityType[] {
  return [type, ...type.derived.flatMap(withDescendants)];
}

function graphCatalogue(sources: CatalogueSources): CatalogueEntry[] {
  const { model } = sources;
  const entries: CatalogueEntry[] = [];
  const add = (route: string, method: string, kind: string, implemented = true) => entries.push({ api: "Graph", route, method, kind, implemented });

  /** Operations bound to the type, its ancestors (inherited) or its descendants (after a cast). */
  const operationsOn = (type: EntityType, collection: boolean): BoundOperationDecl[] => {
    const related = (op: BoundOperationDecl) => {
      const binding = model.entityType(op.bindingType);
      return model.isAssignable(type, binding) || model.isAssignable(binding, type);
    };
    return model.decl.operations.filter((op) => op.bindingCollection === collection && related(op));
  };
  const addOperations = (route: string, type: EntityType, collection: boolean) => {
    for (const op of operationsOn(type, collection)) add(`${route}/${op.name}`, op.kind === "action" ? "POST" : "GET", op.kind, sources.implements(op.handler));
  };
  const navigationsOf = (type: EntityType): NavigationProperty[] => {
    const byName = new Map<string, NavigationProperty>();
    for (const t of withDescendants(type)) for (const [name, nav] of t.navigation) if (!byName.has(name)) byName.set(name, nav);
    return [...byName.values()];
  };

  const visitEntity = (route: string, type: EntityType, permissions: OperationPermissions | undefined, methods: readonly string[] | undefined, depth: number) => {
    if (permissions) {
      add(route, "GET", "get");
      if (writable(permissions) && allows(methods, "PATCH")) add(route, "PATCH", "update");
      if (writable(permissions) && allows(methods, "DELETE")) add(route, "DELETE", "delete");
    }
    addOperations(route, type, false);
    if (depth >= MAX_DEPTH) return;
    for (const nav of navigationsOf(type)) {
      const target = model.entityType(nav.target);
      const navRoute = `${route}/${nav.name}`;
      const navPermissions = nav.permissions ?? permissions;
      if (!navPermissions) continue;
      if (nav.storage.kind === "contained") {
        if (nav.collection) visitCollection(navRoute, target, navPermissions, nav.methods, depth + 1);
        else add(navRoute, "GET", "get", false); // single-valued containment answers 501
        continue;
      }
      // A provider's entities live elsewhere in the model: their own paths list what can be done to them.
      const provider = sources.providers.get(nav.storage.provider);
      if (!nav.collection) {
        // The entity it leads to (a device's deployment profile) is walked on like one reached by key: the
        // executor reads, writes and navigates it in its own table.
        if (provider?.single) visitEntity(navRoute, target, navPermissions, nav.methods, depth + 1);
        else add(navRoute, "GET", "get", false);
        continue;
      }
      add(navRoute, "GET", "list", provider !== undefined);
      add(`${navRoute}/$count`, "GET", "count", provider !== undefined);
      add(`${navRoute}/{id}`, "GET", "get", provider !== undefined);
      if (nav.references) {
        add(`${navRoute}/$ref`, "GET", "list references", provider !== undefined);
        add(`${navRoute}/$ref`, "POST", "add reference", provider?.addReference !== undefined);
        add(`${navRoute}/{id}/$ref`, "DELETE", "remove reference", provider?.removeReference !== undefined);
      }
    }
  };

  const visitCollection = (route: string, type: EntityType, permissions: OperationPermissions, methods: readonly string[] | undefined, depth: number) => {
    if (allows(methods, "GET")) add(route, "GET", "list");
    add(`${route}/$count`, "GET", "count");
    if (writable(permissions) && allows(methods, "POST")) add(route, "POST", "create");
    addOperations(route, type, true);
    visitEntity(`${route}/{id}`, type, allows(methods, "GET") ? permissions : undefined, methods, depth);
  };

  add("/", "GET", "service document");
  add("/$metadata", "GET", "metadata");
  for (const set of model.entitySets.values()) visitCollection(`/${set.name}`, model.entityType(set.entityType), set.permissions, undefined, 0);
  // A bare singleton is not served; what hangs off it is.
  for (const singleton of model.singletons.values()) visitEntity(`/${singleton.name}`, model.entityType(singleton.type), undefined, undefined, 0);
  return dedupe(entries);
}

function dedupe(entries: CatalogueEntry[]): CatalogueEntry[] {
  const seen = new Map<string, CatalogueEntry>();
  for (const e of entries) {
    const key = `${e.api} ${e.method} ${e.route}`;
    const existing = seen.get(key);
    if (!existing) seen.set(key, e);
    else existing.implemented ||= e.implemented;
  }
  return [...seen.values()];
}

/** Which API a Fastify route belongs to; undefined for the Graph catch-all routes the model covers. */
export function apiOfRoute(url: string): CatalogueApi | undefined {
  if (/^\/(beta|v1\.0)(\/\*)?$/.test(url)) return undefined;
  if (/^\/(beta|v1\.0)\/\$batch$/.test(url)) return "Graph $batch";
  if (url.startsWith("/support/odata/v1")) return "MMD";
  if (url.startsWith("/_allot")) return "Control plane";
  return "Identity";
}

export function operationCatalogue(sources: CatalogueSources): CatalogueEntry[] {
  const http = sources.routes.flatMap((r): CatalogueEntry[] => {
    const api = apiOfRoute(r.url);
    return api ? [{ api, route: r.url, method: r.method, kind: "route", implemented: true }] : [];
  });
  return [...graphCatalogue(sources), ...dedupe(http)];
}
