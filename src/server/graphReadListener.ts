// Graph reads without Fastify: a node:http request listener in front of Fastify answers every bodiless Graph GET
// (`/beta/…`, `/v1.0/…`) through the same Graph executor the Fastify route uses (graphRoutes.ts), and writes the
// reply with one writeHead of a flat header list. Fastify's routing, hooks and reply machinery cost more per
// request than a GET by id's own work; the answer is the same, byte for byte but for dates and ids (checked by
// test/graph/read-listener.test.ts against Fastify's own path). Everything else goes to Fastify: other methods,
// requests with a body (Fastify's body limit and parsers), paths with a percent sign (Fastify answers a malformed
// encoding itself) and requests without a Host header.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { GraphReply, GraphRequestExecutor } from "../graph/graphRoutes.js";
import { jsonPayload } from "../odata/jsonText.js";
import { clientRequestIdOf } from "./graphErrorEnvelope.js";
import { FIXED_PROTOCOL_HEADERS, PROTOCOL_HEADER_NAMES } from "./protocolHeaders.js";

const FIXED_PAIRS: readonly string[] = Object.entries(FIXED_PROTOCOL_HEADERS).flat();

/** Whether the listener answers this request itself (otherwise Fastify does). */
function servedHere(req: IncomingMessage): boolean {
  if (req.method !== "GET") return false;
  const url = req.url!;
  // Exactly what Fastify's `/beta`, `/beta/*`, `/v1.0` and `/v1.0/*` GET routes match (case-sensitive).
  if (!(url.startsWith("/beta") || url.startsWith("/v1.0"))) return false;
  const next = url.charCodeAt(5);
  if (!(next !== next /* NaN: the URL ends here */ || next === 47 /* / */ || next === 63 /* ? */)) return false;
  const query = url.indexOf("?");
  if (url.lastIndexOf("%", query === -1 ? url.length : query) !== -1) return false;
  const headers = req.headers;
  return headers.host !== undefined && headers["content-length"] === undefined && headers["transfer-encoding"] === undefined;
}

// The content type Fastify writes for a string body: a JSON media type without charset gets `; charset=utf-8`.
const wireContentTypes = new Map<string, string>();
function wireContentType(type: string | undefined): string {
  if (type === undefined || type === "") return "text/plain; charset=utf-8";
  let wire = wireContentTypes.get(type);
  if (wire === undefined) {
    const [media, ...parameters] = type.split(";");
    const json = media.toLowerCase().includes("json");
    const hasCharset = parameters.some((p) => /^\s*charset\s*=/i.test(p));
    wire = json && !hasCharset ? `${[media.trim().toLowerCase(), ...parameters.map((p) => p.trim()).filter(Boolean)].join("; ")}; charset=utf-8` : type;
    if (wireContentTypes.size < 100) wireContentTypes.set(type, wire);
  }
  return wire;
}

/** Writes a Graph reply the way the Fastify route does (graphRoutes.ts `registerGraphRoutes`). */
function writeReply(req: IncomingMessage, res: ServerResponse, requestId: string, reply: GraphReply) {
  if (reply.drop) {
    req.socket.destroy();
    return;
  }
  const status = reply.status;
  const headers: string[] = ["request-id", requestId, "client-request-id", clientRequestIdOf(req.headers, requestId), ...FIXED_PAIRS];
  let contentType: string | undefined;
  let replaced = false;
  for (const name in reply.headers) {
    if (name === "content-type") contentType = reply.headers[name];
    else if (PROTOCOL_HEADER_NAMES.has(name)) replaced = true;
    else headers.push(name, reply.headers[name]!);
  }
  // A handler's own value of a protocol header replaces it (as reply.header does on Fastify's path): rare, so
  // the list is rebuilt only then.
  if (replaced) {
    for (const name in reply.headers) {
      if (!PROTOCOL_HEADER_NAMES.has(name)) continue;
      headers[headers.indexOf(name) + 1] = reply.headers[name]!;
    }
  }
  if (reply.body === undefined || status === 204 || status < 200) {
    if (reply.body === undefined && status >= 200 && status !== 204 && status !== 304) headers.push("content-length", "0");
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const payload = jsonPayload(reply.body);
  headers.push("content-type", wireContentType(contentType), "content-length", String(Buffer.byteLength(payload)));
  res.writeHead(status, headers);
  res.end(payload);
}

/** The server's request listener: Graph reads here, everything else to `fastify` (Fastify's routing). */
export function graphReadListener(execute: () => GraphRequestExecutor | undefined, fastify: RequestListener): RequestListener {
  return (req, res) => {
    const run = execute();
    if (run === undefined || !servedHere(req)) return fastify(req, res);
    // Fastify's genReqId, request.protocol and baseUrlOf, for the same request id, scheme and host.
    const requestId = randomUUID();
    const scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
    run({ method: "GET", url: req.url!, headers: req.headers, baseUrl: `${scheme}://${req.headers.host}`, requestId })
      .then((reply) => writeReply(req, res, requestId, reply))
      .catch((error: unknown) => {
        // The executor answers its own errors: this is a failure to write the answer.
        process.stderr.write(`allot: GET ${req.url}: ${(error as Error).stack ?? String(error)}\n`);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
  };
}
