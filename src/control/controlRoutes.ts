// The /_allot control plane: health, reset and seed. Installation-wide operations need the admin key
// (X-Allot-Admin-Key); resetting one tenant also accepts that tenant's Graph token with the Allot.Admin role.

import type { FastifyInstance, FastifyRequest } from "fastify";
import { timingSafeEqual } from "node:crypto";
import { badRequest, forbidden, GraphError, unauthorized } from "../odata/errors.js";
import { authenticate, GRAPH_AUDIENCES } from "../identity/authenticate.js";
import { jsonBody } from "../graph/graphRoutes.js";
import type { GraphServices } from "../graph/graphContext.js";
import { checkFixture, type Fixture } from "../seed/fixture.js";
import type { Database, SqlExecutor } from "../store/database.js";
import type { IdentityStore } from "../store/identityStore.js";
import { SCHEMA_VERSION, tenantTables } from "../store/schema.js";

export interface ControlDeps {
  db: Database;
  identity: IdentityStore;
  services: GraphServices;
  adminKey: string;
  startupFixture?: Fixture;
  seedInto(fixture: Fixture): Promise<void>;
  readonly issuerBase: string;
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps) {
  const isAdmin = (request: FastifyRequest) => {
    const key = request.headers["x-allot-admin-key"];
    return typeof key === "string" && sameSecret(key, deps.adminKey);
  };

  const wipeTenant = async (tx: SqlExecutor, tenantId: string) => {
    for (const table of tenantTables(deps.services.model)) await tx.run(`DELETE FROM ${table} WHERE tenant_id = ${tx.dialect.param(1)}`, [tenantId]);
  };

  app.get("/_allot/health", async () => ({
    status: "ok",
    store: deps.db.kind,
    storeDescription: deps.db.description,
    schemaVersion: SCHEMA_VERSION,
  }));

  /**
   * Body: {} or {"tenant": "<id>"} resets one tenant's Graph state (its identity stays, so tokens keep working);
   * {"all": true} (admin key) resets every tenant. The startup seed is applied again unless "reseed": false.
   */
  app.post("/_allot/reset", async (request) => {
    const body = (jsonBody(request) ?? {}) as { tenant?: unknown; all?: unknown; reseed?: unknown };
    if (typeof body !== "object" || body === null) throw badRequest("The body must be a JSON object.");
    const reseed = body.reseed !== false;
    if (body.all === true) {
      if (!isAdmin(request)) throw forbidden("Resetting every tenant needs the X-Allot-Admin-Key header.");
      const tenants = await deps.identity.listTenants();
      await deps.db.transaction(async (tx) => {
        for (const t of tenants) await wipeTenant(tx, t.id);
        await tx.run("DELETE FROM app_registrations");
        await tx.run("DELETE FROM tenants");
      });
      if (reseed && deps.startupFixture) await deps.seedInto(deps.startupFixture);
      return { reset: tenants.map((t) => t.id), reseeded: reseed && !!deps.startupFixture };
    }
    let tenantId: string;
    if (isAdmin(request)) {
      if (typeof body.tenant !== "string") throw badRequest("Name the tenant to reset: {\"tenant\": \"<id>\"}, or {\"all\": true}.");
      tenantId = body.tenant.toLowerCase();
    } else {
      if (!request.headers.authorization) throw unauthorized("Resetting needs the X-Allot-Admin-Key header or a Bearer token with the Allot.Admin role.");
      const principal = await authenticate(deps.identity, deps.issuerBase, request.headers.authorization, GRAPH_AUDIENCES, deps.services.clock.now());
      if (!principal.permissions.has("Allot.Admin")) throw forbidden("Resetting a tenant needs the Allot.Admin role.");
      if (body.tenant !== undefined && String(body.tenant).toLowerCase() !== principal.tenantId) throw forbidden("A token may reset only its own tenant.");
      tenantId = principal.tenantId;
    }
    if (!(await deps.identity.getTenant(tenantId))) throw new GraphError(404, "ResourceNotFound", `No tenant '${tenantId}' exists.`);
    await deps.db.transaction((tx) => wipeTenant(tx, tenantId));
    const ownSeed = deps.startupFixture?.tenants.filter((t) => t.id.toLowerCase() === tenantId);
    if (reseed && ownSeed?.length) await deps.seedInto({ tenants: ownSeed.map((t) => ({ ...t, apps: t.apps })) });
    return { reset: [tenantId], reseeded: reseed && !!ownSeed?.length };
  });

  /** Loads a fixture (the --seed FILE format, docs/fixtures.md) in one transaction: all of it or nothing. */
  app.post("/_allot/seed", async (request) => {
    if (!isAdmin(request)) throw forbidden("Seeding needs the X-Allot-Admin-Key header.");
    const fixture = checkFixture(jsonBody(request));
    await deps.seedInto(fixture);
    return { seeded: fixture.tenants.map((t) => t.id.toLowerCase()) };
  });
}
