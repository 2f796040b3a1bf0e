// POST /_allot/fleet: a synthetic fleet (users, devices with their Entra and Autopilot faces, groups with their
// memberships) in the caller's tenant, with the permission enrollment needs; answers what it created.

import type { FastifyInstance } from "fastify";
import { generateFleet } from "../graph/devices/fleet/fleetGenerator.js";
import { parseFleetRequest } from "../graph/devices/fleet/fleetRequest.js";
import { hasPermission } from "../graph/entityRequests.js";
import { graphContextFor, jsonBody } from "../graph/graphRoutes.js";
import { authenticate, GRAPH_AUDIENCES } from "../identity/authenticate.js";
import { forbidden, notFound } from "../odata/errors.js";
import { ENROLLMENT_PERMISSION, type EnrollmentDeps } from "./enrollmentRoutes.js";

export type FleetDeps = EnrollmentDeps;

export function registerFleetRoutes(app: FastifyInstance, deps: FleetDeps) {
  app.post("/_allot/fleet", async (request, reply) => {
    const principal = await authenticate(deps.identity, deps.issuerBase, request.headers.authorization, GRAPH_AUDIENCES, deps.services.clock.now(), deps.trusted);
    const ctx = { ...graphContextFor(deps.services, request, principal), audited: false };
    if (!hasPermission(ctx, ENROLLMENT_PERMISSION)) throw forbidden("Creating a fleet needs DeviceManagementManagedDevices.ReadWrite.All.", "Authorization_RequestDenied");
    const fleet = parseFleetRequest(jsonBody(request));
    const tenant = await deps.identity.getTenant(ctx.tenantId);
    if (!tenant) throw notFound(`Tenant '${ctx.tenantId}' does not exist.`);
    const created = await generateFleet(ctx, { id: ctx.tenantId, domain: tenant.domain, displayName: tenant.displayName }, fleet);
    return reply.code(201).send(created);
  });
}
