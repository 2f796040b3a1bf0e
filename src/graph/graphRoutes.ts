// The Graph protocol adapter: /beta/… and /v1.0/…. It authenticates, resolves the path against the model,
// parses query options and the body, and hands a typed request to EntityRequests; it never knows entity names.
// The per-request work is one function (`GraphRequestExecutor`) from a method, URL, headers and body to a status,
// headers and body: the HTTP routes and each item of a JSON batch (`jsonBatch.ts`) go through it alike.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { badRequest } from "../odata/errors.js";
import { jsonPayload } from "../odata/jsonText.js";
import { metadataDocument } from "../odata/metadata.js";
import { resolvePath, splitPath } from "../odata/pathResolver.js";
import { parseQueryOptions } from "../odata/queryOptions.js";
import { GRAPH_AUDIENCES } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { IdentityStore } from "../store/identityStore.js";
import { asGraphError } from "../server/graphErrorEnvelope.js";
import { graphErrorReply, parseGraphJsonBody, type GraphCall, type GraphReply, type RequestHeaders } from "./graphCall.js";
import type { GraphContext, GraphServices, Principal } from "./graphContext.js";
import type { EntityRequests } from "./entityRequests.js";
import { registerJsonBatchRoutes } from "./jsonBatch.js";
import type { RequestGate } from "../gate/requestGate.js";
import type { ResolvedPath } from "../odata/pathResolver.js";
import { microsoftClientOf, modelRoute, type CoverageRecorder } from "../coverage/coverageRecorder.js";

export const JSON_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

export interface GraphRouteDeps {
  services: GraphServices;
  identity: IdentityStore;
  requests: EntityRequests;
  authenticator: Authenticator;
  /** Throttling and fault injection, between authentication and the handler. */
  gate?: RequestGate;
  /** Only with ALLOT_COVERAGE_FILE (docs/coverage.md); absent otherwise. */
  recorder?: CoverageRecorder;
}

export type GraphRequestExecutor = (call: GraphCall) => Promise<GraphReply>;
export type { GraphCall, GraphReply, RequestHeaders };

export const baseUrlOf = (request: FastifyRequest) => `${request.protocol}://${request.headers.host ?? request.hostname}`;

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The query of a URL without one (parseQueryOptions only reads it). */
const NO_PARAMETERS = new URLSearchParams();

/** Parses a JSON body, refusing other content types the way Graph does. */
export function jsonBody(request: FastifyRequest): unknown {
  return parseGraphJsonBody(request.body as Buffer | undefined, String(request.headers["content-type"] ?? ""));
}

function contextFor(services: GraphServices, principal: Principal, serviceRoot: string, headers: RequestHeaders, requestId: string): GraphContext {
  // The per-request fields come first and the spread after: V8 adds properties after a spread one slow transition
  // at a time (tens of µs per request here). They are written again so that they win, as in `{ ...services, … }`.
  const ctx: GraphContext = { principal, tenantId: principal.tenantId, serviceRoot, requestHeaders: headers, requestId, audited: true, ...services };
  ctx.principal = principal;
  ctx.tenantId = principal.tenantId;
  ctx.serviceRoot = serviceRoot;
  ctx.requestHeaders = headers;
  ctx.requestId = requestId;
  ctx.audited = true;
  return ctx;
}

/** The Graph context of an authenticated request (also used by control-plane routes that act as Graph would). */
export function graphContextFor(services: GraphServices, request: FastifyRequest, principal: Principal, version = "beta"): GraphContext {
  return contextFor(services, principal, `${baseUrlOf(request)}/${version}`, request.headers, request.id);
}

/**
 * The per-request pipeline: authenticate, resolve the path against the model (no store), the gate (throttling,
 * faults), parse options and body, execute (load, authorize, handle), serialize; never throws.
 */
export function graphRequestExecutor(deps: GraphRouteDeps): GraphRequestExecutor {
  const metadata = metadataDocument(deps.services.model);
  /** `served.route` is set as soon as the path resolves, for the coverage recorder. */
  const execute = async (call: GraphCall, served: { route?: string }): Promise<GraphReply> => {
    const url = call.url;
    const version = url.startsWith("/v1.0") ? "v1.0" : "beta";
    const afterVersion = url.slice(version.length + 1);
    const q = afterVersion.indexOf("?");
    const rawPath = q === -1 ? afterVersion : afterVersion.slice(0, q);
    const rawQuery = q === -1 ? "" : afterVersion.slice(q + 1);
    const trimmedPath = rawPath.charCodeAt(0) === 47 /* / */ ? rawPath.replace(/^\/+/, "") : rawPath;
    let path: string;
    try {
      path = trimmedPath.includes("%") ? decodeURIComponent(trimmedPath) : trimmedPath;
    } catch {
      throw badRequest("The request URL is not correctly encoded.");
    }
    const serviceRoot = `${call.baseUrl}/${version}`;
    served.route = path === "$metadata" || path === "" ? `/${path}` : undefined;
    if (path === "$metadata") return { status: 200, headers: { "content-type": "application/xml" }, body: metadata };
    const authorization = headerValue(call.headers.authorization);
    const principal = deps.authenticator.remembered(authorization, GRAPH_AUDIENCES) ?? (await deps.authenticator.authenticate(authorization, GRAPH_AUDIENCES));
    if (path === "") {
      const sets = [...deps.services.model.entitySets.keys()].map((name) => ({ name, kind: "EntitySet", url: name }));
      const singletons = [...deps.services.model.singletons.keys()].map((name) => ({ name, kind: "Singleton", url: name }));
      return { status: 200, headers: { "content-type": JSON_CONTENT_TYPE }, body: { "@odata.context": `${serviceRoot}/$metadata`, value: [...sets, ...singletons] } };
    }
    // The gate needs the resolved path (the service family, fault patterns); an unresolvable path still passes
    // the gate (rules without a path pattern catch it) and then answers its 400.
    let resolved: ResolvedPath | undefined;
    let unresolvable: unknown;
    try {
      resolved = resolvePath(deps.services.model, splitPath(path));
    } catch (e) {
      unresolvable = e;
    }
    if (resolved && deps.recorder) served.route = modelRoute(resolved.steps);
    const admitted = deps.gate?.admit({ method: call.method, tenantId: principal.tenantId, appId: principal.appId, resolved });
    const verdict = admitted instanceof Promise ? await admitted : admitted;
    if (verdict?.kind === "drop") return { status: 0, headers: {}, drop: true };
    // Answered here rather than thrown: an injected 500 is no bug of Allot's to report on stderr.
    if (verdict?.kind === "refuse") return graphErrorReply(verdict.error, call.requestId, call.headers, deps.services.clock.now());
    if (!resolved) throw unresolvable;
    const options = parseQueryOptions(rawQuery === "" ? NO_PARAMETERS : new URLSearchParams(rawQuery), version === "beta");
    const body = call.method === "GET" || call.method === "DELETE" ? undefined : parseGraphJsonBody(call.body, String(headerValue(call.headers["content-type"]) ?? ""));
    // The read cache's key: the answer of a GET without query options depends on the tenant, the service root
    // (the context URL) and the path alone, besides the store.
    const readKey = call.method === "GET" && rawQuery === "" && deps.services.readCache !== undefined ? `${principal.tenantId} ${serviceRoot} ${path}` : undefined;
    const result = await deps.requests.handle(contextFor(deps.services, principal, serviceRoot, call.headers, call.requestId), {
      method: call.method,
      resolved,
      options,
      body,
      relativeUrl: rawQuery ? `/${trimmedPath}?${rawQuery}` : `/${trimmedPath}`,
      readKey,
    });
    const headers: Record<string, string> = {};
    if (result.headers) for (const name in result.headers) headers[name.toLowerCase()] = result.headers[name]!;
    if (result.text !== undefined) {
      headers["content-type"] = "text/plain;charset=utf-8";
      return { status: result.status, headers, body: result.text };
    }
    if (result.body === undefined) return { status: result.status, headers };
    headers["content-type"] = JSON_CONTENT_TYPE;
    return { status: result.status, headers, body: result.body };
  };
  const run = async (call: GraphCall, served: { route?: string }): Promise<GraphReply> => {
    try {
      return await execute(call, served);
    } catch (error) {
      const graphError = asGraphError(error);
      // A 500 is a bug in Allot: say so on stderr even when request logging is off.
      if (graphError.status >= 500) process.stderr.write(`allot: ${call.method} ${call.url}: ${(error as Error).stack ?? String(error)}\n`);
      return graphErrorReply(graphError, call.requestId, call.headers, deps.services.clock.now());
    }
  };
  const recorder = deps.recorder;
  if (!recorder) return (call) => run(call, {});
  return async (call) => {
    const served: { route?: string } = {};
    const reply = await run(call, served);
    if (served.route !== undefined) {
      recorder.record({ api: "graph", route: served.route, method: call.method, status: reply.status, client: microsoftClientOf(call.headers) ?? (call.outerHeaders && microsoftClientOf(call.outerHeaders)) });
    }
    return reply;
  };
}

/** Registers the Graph routes; returns their executor (the read listener in front of Fastify uses it too). */
export function registerGraphRoutes(app: FastifyInstance, deps: GraphRouteDeps): GraphRequestExecutor {
  const execute = graphRequestExecutor(deps);
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await execute({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: request.body as Buffer | undefined,
      baseUrl: baseUrlOf(request),
      requestId: request.id,
    });
    if (result.drop) {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    const { "content-type": contentType, ...headers } = result.headers;
    reply.code(result.status).headers(headers);
    if (result.body === undefined) return reply.send();
    if (contentType) reply.type(contentType);
    return reply.send(jsonPayload(result.body));
  };
  for (const version of ["beta", "v1.0"]) {
    app.route({ method: ["GET", "POST", "PATCH", "PUT", "DELETE"], url: `/${version}`, handler });
    app.route({ method: ["GET", "POST", "PATCH", "PUT", "DELETE"], url: `/${version}/*`, handler });
  }
  registerJsonBatchRoutes(app, { execute, authenticator: deps.authenticator, clock: deps.services.clock });
  return execute;
}
