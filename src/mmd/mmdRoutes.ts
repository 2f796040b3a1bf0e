// The Microsoft Managed Desktop support API at /support/odata/v1/ (spec §1), with MMD's own conventions: its
// @odata.context host, a plain-text success for reassignProfile, the flat error body for profile endpoints and
// the nested one elsewhere. It serves the same tenants, devices and users as Graph.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { LifecycleTiming } from "../engine/lifecycleTiming.js";
import { MMD_AUDIENCE } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import { graphContextFor, jsonBody } from "../graph/graphRoutes.js";
import type { GraphContext, GraphServices } from "../graph/graphContext.js";
import { GraphError } from "../odata/errors.js";
import type { Reconciler } from "../reconcile/reconciler.js";
import type { IdentityStore } from "../store/identityStore.js";
import { MmdError, nestedError, sendMmdError } from "./mmdErrors.js";
import { listMmdDevices, listMmdUsers, mmdDeviceByName, mmdUserByUpn, type Page } from "./mmdDirectory.js";
import { REASSIGNABLE_PERSONAS } from "./personas.js";
import { startReassign, validateReassign } from "./reassignProfile.js";
import { addNote, closeElevation, createElevation, createTicket, elevationDetails, getTicket, listElevations, listTickets, ticketNotes } from "./mmdRecords.js";

export const MMD_ROOT = "/support/odata/v1";
/** MMD answers with another host, and without the /support prefix (spec §1.1). */
const CONTEXT = "https://mmd-support-prod-nam.trafficmanager.net/odata/v1/$metadata#";

export interface MmdDeps {
  services: GraphServices;
  identity: IdentityStore;
  authenticator: Authenticator;
  reconciler: Reconciler;
  timing: () => LifecycleTiming;
}

type Access = "read" | "write";

/** The JSON body of an MMD request; a malformed one is MMD's nested 400. */
function mmdJson(request: FastifyRequest): unknown {
  try {
    return jsonBody(request);
  } catch (e) {
    if (e instanceof GraphError) throw nestedError(e.status, e.message);
    throw e;
  }
}

const queryOf = (request: FastifyRequest) => new URLSearchParams(request.url.split("?")[1] ?? "");

function pageOf(query: Record<string, string | undefined>): Page {
  const int = (name: string) => {
    const v = query[`$${name}`] ?? query[name];
    if (v === undefined) return undefined;
    if (!/^\d{1,9}$/.test(v)) throw nestedError(400, `The value '${v}' of '$${name}' is not a non-negative integer.`);
    return Number(v);
  };
  return { top: int("top"), skip: int("skip"), searchText: query.$searchText ?? query.searchText };
}

export function registerMmdRoutes(app: FastifyInstance, deps: MmdDeps) {
  /** Authenticates, authorizes (MmdSupport.ReadWrite; MWaaSDevice.Read for reads) and checks the URL's tenant. */
  const contextOf = async (request: FastifyRequest, access: Access, shape: "flat" | "nested"): Promise<GraphContext> => {
    let principal;
    try {
      principal = await deps.authenticator.authenticate(request.headers.authorization, [MMD_AUDIENCE]);
    } catch (e) {
      if (e instanceof GraphError) throw new MmdError(401, e.message, shape);
      throw e;
    }
    const granted = principal.kind === "application" ? principal.permissions.has("MmdSupport.ReadWrite") : access === "read" && principal.permissions.has("MWaaSDevice.Read");
    if (!granted) {
      throw new MmdError(403, principal.kind === "delegated" && access === "write" ? "Delegated access is not applicable to this operation." : "The token lacks the MmdSupport.ReadWrite permission.", shape);
    }
    const { tenantId } = request.params as { tenantId?: string };
    if (tenantId !== undefined && tenantId.toLowerCase() !== principal.tenantId) throw new MmdError(403, `The token is not valid for tenant ${tenantId}.`, shape);
    return graphContextFor(deps.services, request, principal);
  };

  const route = (shape: "flat" | "nested", handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return await handler(request, reply);
    } catch (e) {
      if (e instanceof MmdError) return sendMmdError(reply, e);
      if (e instanceof GraphError && e.status < 500) return sendMmdError(reply, new MmdError(e.status, e.message, shape));
      throw e;
    }
  };

  app.get(`${MMD_ROOT}/tenants/:tenantId/profiles`, route("flat", async (request) => {
    const ctx = await contextOf(request, "read", "flat");
    const tenant = (await deps.identity.getTenant(ctx.tenantId))!;
    const enabled = new Set(tenant.mmdEnabledPersonas ?? []);
    // Enabled ones first, in the tenant's order (as the documents list them), then the others.
    const ordered = [...(tenant.mmdEnabledPersonas ?? []), ...REASSIGNABLE_PERSONAS.filter((p) => !enabled.has(p))];
    return { "@odata.context": `${CONTEXT}Profile`, value: ordered.map((id) => ({ id, status: enabled.has(id) ? "Enabled" : "Disabled" })) };
  }));

  app.patch(`${MMD_ROOT}/tenants/:tenantId/profiles/reassignProfile`, route("flat", async (request, reply) => {
    const ctx = await contextOf(request, "write", "flat");
    const tenant = (await deps.identity.getTenant(ctx.tenantId))!;
    const query = request.query as Record<string, string | undefined>;
    // The documented URL carries a stray space before &wipe; parameter names are trimmed.
    const param = (name: string) => Object.entries(query).find(([k]) => k.trim().toLowerCase() === name)?.[1];
    let body: unknown;
    try {
      body = jsonBody(request);
    } catch (e) {
      body = e;
    }
    const { persona, wipe, deviceIds } = validateReassign(tenant, { persona: param("persona"), wipe: param("wipe"), body: body instanceof Error ? undefined : body });
    await startReassign(ctx, deps.reconciler, deps.timing(), persona, wipe, deviceIds);
    return reply.code(200).type("text/plain; charset=utf-8").send(`Successfully start reassigning devices to profile ${persona}`);
  }));

  app.get(`${MMD_ROOT}/tenants/:tenantId/devices`, route("nested", async (request) => {
    const ctx = await contextOf(request, "read", "nested");
    return { "@odata.context": `${CONTEXT}Devices`, value: await listMmdDevices(ctx, ctx.db, pageOf(request.query as Record<string, string>)) };
  }));

  app.get(`${MMD_ROOT}/tenants/:tenantId/devices/:deviceName`, route("nested", async (request) => {
    const ctx = await contextOf(request, "read", "nested");
    const device = await mmdDeviceByName(ctx, ctx.db, (request.params as { deviceName: string }).deviceName);
    if (!device) throw nestedError(404, "This device does not exist.");
    return { "@odata.context": `${CONTEXT}Devices/$entity`, ...device };
  }));

  app.get(`${MMD_ROOT}/tenants/:tenantId/users`, route("nested", async (request) => {
    const ctx = await contextOf(request, "read", "nested");
    return { "@odata.context": `${CONTEXT}Users`, value: await listMmdUsers(ctx, ctx.db, pageOf(request.query as Record<string, string>)) };
  }));

  // Tickets are not tenant-scoped in the URL: the tenant is the token's (spec §1.1 [I]).
  app.post(`${MMD_ROOT}/tickets`, route("nested", async (request, reply) => {
    const ctx = await contextOf(request, "write", "nested");
    return reply.code(200).send(await createTicket(ctx.db, ctx.tenantId, mmdJson(request), ctx.clock.now()));
  }));

  app.get(`${MMD_ROOT}/tickets`, route("nested", async (request) => {
    const ctx = await contextOf(request, "write", "nested");
    return { "@odata.context": `${CONTEXT}Tickets`, value: await listTickets(ctx.db, ctx.tenantId, queryOf(request)) };
  }));

  /** `tickets('{id}')`, `tickets('{id}')/notes` and `tickets('{id}')/addNote`, in OData's key syntax. */
  const ticketPath = (request: FastifyRequest) => {
    const rest = decodeURIComponent((request.params as { "*": string })["*"] ?? "");
    const m = /^\('((?:[^']|'')+)'\)(?:\/(notes|addNote))?$/.exec(rest);
    if (!m) throw nestedError(404, "Resource not found.");
    return { id: m[1].replace(/''/g, "'"), tail: m[2] };
  };
  app.get(`${MMD_ROOT}/tickets*`, route("nested", async (request) => {
    const ctx = await contextOf(request, "write", "nested");
    const { id, tail } = ticketPath(request);
    if (tail === "addNote") throw nestedError(405, "addNote is a POST.");
    if (tail === "notes") return { "@odata.context": `${CONTEXT}Notes`, value: await ticketNotes(ctx.db, ctx.tenantId, id) };
    return { "@odata.context": `${CONTEXT}Tickets/$entity`, ...(await getTicket(ctx.db, ctx.tenantId, id)) };
  }));
  app.post(`${MMD_ROOT}/tickets*`, route("nested", async (request, reply) => {
    const ctx = await contextOf(request, "write", "nested");
    const { id, tail } = ticketPath(request);
    if (tail !== "addNote") throw nestedError(405, "Only addNote is a POST on a ticket.");
    await addNote(ctx.db, ctx.tenantId, id, mmdJson(request), ctx.principal.upn ?? ctx.principal.appId, ctx.clock.now());
    return reply.code(204).send();
  }));

  app.post(`${MMD_ROOT}/tenants/:tenantId/elevationRequests`, route("nested", async (request, reply) => {
    const ctx = await contextOf(request, "write", "nested");
    const exists = async (name: string) => (await mmdDeviceByName(ctx, ctx.db, name)) !== undefined;
    const created = await createElevation(ctx.db, ctx.tenantId, mmdJson(request), ctx.principal.upn ?? ctx.principal.appId, exists, ctx.clock.now());
    return reply.code(201).send({ "@odata.context": `${CONTEXT}ElevationRequests/$entity`, ...created });
  }));

  app.patch(`${MMD_ROOT}/tenants/:tenantId/elevationRequests/:id`, route("nested", async (request, reply) => {
    const ctx = await contextOf(request, "write", "nested");
    await closeElevation(ctx.db, ctx.tenantId, (request.params as { id: string }).id, mmdJson(request), ctx.principal.upn ?? ctx.principal.appId, ctx.clock.now());
    return reply.code(204).send();
  }));

  app.get(`${MMD_ROOT}/tenants/:tenantId/elevationRequests`, route("nested", async (request) => {
    const ctx = await contextOf(request, "write", "nested");
    return { "@odata.context": `${CONTEXT}ElevationRequests`, value: await listElevations(ctx.db, ctx.tenantId, queryOf(request)) };
  }));

  app.get(`${MMD_ROOT}/tenants/:tenantId/devices/:deviceName/elevationDetails`, route("nested", async (request) => {
    const ctx = await contextOf(request, "write", "nested");
    const { deviceName } = request.params as { deviceName: string };
    const device = await mmdDeviceByName(ctx, ctx.db, deviceName);
    if (!device) throw nestedError(404, "This device does not exist.");
    return { "@odata.context": `${CONTEXT}DeviceElevationDetails/$entity`, ...(await elevationDetails(ctx.db, ctx.tenantId, device.name as string, device.aadDeviceId)) };
  }));

  app.get(`${MMD_ROOT}/tenants/:tenantId/users/:upn`, route("nested", async (request) => {
    const ctx = await contextOf(request, "read", "nested");
    const user = await mmdUserByUpn(ctx, ctx.db, (request.params as { upn: string }).upn);
    if (!user) throw nestedError(404, "This user does not exist.");
    // Get-by-UPN answers a `value` array with the collection's context (spec §1.6).
    return { "@odata.context": `${CONTEXT}Users`, value: [user] };
  }));
}
