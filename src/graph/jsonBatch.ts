// JSON batching (spec §4.7): POST /{version}/$batch with {"requests": [{id, method, url, headers?, body?,
// dependsOn?}]} answers 200 {"responses": [{id, status, headers, body?}]}. The batch is checked as a whole first
// (any fault there is one 400 and nothing runs); then every item goes through the same pipeline as a request of its
// own (GraphRequestExecutor: authentication, permissions, path, query options, EntityRequests, error envelope),
// with its own request-id. Items run as soon as what they depend on has answered, concurrently otherwise; an item
// whose dependency failed answers 424 without running. Decisions: docs/decisions.md, "$batch".

import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { badRequest, GraphError } from "../odata/errors.js";
import { GRAPH_AUDIENCES } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { Clock } from "../time/clock.js";
import { graphErrorReply, parseGraphJsonBody, type GraphCall, type GraphReply, type RequestHeaders } from "./graphCall.js";

/** Graph's limit on the requests of one batch. */
export const MAX_BATCH_REQUESTS = 20;
const METHODS = new Set(["GET", "POST", "PATCH", "PUT", "DELETE"]);
/** Graph refuses a write item without a body or without a Content-Type header. */
const WRITE_METHODS = new Set(["POST", "PATCH", "PUT"]);

export interface JsonBatchDeps {
  execute: (call: GraphCall) => Promise<GraphReply>;
  authenticator: Authenticator;
  clock: Clock;
}

/** One request of a batch, checked. */
export interface BatchItem {
  id: string;
  /** The id in lower case: ids are compared without case. */
  key: string;
  method: string;
  /** The item's URL as sent. */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body?: Buffer;
  /** Keys of the items this one waits for. */
  dependsOn: string[];
}

export interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const isJsonType = (type: string) => /^application\/json\b/i.test(type) || /\+json\b/i.test(type);

/** A base64 (or base64url) string whose bytes are JSON text, as Kiota's core sends write bodies; else undefined. */
export function base64Json(value: string): Buffer | undefined {
  const compact = value.replace(/\s+/g, "");
  if (compact === "" || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, "base64");
  try {
    JSON.parse(bytes.toString("utf8"));
    return bytes;
  } catch {
    return undefined;
  }
}

/** The bytes of an item's body under the Content-Type it declares (OData JSON batch: JSON inline, text as a
 * string, anything else base64). */
function bodyBytes(body: unknown, contentType: string): Buffer {
  if (typeof body !== "string") return Buffer.from(JSON.stringify(body), "utf8");
  if (isJsonType(contentType) || /^text\//i.test(contentType)) return Buffer.from(body, "utf8");
  return Buffer.from(body, "base64");
}

const shapeError = (index: number, message: string) => badRequest(`Invalid batch request at index ${index}: ${message}`);

/** Checks a batch as a whole; any fault is a 400 for the whole batch (GraphError). Items come back in request order. */
export function parseBatch(payload: unknown): BatchItem[] {
  if (!isObject(payload) || !Array.isArray(payload.requests)) {
    throw badRequest("Invalid batch payload format: the body must be a JSON object with a 'requests' array.");
  }
  const requests: unknown[] = payload.requests;
  if (requests.length === 0) throw badRequest("Invalid batch payload format: the 'requests' array is empty.");
  if (requests.length > MAX_BATCH_REQUESTS) throw badRequest("Number of requests inside batch exceeds the limit.");
  const items: BatchItem[] = [];
  const byKey = new Map<string, BatchItem>();
  const rawDependsOn: unknown[] = [];
  requests.forEach((raw, index) => {
    if (!isObject(raw)) throw shapeError(index, "each request is a JSON object.");
    const { id, method, url } = raw;
    if (typeof id !== "string" || id === "") throw shapeError(index, "'id' is required and is a non-empty string.");
    if (typeof method !== "string" || !METHODS.has(method.toUpperCase())) {
      throw shapeError(index, `'method' is required and is one of ${[...METHODS].join(", ")}.`);
    }
    if (typeof url !== "string" || url === "") throw shapeError(index, "'url' is required and is a non-empty string.");
    const headers: Record<string, string> = {};
    if (raw.headers !== undefined && raw.headers !== null) {
      if (!isObject(raw.headers)) throw shapeError(index, "'headers' is a JSON object of header names and values.");
      for (const [name, value] of Object.entries(raw.headers)) {
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
          throw shapeError(index, `the value of header '${name}' is not a string.`);
        }
        headers[name.toLowerCase()] = String(value);
      }
    }
    if (raw.dependsOn !== undefined && raw.dependsOn !== null && (!Array.isArray(raw.dependsOn) || raw.dependsOn.some((d) => typeof d !== "string"))) {
      throw shapeError(index, "'dependsOn' is an array of request ids.");
    }
    const key = id.toLowerCase();
    if (byKey.has(key)) throw badRequest(`Request Id ${id} has to be unique in a batch.`);
    const verb = method.toUpperCase();
    const item: BatchItem = { id, key, method: verb, url, headers, dependsOn: [] };
    const body = raw.body ?? undefined;
    if (WRITE_METHODS.has(verb)) {
      const contentType = headers["content-type"];
      // Kiota's core sends a write body as base64 without a Content-Type: taken as JSON when it decodes to JSON.
      const decoded = contentType === undefined && typeof body === "string" ? base64Json(body) : undefined;
      if (body === undefined || (contentType === undefined && !decoded)) {
        throw badRequest(`Write request id : ${id} does not contain Content-Type header or body.`);
      }
      if (decoded) {
        item.body = decoded;
        item.headers["content-type"] = "application/json";
      } else item.body = bodyBytes(body, contentType!);
    }
    items.push(item);
    byKey.set(key, item);
    rawDependsOn.push(raw.dependsOn ?? []);
  });
  items.forEach((item, index) => {
    for (const dependency of rawDependsOn[index] as string[]) {
      const key = dependency.toLowerCase();
      if (!byKey.has(key)) throw badRequest(`Request Id ${item.id} depends on '${dependency}', which is not a request of this batch.`);
      if (key === item.key) throw badRequest(`Request Id ${item.id} cannot depend on itself.`);
      if (!item.dependsOn.includes(key)) item.dependsOn.push(key);
    }
  });
  rejectCycles(items, byKey);
  return items;
}

/** A cycle of dependsOn (which could never run) is a 400. */
function rejectCycles(items: BatchItem[], byKey: Map<string, BatchItem>) {
  const state = new Map<string, "visiting" | "done">();
  const visit = (item: BatchItem, path: string[]) => {
    const seen = state.get(item.key);
    if (seen === "done") return;
    if (seen === "visiting") throw badRequest(`The dependsOn of requests ${[...path, item.id].join(" → ")} form a cycle.`);
    state.set(item.key, "visiting");
    for (const key of item.dependsOn) visit(byKey.get(key)!, [...path, item.id]);
    state.set(item.key, "done");
  };
  for (const item of items) visit(item, []);
}

/** The URL an item names, from the version segment on; a URL of another host answers a 400 for that item. */
export function itemUrl(url: string, batchVersion: string, baseUrl: string): string | GraphError {
  let rest = url;
  const absolute = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/is.exec(url);
  if (absolute) {
    if (absolute[1].toLowerCase() !== baseUrl.toLowerCase()) {
      return badRequest(`Invalid request URL '${url}': a batch request URL is relative to the version root (for example '/users'), or a URL of this service.`);
    }
    rest = absolute[2];
  }
  rest = rest.replace(/^\/+/, "");
  // The v3 client sends everything after host:port, version included.
  let version = batchVersion;
  const named = /^(beta|v1\.0)(?=[/?]|$)/i.exec(rest);
  if (named) {
    version = named[1].toLowerCase();
    rest = rest.slice(named[0].length).replace(/^\/+/, "");
  }
  return `/${version}/${rest}`;
}

const CANONICAL_HEADER_NAMES: Record<string, string> = { "odata-version": "OData-Version", etag: "ETag" };
const canonicalHeaderName = (name: string) =>
  CANONICAL_HEADER_NAMES[name] ?? name.split("-").map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join("-");

function batchResponse(item: BatchItem, reply: GraphReply, requestId: string, clientRequestId: string): BatchResponse {
  const headers: Record<string, string> = { "Cache-Control": "no-cache", "OData-Version": "4.0" };
  for (const [name, value] of Object.entries(reply.headers)) headers[canonicalHeaderName(name)] = value;
  headers["request-id"] = requestId;
  headers["client-request-id"] = clientRequestId;
  const response: BatchResponse = { id: item.id, status: reply.status, headers };
  if (reply.body !== undefined && reply.status !== 204) response.body = reply.body;
  return response;
}

/** Runs the items of a checked batch: each after its dependencies, the others concurrently. */
export async function runBatch(
  items: BatchItem[],
  outer: { version: string; baseUrl: string; headers: RequestHeaders },
  deps: Pick<JsonBatchDeps, "execute" | "clock">,
): Promise<BatchResponse[]> {
  const byKey = new Map(items.map((item) => [item.key, item]));
  const answers = new Map<string, Promise<BatchResponse>>();
  const outerAuthorization = headerValue(outer.headers.authorization);
  const outerClientRequestId = headerValue(outer.headers["client-request-id"]);
  const run = async (item: BatchItem): Promise<BatchResponse> => {
    const dependencies = await Promise.all(item.dependsOn.map((key) => answer(byKey.get(key)!)));
    const requestId = randomUUID();
    const clientRequestId = item.headers["client-request-id"] ?? outerClientRequestId ?? requestId;
    const headers: RequestHeaders = { ...item.headers, "client-request-id": clientRequestId };
    if (headers.authorization === undefined && outerAuthorization !== undefined) headers.authorization = outerAuthorization;
    const failed = dependencies.find((d) => d.status >= 400);
    let reply: GraphReply;
    if (failed) {
      const error = new GraphError(424, "FailedDependency", `Request '${item.id}' was not run because request '${failed.id}', which it depends on, failed with status ${failed.status}.`);
      reply = graphErrorReply(error, requestId, headers, deps.clock.now());
    } else {
      const url = itemUrl(item.url, outer.version, outer.baseUrl);
      reply = url instanceof GraphError
        ? graphErrorReply(url, requestId, headers, deps.clock.now())
        : await deps.execute({ method: item.method, url, headers, body: item.body, baseUrl: outer.baseUrl, requestId, outerHeaders: outer.headers });
      // A dropped connection cannot happen to one item of a batch: the gateway answers that item 504.
      if (reply.drop) {
        const error = new GraphError(504, "GatewayTimeout", `Request '${item.id}' got no response from the service (injected fault: connection dropped).`);
        reply = graphErrorReply(error, requestId, headers, deps.clock.now());
      }
    }
    return batchResponse(item, reply, requestId, clientRequestId);
  };
  const answer = (item: BatchItem): Promise<BatchResponse> => {
    let promise = answers.get(item.key);
    if (!promise) {
      promise = run(item);
      answers.set(item.key, promise);
    }
    return promise;
  };
  return Promise.all(items.map(answer));
}

export function registerJsonBatchRoutes(app: FastifyInstance, deps: JsonBatchDeps) {
  for (const version of ["beta", "v1.0"]) {
    app.post(`/${version}/$batch`, async (request: FastifyRequest, reply: FastifyReply) => {
      // The batch itself is authenticated first, as Graph's gateway does; each item again with its own token.
      await deps.authenticator.authenticate(headerValue(request.headers.authorization), GRAPH_AUDIENCES);
      const payload = parseGraphJsonBody(request.body as Buffer | undefined, String(request.headers["content-type"] ?? ""));
      const items = parseBatch(payload);
      const baseUrl = `${request.protocol}://${request.headers.host ?? request.hostname}`;
      const responses = await runBatch(items, { version, baseUrl, headers: request.headers }, deps);
      return reply.code(200).type("application/json").send(JSON.stringify({ responses }));
    });
  }
}
