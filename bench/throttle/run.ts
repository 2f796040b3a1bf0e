// The cost of Intune throttling on the hot path: GET /beta/deviceManagement/managedDevices/{id} with throttling
// off (the baseline, measured before and after) and on with limits too high to refuse anything, so every request
// pays the window upsert and nothing else changes. `allot serve` runs in a child process; the load tool is
// the HTTP benchmark's (wrk when on the PATH).
//
//   node --import tsx bench/throttle/run.ts [--quick] [--connections 20] [--duration 8] [--skip-postgres]
//
// Writes bench/results/throttle.json and bench/results/throttle.md.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, tokenFor } from "../../test/support/allotUnderTest.js";
import { chooseLoadTool } from "../http/load/tools.js";
import type { LoadResult } from "../http/load/types.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const POSTGRES_URL = process.env.ALLOT_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const ADMIN = { "x-allot-admin-key": "allot-dev-admin-key", "content-type": "application/json" };
const NEVER_REFUSING = { families: Object.fromEntries(["deviceConfiguration", "enrollment", "devices", "other"].map((f) => [f, { writes: { tenant: 1e9, app: 1e9 }, any: { tenant: 1e9, app: 1e9 } }])) };

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    connections: { type: "string", default: "20" },
    duration: { type: "string" },
    "skip-postgres": { type: "boolean", default: false },
  },
});
const duration = Number(flags.duration ?? (flags.quick ? 3 : 8));
const warmup = flags.quick ? 1 : 2;
const connections = Number(flags.connections);

function serve(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, "bin/allot.mjs"), "serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`allot serve exited with ${code}:\n${out}`)));
  });
}

async function control(url: string, method: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, { method, headers: ADMIN, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

interface Run {
  label: string;
  result: LoadResult;
}

async function measure(backend: string, storeArgs: string[]): Promise<{ backend: string; runs: Run[]; ratio: number }> {
  const { child, url } = await serve([...storeArgs, "--throttle", "off", "--lifecycle", "immediate"]);
  try {
    const token = await tokenFor(url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    const enrolled = await fetch(`${url}/_allot/devices`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
    const { managedDeviceId } = (await enrolled.json()) as { managedDeviceId: string };
    const tool = chooseLoadTool();
    const load = () =>
      tool.run({ origin: url, paths: [`/beta/deviceManagement/managedDevices/${managedDeviceId}`], headers: { authorization: `Bearer ${token}` }, connections, threads: 2, warmupSeconds: warmup, durationSeconds: duration });
    // A first run warms the server up (JIT, caches) and is not counted; then off and on alternate, so drift
    // in a shared machine's load falls on both alike.
    await load();
    const runs: Run[] = [];
    for (let round = 0; round < 2; round++) {
      await control(url, "PUT", "/_allot/throttling", { mode: "off" });
      runs.push({ label: `throttling off (${round + 1})`, result: await load() });
      await control(url, "PUT", "/_allot/throttling", NEVER_REFUSING);
      runs.push({ label: `throttling on, counting, never refusing (${round + 1})`, result: await load() });
    }
    await control(url, "PUT", "/_allot/throttling", { mode: "off" });
    runs.push({ label: "throttling off (3)", result: await load() });
    // Medians: on a shared machine one disturbed run should not decide the figure.
    const median = (xs: Run[]) => {
      const v = xs.map((r) => r.result.reqPerSec).sort((a, b) => a - b);
      return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    };
    const baseline = median(runs.filter((r) => r.label.startsWith("throttling off")));
    const on = median(runs.filter((r) => r.label.startsWith("throttling on")));
    return { backend, runs, ratio: on / baseline };
  } finally {
    child.kill("SIGTERM");
  }
}

const reports = [];
const dataDir = await mkdtemp(join(os.tmpdir(), "allot-bench-throttle-"));
try {
  reports.push(await measure("sqlite", ["--data", dataDir]));
  if (!flags["skip-postgres"]) {
    const schema = `allot_bench_${randomBytes(4).toString("hex")}`;
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    const reachable = await client.connect().then(() => true, () => false);
    if (reachable) {
      try {
        reports.push(await measure("postgres", ["--database-url", POSTGRES_URL, "--database-schema", schema]));
      } finally {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
    }
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
const summary = { commit, node: process.version, cpus: os.cpus().length, tool: chooseLoadTool().description, connections, durationSeconds: duration, reports };
await writeFile(join(root, "bench/results/throttle.json"), `${JSON.stringify(summary, null, 2)}\n`);
const lines = [
  "# Throttling on the hot path",
  "",
  `GET /beta/deviceManagement/managedDevices/{id}, ${connections} connections, ${duration} s per run, ${summary.tool}, Node ${process.version}, ${summary.cpus} CPUs, commit ${commit}.`,
  "After a discarded warm-up run, off and on alternate (off, on, off, on, off); the ratio is median(on) ÷ median(off).",
  "",
  "| backend | run | req/s | p50 ms | p99 ms | non-2xx |",
  "|---|---|---|---|---|---|",
  ...reports.flatMap((r) => r.runs.map((run) => `| ${r.backend} | ${run.label} | ${run.result.reqPerSec.toFixed(0)} | ${run.result.latencyMs.p50.toFixed(2)} | ${run.result.latencyMs.p99.toFixed(2)} | ${run.result.non2xx} |`)),
  "",
  ...reports.map((r) => `- ${r.backend}: throttling on runs at **${r.ratio.toFixed(2)} ×** the throughput with it off.`),
  "",
];
await writeFile(join(root, "bench/results/throttle.md"), lines.join("\n"));
console.log(lines.join("\n"));
process.exit(0);
