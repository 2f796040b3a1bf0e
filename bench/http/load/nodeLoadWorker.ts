// Load generation in a process of its own (so it never shares the measured server's event loop, nor the
// orchestrator's): autocannon when it is installed, otherwise a small generator on node:http with a keep-alive
// Agent, N connections each running request → response → next request for warm-up + duration seconds.
// run.ts sends {tool, spec}; this process answers {result} or {error} and exits.

import http from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Samples } from "../stats.js";
import type { LoadResult, LoadSpec } from "./types.js";

interface Job {
  tool: "node" | "autocannon";
  spec: LoadSpec;
}

async function runNodeHttp(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections, scheduling: "fifo" });
  const latencies = new Samples();
  let non2xx = 0;
  let errors = 0;
  let next = 0;

  const one = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: target.hostname, port: target.port, path, method: "GET", headers: spec.headers, agent },
        (res) => {
          res.on("data", () => undefined);
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });

  const startedAt = performance.now();
  const measureFrom = startedAt + spec.warmupSeconds * 1000;
  const stopAt = measureFrom + spec.durationSeconds * 1000;
  const connection = async () => {
    for (;;) {
      const sent = performance.now();
      if (sent >= stopAt) return;
      const path = spec.paths[next++ % spec.paths.length];
      let status = 0;
      try {
        status = await one(path);
      } catch {
        status = -1;
      }
      const done = performance.now();
      if (done < measureFrom || done > stopAt) continue;
      if (status === -1) errors++;
      else {
        if (status < 200 || status >= 400) non2xx++;
        latencies.push(done - sent);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, connection));
  agent.destroy();
  return {
    requests: latencies.length,
    seconds: spec.durationSeconds,
    reqPerSec: latencies.length / spec.durationSeconds,
    latencyMs: latencies.summary(),
    non2xx,
    errors,
  };
}

interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const resolved = createRequire(import.meta.url).resolve("autocannon");
  const mod = (await import(pathToFileURL(resolved).href)) as { default: (opts: unknown) => Promise<AutocannonResult> };
  const autocannon = mod.default;
  let next = 0;
  const options = (duration: number) => ({
    url: spec.origin,
    connections: spec.connections,
    duration,
    headers: spec.headers,
    requests: [
      {
        method: "GET",
        setupRequest: (req: Record<string, unknown>) => ({ ...req, path: spec.paths[next++ % spec.paths.length] }),
      },
    ],
  });
  if (spec.warmupSeconds > 0) await autocannon(options(spec.warmupSeconds));
  const r = await autocannon(options(spec.durationSeconds));
  return {
    requests: r.requests.total,
    seconds: r.duration,
    reqPerSec: r.requests.total / r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, mean: r.latency.average, max: r.latency.max },
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

process.once("message", async (job: Job) => {
  try {
    const result = job.tool === "autocannon" ? await runAutocannon(job.spec) : await runNodeHttp(job.spec);
    process.send!({ result }, () => process.exit(0));
  } catch (e) {
    process.send!({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, () => process.exit(1));
  }
});
