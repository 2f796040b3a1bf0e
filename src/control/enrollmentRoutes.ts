// POST /_allot/devices: enroll one device in the caller's tenant (a Graph token with
// DeviceManagementManagedDevices.ReadWrite.All), answering the ids that link its three faces.

import type { FastifyInstance } from "fastify";
import { enrollDevice } from "../graph/devices/enrollment.js";
import { hasPermission } from "../graph/entityRequests.js";
import type { GraphServices } from "../graph/graphContext.js";
import { graphContextFor, jsonBody } from "../graph/graphRoutes.js";
import { GRAPH_AUDIENCES } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import { forbidden } from "../odata/errors.js";

export interface EnrollmentDeps {
  services: GraphServices;
  authenticator: Authenticator;
}

export const ENROLLMENT_PERMISSION = { application: ["DeviceManagementManagedDevices.ReadWrite.All"], delegated: ["DeviceManagementManagedDevices.ReadWrite.All"] };

export function registerEnrollmentRoutes(app: FastifyInstance, deps: EnrollmentDeps) {
  app.post("/_allot/devices", async (request, reply) => {
    const principal = await deps.authenticator.authenticate(request.headers.authorization, GRAPH_AUDIENCES);
    const ctx = { ...graphContextFor(deps.services, request, principal), audited: false };
    if (!hasPermission(ctx, ENROLLMENT_PERMISSION)) throw forbidden("Enrolling a device needs DeviceManagementManagedDevices.ReadWrite.All.", "Authorization_RequestDenied");
    const ids = await enrollDevice(ctx, jsonBody(request));
    return reply.code(201).send(ids);
  });
}
