// POST /_allot/fleet: a synthetic fleet (users, devices with their Entra and Autopilot faces, groups with their
// memberships) in the caller's tenant, with the permission enrollment needs; answers what it created.

import type { FastifyInstance } from "fastify";
import { generateFleet } from "../graph/devices/fleet/fleetGenerator.js";
import { parseFleetRequest } from "../graph/devices/fleet/fleetRequest.js";
import { hasPermission } from "../graph/entityRequests.js";
import type { GraphServices } from "../graph/graphContext.js";
import { graphContextFor, jsonBody } from "../graph/graphRoutes.js";
import { GRAPH_AUDIENCES } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import { forbidden, notFound } from "../odata/errors.js";
import type { IdentityStore } from "../store/identityStore.js";
import { ENROLLMENT_PERMISSION } from "./enrollmentRoutes.js";

export interface FleetDeps {
  services: GraphServices;
  identity: IdentityStore;
  authenticator: Authenticator;
}

export function registerFleetRoutes(app: FastifyInstance, deps: FleetDeps) {
  app.post("/_allot/fleet", async (request, reply) => {
    const principal = await deps.authenticator.authenticate(request.headers.authorization, GRAPH_AUDIENCES);
    const ctx = { ...graphContextFor(deps.services, request, principal), audited: false };
    if (!hasPermission(ctx, ENROLLMENT_PERMISSION)) throw forbidden("Creating a fleet needs DeviceManagementManagedDevices.ReadWrite.All.", "Authorization_RequestDenied");
    const fleet = parseFleetRequest(jsonBody(request));
    const tenant = await deps.identity.getTenant(ctx.tenantId);
    if (!tenant) throw notFound(`Tenant '${ctx.tenantId}' does not exist.`);
    const created = await generateFleet(ctx, { id: ctx.tenantId, domain: tenant.domain, displayName: tenant.displayName }, fleet);
    return reply.code(201).send(created);
  });
}
