// HTTP benchmark of Allot against a bare Fastify hello-world measured in the same run with the same tool and
// settings. Every server runs in a child process of its own; so does the load generator.
//
//   node --import tsx bench/http/run.ts [--quick] [--connections 50] [--duration 10] [--warmup 2]
//        [--users 10000] [--tool wrk|autocannon|node] [--threads N] [--skip-postgres]
//
// Writes bench/results/http.json and bench/results/http.md.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { tokenFor } from "../../test/support/allotUnderTest.js";
import { killAllChildren, ReadyTimeout, startServerChild, type ServerChild } from "./children.js";
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_TENANT_ID, benchUserId, countStartingWithOne } from "./fixture.js";
import { chooseLoadTool } from "./load/tools.js";
import type { LoadSpec, LoadTool, ToolName } from "./load/types.js";
import { printTable, renderMarkdown, type BenchReport, type MeasuredLoad, type ScenarioResult, type TargetReport } from "./report.js";
import { processCpuSeconds } from "./serverCpu.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const resultsDir = join(root, "bench", "results");
const POSTGRES_URL = process.env.ALLOT_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SEED_BUDGET_SECONDS = 60;
const FALLBACK_USERS = 2_000;
const LIST_FILTER = "startswith(displayName,'User 1')";
const LIST_TOP = 100;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    connections: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    users: { type: "string" },
    tool: { type: "string" },
    threads: { type: "string" },
    "skip-postgres": { type: "boolean", default: false },
  },
});

const int = (v: string | undefined, fallback: number) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${v}`);
  return n;
};
const settings = {
  mode: flags.quick ? ("quick" as const) : ("full" as const),
  connections: int(flags.connections, 50),
  durationSeconds: int(flags.duration, flags.quick ? 3 : 10),
  warmupSeconds: int(flags.warmup, flags.quick ? 1 : 2),
  // The server is one Node process; a wrk thread per two cores leaves the rest to the server.
  threads: int(flags.threads, Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / 2)))),
  users: int(flags.users, 10_000),
};
if (flags.tool !== undefined && !["wrk", "autocannon", "node"].includes(flags.tool)) throw new Error(`unknown --tool ${flags.tool}`);

const notes: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

async function cleanup() {
  killAllChildren();
  while (cleanups.length) await cleanups.pop()!().catch((e) => console.error(`cleanup: ${(e as Error).message}`));
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.once("exit", killAllChildren);

/** A reproducible shuffle, so the ids are not read in insertion order. */
function shuffled<T>(items: T[], seed = 0x5eed): T[] {
  const out = [...items];
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function spec(origin: string, paths: string[], headers: Record<string, string> = {}): LoadSpec {
  return { origin, paths, headers, connections: settings.connections, threads: settings.threads, warmupSeconds: settings.warmupSeconds, durationSeconds: settings.durationSeconds };
}

function log(message: string) {
  console.log(`[bench] ${message}`);
}

/** Warm-up, then the measured window, with the server's CPU time read around the window alone. */
async function measure(tool: LoadTool, label: string, s: LoadSpec, serverPid: number): Promise<MeasuredLoad> {
  log(`${label}: ${s.warmupSeconds} s warm-up + ${s.durationSeconds} s, ${s.connections} connections…`);
  if (s.warmupSeconds > 0) await tool.run({ ...s, warmupSeconds: 0, durationSeconds: s.warmupSeconds });
  const cpuBefore = processCpuSeconds(serverPid);
  const load = await tool.run({ ...s, warmupSeconds: 0 });
  const cpuAfter = processCpuSeconds(serverPid);
  const r: MeasuredLoad = { ...load };
  if (cpuBefore !== undefined && cpuAfter !== undefined && load.requests > 0) r.serverCpuMicrosPerRequest = ((cpuAfter - cpuBefore) * 1e6) / load.requests;
  log(`${label}: ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms${r.serverCpuMicrosPerRequest ? `, server ${r.serverCpuMicrosPerRequest.toFixed(1)} µs CPU/request` : ""}${r.non2xx || r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ""}`);
  if (r.non2xx || r.errors) notes.push(`${label}: ${r.non2xx} non-2xx responses and ${r.errors} socket errors/timeouts during the measurement.`);
  return r;
}

/**
 * Lets a server work off the backlog a finished measurement leaves (requests wrk sent before it stopped are
 * still queued): one probe request goes to the back of the queue, and its answer means the queue is empty.
 * Keeps one scenario's leftovers out of the next one, and keeps the server from being closed mid-request.
 */
async function drain(url: string, headers: Record<string, string> = {}) {
  await new Promise((r) => setTimeout(r, 300));
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 200));
}

async function measureBaseline(tool: LoadTool, when: string): Promise<MeasuredLoad> {
  const server = await startServerChild(join(here, "servers", "helloWorld.ts"), [], 30_000);
  try {
    const res = await fetch(`${server.ready.url}/`);
    const body = await res.json();
    if (res.status !== 200 || JSON.stringify(body) !== '{"hello":"world"}') throw new Error(`baseline answered ${res.status} ${JSON.stringify(body)}`);
    const result = await measure(tool, `baseline (${when})`, spec(server.ready.url, ["/"]), server.pid);
    await drain(`${server.ready.url}/`);
    return result;
  } finally {
    await server.stop();
  }
}

/** Starts Allot seeded with `users` users; if seeding overruns the budget, starts over with fewer. */
/** Set once a backend overran the seeding budget: later backends start with the fallback count directly. */
let usersOverride: number | undefined;

async function startSeededAllot(backend: "sqlite" | "postgres", freshStore: () => Promise<object>): Promise<{ server: ServerChild; users: number }> {
  const attempt = async (users: number, budgetSeconds: number) => {
    const store = await freshStore();
    log(`${backend}: seeding ${users} users through the fixture (budget ${budgetSeconds} s)…`);
    const server = await startServerChild(join(here, "servers", "allot.ts"), [JSON.stringify({ store, users })], budgetSeconds * 1000 + 15_000);
    const seedSeconds = server.ready.seedSeconds as number;
    log(`${backend}: ${users} users seeded, startAllot took ${seedSeconds.toFixed(1)} s`);
    return { server, users, seedSeconds };
  };
  if (usersOverride !== undefined) {
    notes.push(`${backend}: seeded with ${usersOverride} users directly, the count the first backend fell back to, so both backends serve the same data set.`);
    return attempt(usersOverride, 600);
  }
  let first;
  try {
    first = await attempt(settings.users, SEED_BUDGET_SECONDS);
  } catch (e) {
    if (!(e instanceof ReadyTimeout) || settings.users <= FALLBACK_USERS) throw e;
    first = undefined;
  }
  if (first && first.seedSeconds <= SEED_BUDGET_SECONDS) return first;
  if (first) await first.server.stop();
  usersOverride = FALLBACK_USERS;
  const note = `${backend}: loading ${settings.users} users through the seed fixture took more than ${SEED_BUDGET_SECONDS} s${first ? ` (${first.seedSeconds.toFixed(0)} s)` : ""}, so this backend was measured with ${FALLBACK_USERS} users.`;
  log(note);
  notes.push(note);
  return attempt(FALLBACK_USERS, 600);
}

async function checkResponses(url: string, token: string, users: number, listPath: string) {
  const headers = { authorization: `Bearer ${token}` };
  const id = benchUserId(Math.ceil(users / 2));
  const one = await fetch(`${url}/beta/users/${id}`, { headers });
  const oneBody = (await one.json()) as { id?: string };
  if (one.status !== 200 || oneBody.id !== id) throw new Error(`GET /beta/users/${id} answered ${one.status} ${JSON.stringify(oneBody).slice(0, 300)}`);
  const list = await fetch(`${url}${listPath}`, { headers });
  const listBody = (await list.json()) as { value?: { displayName: string }[]; "@odata.nextLink"?: string };
  const expected = Math.min(LIST_TOP, countStartingWithOne(users));
  const ok =
    list.status === 200 &&
    listBody.value?.length === expected &&
    listBody.value.every((u) => u.displayName.startsWith("User 1")) &&
    (countStartingWithOne(users) > LIST_TOP) === (listBody["@odata.nextLink"] !== undefined);
  if (!ok) throw new Error(`GET ${listPath} answered ${list.status} ${JSON.stringify(listBody).slice(0, 300)}`);
  return { getBytes: JSON.stringify(oneBody).length, listBytes: JSON.stringify(listBody).length };
}

async function benchAllot(tool: LoadTool, backend: "sqlite" | "postgres", freshStore: () => Promise<object>, facts: Record<string, unknown>): Promise<TargetReport> {
  const { server, users } = await startSeededAllot(backend, freshStore);
  try {
    const url = server.ready.url;
    const token = await tokenFor(url, BENCH_TENANT_ID, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET);
    const listPath = `/beta/users?$filter=${encodeURIComponent(LIST_FILTER)}&$top=${LIST_TOP}`;
    const sizes = await checkResponses(url, token, users, listPath);
    const headers = { Authorization: `Bearer ${token}` };
    const ids = shuffled(Array.from({ length: users }, (_, i) => benchUserId(i + 1)));
    const scenarios: { name: string; request: string; paths: string[]; responseBytes: number }[] = [
      { name: "GET by id", request: `GET /beta/users/{id} (rotating over ${users} ids)`, paths: ids.map((id) => `/beta/users/${id}`), responseBytes: sizes.getBytes },
      { name: "filtered list", request: `GET /beta/users?$filter=${LIST_FILTER}&$top=${LIST_TOP}`, paths: [listPath], responseBytes: sizes.listBytes },
    ];
    const results: Omit<ScenarioResult, "ratioToBaseline">[] = [];
    for (const s of scenarios) {
      const r = await measure(tool, `${backend} ${s.name}`, spec(url, s.paths, headers), server.pid);
      await drain(`${url}${s.paths[0]}`, headers);
      results.push({ name: s.name, request: s.request, responseBytes: s.responseBytes, ...r });
    }
    return {
      backend,
      users,
      seedSeconds: server.ready.seedSeconds as number,
      tokenBytes: token.length,
      facts: { ...facts, ...Object.fromEntries(Object.entries(server.ready).filter(([k]) => !["type", "url", "seedSeconds", "users"].includes(k))) },
      scenarios: results as ScenarioResult[],
    };
  } finally {
    await server.stop();
  }
}

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

async function main() {
  const tool = chooseLoadTool(flags.tool as ToolName | undefined);
  if (tool.name !== "wrk") {
    notes.push(`wrk was not ${flags.tool ? "chosen" : "found"}; measured with ${tool.description}. A Node generator costs more CPU per request than wrk, which caps the hello-world baseline hardest and so makes the ratios look better than wrk would.`);
  }
  const cpus = os.cpus();
  const fastifyVersion = (JSON.parse(await readFile(join(root, "node_modules", "fastify", "package.json"), "utf8")) as { version: string }).version;
  const machine = {
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? "unknown",
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    fastify: fastifyVersion,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  const git = (...args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
  const source = { commit: git("rev-parse", "--short", "HEAD") || "unknown", uncommittedSrcFiles: git("status", "--porcelain", "--", "src").split("\n").filter(Boolean).length };
  log(`${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, tool: ${tool.description}`);
  if (machine.cpus <= 2) notes.push(`Only ${machine.cpus} CPUs: the load generator and the server compete for them, so absolute figures are low; the ratios, taken under the same conditions, are the comparable part.`);

  const baselineStart = await measureBaseline(tool, "start");
  const targets: TargetReport[] = [];

  // SQLite: a file in a temp directory (Allot opens it in WAL mode).
  {
    const dir = await mkdtemp(join(os.tmpdir(), "allot-bench-sqlite-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let attempt = 0;
    const freshStore = async () => ({ kind: "sqlite", file: join(dir, `allot-${attempt++}.sqlite`) });
    targets.push(await benchAllot(tool, "sqlite", freshStore, {}));
    await rm(dir, { recursive: true, force: true });
  }

  // PostgreSQL: a schema of its own, dropped afterwards.
  const unreachable = flags["skip-postgres"] ? "skipped with --skip-postgres" : await postgresReachable();
  if (unreachable) {
    const note = `PostgreSQL not measured: ${POSTGRES_URL.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")} — ${unreachable}.`;
    log(note);
    notes.push(note);
  } else {
    const schemas: string[] = [];
    const dropAll = async () => {
      for (const s of schemas.splice(0)) await dropSchema(s);
    };
    cleanups.push(dropAll);
    const freshStore = async () => {
      await dropAll();
      const schema = `allot_bench_${randomBytes(6).toString("hex")}`;
      schemas.push(schema);
      return { kind: "postgres", url: POSTGRES_URL, schema };
    };
    targets.push(await benchAllot(tool, "postgres", freshStore, {}));
    await dropAll();
  }

  const baselineEnd = await measureBaseline(tool, "end");
  const loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const baselineReqPerSec = (baselineStart.reqPerSec + baselineEnd.reqPerSec) / 2;
  const drift = Math.abs(baselineStart.reqPerSec - baselineEnd.reqPerSec) / baselineReqPerSec;
  if (drift > 0.1) notes.push(`The baseline moved ${(drift * 100).toFixed(0)} % between the start and the end of the run: the machine was not quiet, read the ratios with that margin.`);
  const [cpuStart, cpuEnd] = [baselineStart.serverCpuMicrosPerRequest, baselineEnd.serverCpuMicrosPerRequest];
  const baselineCpu = cpuStart !== undefined && cpuEnd !== undefined ? (cpuStart + cpuEnd) / 2 : undefined;
  for (const t of targets) {
    for (const s of t.scenarios) {
      s.ratioToBaseline = s.reqPerSec / baselineReqPerSec;
      if (baselineCpu !== undefined && s.serverCpuMicrosPerRequest) s.cpuRatioToBaseline = baselineCpu / s.serverCpuMicrosPerRequest;
    }
  }

  const sqliteGet = targets.find((t) => t.backend === "sqlite")?.scenarios.find((s) => s.name === "GET by id");
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    settings: { ...settings, tool: tool.name },
    machine: { ...machine, loadAverageAtEnd },
    source,
    tool: { name: tool.name, version: tool.version, description: tool.description },
    baseline: {
      description: `bare Fastify ${fastifyVersion} hello-world, GET / → {"hello":"world"}, in its own process`,
      reqPerSec: baselineReqPerSec,
      serverCpuMicrosPerRequest: baselineCpu,
      runs: [
        { when: "start", ...baselineStart },
        { when: "end", ...baselineEnd },
      ],
    },
    targets,
    goal: {
      description: "GET by id on SQLite ≥ 0.5 × baseline req/s",
      ratio: sqliteGet?.ratioToBaseline ?? null,
      met: sqliteGet ? sqliteGet.ratioToBaseline >= 0.5 : null,
      cpuRatio: sqliteGet?.cpuRatioToBaseline ?? null,
    },
    notes,
  };
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, "http.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(resultsDir, "http.md"), renderMarkdown(report));
  printTable(report);
  log(`wrote bench/results/http.json and bench/results/http.md`);
}

try {
  await main();
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await cleanup();
}
