// Headers every Graph response carries (spec §4.3): request-id, client-request-id (echoed, or the request id
// when the client sent none) and the diagnostic header.

import type { FastifyInstance } from "fastify";
import { clientRequestId } from "./graphErrorEnvelope.js";

const DIAGNOSTIC = JSON.stringify({ ServerInfo: { DataCenter: "Local", Slice: "E", Ring: "1", ScaleUnit: "000", RoleInstance: "allot" } });

export function addProtocolHeaders(app: FastifyInstance) {
  // A callback hook rather than an async one: no promise and no extra microtask on every request.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("request-id", request.id);
    reply.header("client-request-id", clientRequestId(request));
    reply.header("x-ms-ags-diagnostic", DIAGNOSTIC);
    reply.header("strict-transport-security", "max-age=31536000");
    reply.header("cache-control", "no-cache");
    reply.header("odata-version", "4.0");
    done();
  });
}
