// The Graph protocol adapter: /beta/… and /v1.0/…. It authenticates, resolves the path against the model,
// parses query options and the body, and hands a typed request to EntityRequests; it never knows entity names.

import type { FastifyInstance, FastifyRequest } from "fastify";
import { badRequest, GraphError } from "../odata/errors.js";
import { metadataDocument } from "../odata/metadata.js";
import { resolvePath, splitPath } from "../odata/pathResolver.js";
import { parseQueryOptions } from "../odata/queryOptions.js";
import { GRAPH_AUDIENCES } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { IdentityStore } from "../store/identityStore.js";
import type { GraphContext, GraphServices, Principal } from "./graphContext.js";
import type { EntityRequests } from "./entityRequests.js";

export const JSON_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

export interface GraphRouteDeps {
  services: GraphServices;
  identity: IdentityStore;
  requests: EntityRequests;
  authenticator: Authenticator;
}

export const baseUrlOf = (request: FastifyRequest) => `${request.protocol}://${request.headers.host ?? request.hostname}`;

/** Parses a JSON body, refusing other content types the way Graph does. */
export function jsonBody(request: FastifyRequest): unknown {
  const raw = request.body as Buffer | undefined;
  if (!raw || raw.length === 0) return undefined;
  const type = String(request.headers["content-type"] ?? "");
  if (type !== "" && !/^application\/json\b/i.test(type) && !/\+json\b/i.test(type)) {
    throw new GraphError(415, "UnsupportedMediaType", `The content type '${type}' is not supported; send application/json.`);
  }
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.");
  }
}

/** The Graph context of an authenticated request (also used by control-plane routes that act as Graph would). */
export function graphContextFor(services: GraphServices, request: FastifyRequest, principal: Principal, version = "beta"): GraphContext {
  return {
    ...services,
    principal,
    tenantId: principal.tenantId,
    serviceRoot: `${baseUrlOf(request)}/${version}`,
    requestHeaders: request.headers,
    requestId: request.id,
    audited: true,
  };
}

export function registerGraphRoutes(app: FastifyInstance, deps: GraphRouteDeps) {
  const metadata = metadataDocument(deps.services.model);
  const handler = async (request: FastifyRequest, reply: import("fastify").FastifyReply) => {
    const url = request.url;
    const version = url.startsWith("/v1.0") ? "v1.0" : "beta";
    const [rawPath, rawQuery = ""] = url.slice(version.length + 1).split(/\?(.*)/s, 2);
    let path: string;
    try {
      path = decodeURIComponent(rawPath.replace(/^\/+/, ""));
    } catch {
      throw badRequest("The request URL is not correctly encoded.");
    }
    const serviceRoot = `${baseUrlOf(request)}/${version}`;
    if (path === "$metadata") {
      return reply.type("application/xml").send(metadata);
    }
    const principal = await deps.authenticator.authenticate(request.headers.authorization, GRAPH_AUDIENCES);
    if (path === "") {
      const sets = [...deps.services.model.entitySets.keys()].map((name) => ({ name, kind: "EntitySet", url: name }));
      const singletons = [...deps.services.model.singletons.keys()].map((name) => ({ name, kind: "Singleton", url: name }));
      return reply.type(JSON_CONTENT_TYPE).send({ "@odata.context": `${serviceRoot}/$metadata`, value: [...sets, ...singletons] });
    }
    const resolved = resolvePath(deps.services.model, splitPath(path));
    const options = parseQueryOptions(new URLSearchParams(rawQuery), version === "beta");
    const body = request.method === "GET" || request.method === "DELETE" ? undefined : jsonBody(request);
    const result = await deps.requests.handle(
      graphContextFor(deps.services, request, principal, version),
      { method: request.method, resolved, options, body, relativeUrl: `/${rawPath.replace(/^\/+/, "")}${rawQuery ? `?${rawQuery}` : ""}` },
    );
    reply.code(result.status).headers(result.headers ?? {});
    if (result.text !== undefined) return reply.type("text/plain;charset=utf-8").send(result.text);
    if (result.body === undefined) return reply.send();
    return reply.type(JSON_CONTENT_TYPE).send(JSON.stringify(result.body));
  };
  for (const version of ["beta", "v1.0"]) {
    app.route({ method: ["GET", "POST", "PATCH", "PUT", "DELETE"], url: `/${version}`, handler });
    app.route({ method: ["GET", "POST", "PATCH", "PUT", "DELETE"], url: `/${version}/*`, handler });
  }
}
