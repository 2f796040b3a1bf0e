// Headers every Graph response carries (spec §4.3): request-id, client-request-id (echoed, or the request id
// when the client sent none) and the diagnostic header, besides three fixed ones. One definition serves both
// writers: Fastify's onRequest hook and the Graph read listener in front of Fastify (graphReadListener.ts).

import type { FastifyInstance } from "fastify";
import { clientRequestId } from "./graphErrorEnvelope.js";

const DIAGNOSTIC = JSON.stringify({ ServerInfo: { DataCenter: "Local", Slice: "E", Ring: "1", ScaleUnit: "000", RoleInstance: "allot" } });

/** The headers whose values are the same on every response, in the order they are written. */
export const FIXED_PROTOCOL_HEADERS: Readonly<Record<string, string>> = {
  "x-ms-ags-diagnostic": DIAGNOSTIC,
  "strict-transport-security": "max-age=31536000",
  "cache-control": "no-cache",
  "odata-version": "4.0",
};

/** Every protocol header name (lower case), so that a handler's own header of that name can replace it. */
export const PROTOCOL_HEADER_NAMES: ReadonlySet<string> = new Set(["request-id", "client-request-id", ...Object.keys(FIXED_PROTOCOL_HEADERS)]);

export function addProtocolHeaders(app: FastifyInstance) {
  // A callback hook rather than an async one: no promise and no extra microtask on every request.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("request-id", request.id);
    reply.header("client-request-id", clientRequestId(request));
    reply.headers(FIXED_PROTOCOL_HEADERS);
    done();
  });
}
