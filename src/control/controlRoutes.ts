// The /_allot control plane: health, reset and seed. Installation-wide operations need the admin key
// (X-Allot-Admin-Key); resetting one tenant also accepts that tenant's Graph token with the Allot.Admin role.

import type { FastifyInstance } from "fastify";
import { badRequest, forbidden, GraphError } from "../odata/errors.js";
import { authorizedTenant, requireAdminKey } from "./controlAuthorization.js";
import { jsonBody } from "../graph/graphRoutes.js";
import type { GraphServices } from "../graph/graphContext.js";
import { checkFixture, type Fixture } from "../seed/fixture.js";
import type { Database, SqlExecutor } from "../store/database.js";
import type { IdentityStore } from "../store/identityStore.js";
import type { CompiledModel } from "../odata/compiledModel.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { FaultStore } from "../gate/faultStore.js";
import { SCHEMA_VERSION, wipeTenantState } from "../store/schema.js";
import { replicationLagFromSeconds } from "../store/replicationLag.js";

export interface ControlDeps {
  db: Database;
  identity: IdentityStore;
  services: GraphServices;
  faults: FaultStore;
  adminKey: string;
  startupFixture?: Fixture;
  seedInto(fixture: Fixture): Promise<void>;
  /** Every model whose tables hold tenant state (Graph's and MMD's). */
  storedModels: CompiledModel[];
  authenticator: Authenticator;
  readonly issuerBase: string;
}

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps) {
  const authority = { identity: deps.identity, clock: deps.services.clock, adminKey: deps.adminKey, authenticator: deps.authenticator, get issuerBase() { return deps.issuerBase; } };

  const wipeTenant = (tx: SqlExecutor, tenantId: string) => wipeTenantState(tx, deps.storedModels, tenantId);

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
      requireAdminKey(authority, request, "Resetting every tenant");
      const tenants = await deps.identity.listTenants();
      await deps.db.transaction(async (tx) => {
        for (const t of tenants) await wipeTenant(tx, t.id);
        await tx.run("DELETE FROM app_registrations");
        await tx.run("DELETE FROM tenants");
        // Fault rules are test state, the installation-wide ones (no tenant) included; clock, lifecycle timing,
        // throttling settings and replication lag are settings, kept (each has its own endpoint).
        await tx.run("DELETE FROM fault_rules");
      });
      await deps.faults.refresh();
      deps.authenticator.invalidate();
      if (reseed && deps.startupFixture) await deps.seedInto(deps.startupFixture);
      return { reset: tenants.map((t) => t.id), reseeded: reseed && !!deps.startupFixture };
    }
    if (body.tenant !== undefined && typeof body.tenant !== "string") throw badRequest("'tenant' must be a tenant id.");
    const tenantId = await authorizedTenant(authority, request, body.tenant as string | undefined, "Resetting a tenant");
    if (!tenantId) throw badRequest("Name the tenant to reset: {\"tenant\": \"<id>\"}, or {\"all\": true}.");
    if (!(await deps.identity.getTenant(tenantId))) throw new GraphError(404, "ResourceNotFound", `No tenant '${tenantId}' exists.`);
    await deps.db.transaction(async (tx) => {
      await wipeTenant(tx, tenantId);
      await tx.run(`DELETE FROM fault_rules WHERE tenant_id = ${tx.dialect.param(1)}`, [tenantId]);
    });
    await deps.faults.refresh();
    const ownSeed = deps.startupFixture?.tenants.filter((t) => t.id.toLowerCase() === tenantId);
    if (reseed && ownSeed?.length) await deps.seedInto({ tenants: ownSeed.map((t) => ({ ...t, apps: t.apps })) });
    return { reset: [tenantId], reseeded: reseed && !!ownSeed?.length };
  });

  /** Replication lag of this process (admin key): {"seconds": 2} turns it on, {"seconds": 0} off. */
  const lagBody = () => ({ seconds: deps.services.replication.milliseconds / 1000 });
  app.get("/_allot/replication-lag", async (request) => {
    requireAdminKey(authority, request, "Reading the replication lag");
    return lagBody();
  });
  app.put("/_allot/replication-lag", async (request) => {
    requireAdminKey(authority, request, "Setting the replication lag");
    const body = jsonBody(request) as { seconds?: unknown } | undefined;
    const ms = replicationLagFromSeconds(body && typeof body === "object" ? body.seconds : undefined);
    if (ms === undefined) throw badRequest("The body must be {\"seconds\": n} with 0 <= n <= 3600.");
    deps.services.replication.set(ms);
    return lagBody();
  });

  /** Loads a fixture (the --seed FILE format, docs/fixtures.md) in one transaction: all of it or nothing. */
  app.post("/_allot/seed", async (request) => {
    requireAdminKey(authority, request, "Seeding");
    const fixture = checkFixture(jsonBody(request));
    await deps.seedInto(fixture);
    deps.authenticator.invalidate();
    return { seeded: fixture.tenants.map((t) => t.id.toLowerCase()) };
  });
}
