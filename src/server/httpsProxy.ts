// The HTTPS proxy mode (`allot serve --proxy-port P`): an HTTP proxy that accepts CONNECT for Microsoft's three
// hosts only, terminates TLS itself with a certificate from Allot's local CA, and hands the decrypted stream to the
// same request handler as Allot's own port. Clients whose hosts are hard-coded (curl, Python requests, SDKs) then
// reach Allot's state unchanged. Nothing is ever dialled out: a tunnel always ends inside this process.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import type { ServerCertificate } from "./localCertificateAuthority.js";

/** The hosts a tunnel may be opened to, all on port 443. */
export const PROXIED_HOSTS = ["graph.microsoft.com", "mmdls.microsoft.com", "login.microsoftonline.com"] as const;
export const LOGIN_HOST_BASE = "https://login.microsoftonline.com";

export interface HttpsProxyOptions {
  port: number;
  host: string;
  certificate: ServerCertificate;
  /** The application's request listener (the main port's: Graph reads, then Fastify). */
  handle(request: IncomingMessage, response: ServerResponse): void;
}

export interface RunningHttpsProxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `host:port` of a CONNECT request target, or undefined when it is not one. */
export function connectTarget(authority: string | undefined): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:/?#\s]+):(\d{1,5})$/.exec(authority ?? "");
  if (!m) return undefined;
  return { host: m[1]!.toLowerCase().replace(/\.$/, ""), port: Number(m[2]) };
}

const isProxiedHost = (host: string) => (PROXIED_HOSTS as readonly string[]).includes(host);

function refuse(socket: Duplex, status: string, message: string) {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}

export async function startHttpsProxy(options: HttpsProxyOptions): Promise<RunningHttpsProxy> {
  const secureContext = createSecureContext({ cert: options.certificate.certPem, key: options.certificate.keyPem });
  /** The host each decrypted stream was opened for: a request on it must name that host. */
  const tunnelHosts = new WeakMap<object, string>();
  const sockets = new Set<Duplex>();

  // Decrypted requests: the same handler as the main port, so the same routes, state and headers.
  const inner: Server = createServer((request, response) => {
    const tunnelled = tunnelHosts.get(request.socket);
    const host = String(request.headers.host ?? "").toLowerCase().replace(/:443$/, "");
    if (host !== tunnelled) {
      response.writeHead(421, { "content-type": "text/plain; charset=utf-8" });
      response.end(`Misdirected request: this tunnel was opened for ${tunnelled}, not for ${host || "(no Host header)"}.`);
      return;
    }
    options.handle(request, response);
  });

  const outer: Server = createServer((_request, response) => {
    // Plain-HTTP proxying (absolute-form GET http://…) would mean forwarding: Allot only terminates HTTPS tunnels.
    response.writeHead(405, { "content-type": "text/plain; charset=utf-8", allow: "CONNECT" });
    response.end(`Allot's proxy only opens HTTPS tunnels (CONNECT) to ${PROXIED_HOSTS.join(", ")} on port 443.\n`);
  });
  outer.on("connect", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const target = connectTarget(request.url);
    if (!target) return refuse(socket, "400 Bad Request", `Not a CONNECT target (host:port): ${request.url}\n`);
    if (!isProxiedHost(target.host) || target.port !== 443) {
      return refuse(socket, "403 Forbidden", `Allot's proxy refuses ${target.host}:${target.port}: it serves only ${PROXIED_HOSTS.join(", ")} on port 443, and never connects anywhere else.\n`);
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    const tls = new TLSSocket(socket as Socket, { isServer: true, secureContext, ALPNProtocols: ["http/1.1"] });
    tls.on("error", () => socket.destroy());
    tunnelHosts.set(tls, target.host);
    inner.emit("connection", tls);
  });

  await new Promise<void>((resolve, reject) => {
    outer.once("error", reject);
    outer.listen(options.port, options.host, () => resolve());
  });
  const port = (outer.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => outer.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      outer.closeAllConnections();
      inner.closeAllConnections();
      await closed;
    },
  };
}
