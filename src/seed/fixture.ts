// The seed fixture format (docs/fixtures.md) and its loader. Objects go through the same validation and
// behaviours as API requests, so a fixture can never hold state the API would have refused.

import { randomUUID } from "node:crypto";
import type { CompiledModel } from "../odata/compiledModel.js";
import type { PermissionDecl } from "../odata/model.js";
import { reassignablePersona } from "../mmd/personas.js";
import { badRequest, GraphError } from "../odata/errors.js";
import { resolvePath, splitPath } from "../odata/pathResolver.js";
import type { EntityRequests } from "../graph/entityRequests.js";
import type { GraphServices } from "../graph/graphContext.js";
import { hashSecret, type IdentityStore } from "../store/identityStore.js";

export interface FixtureApp {
  clientId: string;
  displayName?: string;
  secrets: string[];
  /** Application permissions; "*" grants every application permission Allot knows. */
  roles: string[];
  /** Delegated permissions consented for the app; "*" grants every delegated permission. Default: none. */
  delegatedScopes?: string[];
  /** May sign users in without a secret (password grant). Default false. */
  publicClient?: boolean;
}

export interface FixtureTenant {
  id: string;
  displayName?: string;
  domain?: string;
  /** Microsoft Managed Desktop personas enabled for the tenant (default none). */
  mmdEnabledPersonas?: string[];
  apps?: FixtureApp[];
  users?: Record<string, unknown>[];
  devices?: Record<string, unknown>[];
  /** Groups may list static `members` by id. */
  groups?: (Record<string, unknown> & { members?: string[] })[];
  /** deviceAndAppManagementAssignmentFilter bodies, created before the configurations that use them. */
  assignmentFilters?: Record<string, unknown>[];
  /** deviceConfiguration bodies (with `@odata.type`); each may list its `assignments`. */
  deviceConfigurations?: (Record<string, unknown> & { assignments?: Record<string, unknown>[] })[];
}

export interface Fixture {
  tenants: FixtureTenant[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every permission name the model declares, per kind, plus those of the APIs outside it (MMD, Allot's own). */
export function allPermissions(model: CompiledModel): { application: string[]; delegated: string[] } {
  const application = new Set<string>(["MmdSupport.ReadWrite", "Allot.Admin"]);
  const delegated = new Set<string>(["MWaaSDevice.Read"]);
  const add = (d?: PermissionDecl) => {
    d?.application.forEach((n) => application.add(n));
    d?.delegated.forEach((n) => delegated.add(n));
  };
  for (const s of model.entitySets.values()) (add(s.permissions.read), add(s.permissions.write));
  for (const t of model.entityTypes.values()) for (const n of t.navigation.values()) (add(n.permissions?.read), add(n.permissions?.write));
  for (const op of model.allOperations()) add(op.permissions);
  return { application: [...application].sort(), delegated: [...delegated].sort() };
}

export function checkFixture(value: unknown): Fixture {
  const f = value as Fixture;
  if (typeof f !== "object" || f === null || !Array.isArray(f.tenants)) throw badRequest("A fixture is a JSON object with a 'tenants' array.");
  for (const t of f.tenants) {
    if (typeof t?.id !== "string" || !GUID.test(t.id)) throw badRequest("Each fixture tenant needs an 'id' that is a GUID.");
    for (const a of t.apps ?? []) {
      if (typeof a.clientId !== "string" || !GUID.test(a.clientId)) throw badRequest(`App '${a.displayName ?? "?"}' needs a GUID 'clientId'.`);
      if (!Array.isArray(a.secrets) || !Array.isArray(a.roles)) throw badRequest(`App ${a.clientId} needs 'secrets' and 'roles' arrays.`);
    }
    for (const p of t.mmdEnabledPersonas ?? []) {
      if (!reassignablePersona(p)) throw badRequest(`'${p}' is not a Managed Desktop persona that can be enabled.`);
    }
  }
  return f;
}

export async function loadFixture(fixture: Fixture, deps: { services: GraphServices; identity: IdentityStore; requests: EntityRequests; serviceRoot: string }) {
  const { services, identity, requests } = deps;
  const everything = allPermissions(services.model);
  for (const t of fixture.tenants) {
    const tenantId = t.id.toLowerCase();
    await identity.putTenant({
      id: tenantId,
      displayName: t.displayName ?? "Allot tenant",
      domain: t.domain ?? `${tenantId.slice(0, 8)}.onmicrosoft.com`,
      mmdEnabledPersonas: t.mmdEnabledPersonas ?? [],
    });
    for (const a of t.apps ?? []) {
      await identity.putApp({
        tenantId,
        appId: a.clientId.toLowerCase(),
        displayName: a.displayName ?? "Allot app",
        objectId: randomUUID(),
        secrets: a.secrets.map(hashSecret),
        roles: a.roles.includes("*") ? everything.application : a.roles,
        delegatedScopes: a.delegatedScopes?.includes("*") ? everything.delegated : (a.delegatedScopes ?? []),
        publicClient: a.publicClient ?? false,
      });
    }
    const ctx = {
      ...services,
      tenantId,
      serviceRoot: deps.serviceRoot,
      requestHeaders: {},
      requestId: "allot-seed",
      audited: false,
      principal: { tenantId, appId: "allot-seed", objectId: "allot-seed", kind: "application" as const, permissions: new Set(everything.application) },
    };
    const create = async (set: string, body: Record<string, unknown>) => {
      const { id, members: _members, assignments: _assignments, ...rest } = body;
      void _members;
      void _assignments;
      const resolved = resolvePath(services.model, splitPath(set));
      try {
        return await requests.handle(ctx, { method: "POST", resolved, options: { orderBy: [], count: false, expand: [] }, body: rest, relativeUrl: `/${set}`, presetId: typeof id === "string" ? id : undefined });
      } catch (e) {
        if (e instanceof GraphError) throw badRequest(`Fixture tenant ${tenantId}, ${set}: ${e.message}`);
        throw e;
      }
    };
    for (const u of t.users ?? []) await create("users", u);
    for (const d of t.devices ?? []) await create("devices", d);
    for (const g of t.groups ?? []) {
      await create("groups", g);
      for (const member of g.members ?? []) {
        const resolved = resolvePath(services.model, splitPath(`groups/${g.id}/members/$ref`));
        await requests.handle(ctx, { method: "POST", resolved, options: { orderBy: [], count: false, expand: [] }, body: { "@odata.id": member }, relativeUrl: "" });
      }
    }
    for (const f of t.assignmentFilters ?? []) await create("deviceManagement/assignmentFilters", f);
    for (const c of t.deviceConfigurations ?? []) {
      const created = (await create("deviceManagement/deviceConfigurations", c)).body as { id: string };
      for (const a of c.assignments ?? []) await create(`deviceManagement/deviceConfigurations/${created.id}/assignments`, a);
    }
  }
}
