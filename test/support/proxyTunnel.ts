// HTTPS through an HTTP proxy with nothing but Node's own modules: an https.Agent whose connections are CONNECT
// tunnels opened with http.request, the way proxy agents do it. Used to drive Allot's proxy mode from Node.

import { request as httpRequest } from "node:http";
import { Agent, request as httpsRequest, type AgentOptions, type RequestOptions } from "node:https";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";

export interface TunnelledResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** An agent that reaches every https:// URL through the proxy at `proxyUrl`, trusting `ca`. */
export function tunnelAgent(proxyUrl: string, ca: string): Agent {
  const proxy = new URL(proxyUrl);
  class TunnelAgent extends Agent {
    override createConnection(options: RequestOptions, callback?: (error: Error | null, stream: Duplex) => void): undefined {
      const done = (error: Error | null, stream?: Duplex) => callback?.(error, stream as Duplex);
      const host = options.host ?? options.hostname ?? "";
      const target = `${host}:${options.port ?? 443}`;
      const connect = httpRequest({ host: proxy.hostname, port: Number(proxy.port), method: "CONNECT", path: target, headers: { host: target } });
      connect.once("connect", (response, socket) => {
        if (response.statusCode !== 200) {
          socket.destroy();
          done(new Error(`proxy refused CONNECT ${target}: ${response.statusCode} ${response.statusMessage}`));
          return;
        }
        const tls = tlsConnect({ socket, servername: host, ca });
        tls.once("secureConnect", () => done(null, tls));
        tls.once("error", (error) => done(error));
      });
      connect.once("error", (error) => done(error));
      connect.end();
      return undefined;
    }
  }
  return new TunnelAgent({ keepAlive: false } satisfies AgentOptions);
}

/** One request over `agent`; the body is parsed as JSON when it is JSON. */
export function tunnelledRequest(agent: Agent, method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<TunnelledResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, agent, headers: { ...headers, ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
