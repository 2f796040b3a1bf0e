// changeAssignments at fleet scale: `allot serve --lifecycle immediate` in a child process (SQLite: a WAL file in a
// temp directory; PostgreSQL: a schema allot_bench_<random>, dropped afterwards, skipped with a note when
// unreachable), a fleet from POST /_allot/fleet, a few configurations assigned to All devices, then a loop of
// requests: one changeAssignments per device removing one configuration, then one per device restoring it. The
// baselines are the same loop, same client and concurrency, of a trivial GET of each device and of a PATCH of its
// notes, measured in the same run. Throughout the loop (at barriers every --check-every requests) each
// configuration's deviceStatusOverview is checked against its deviceStatuses and against the removals made so far.
//
//   node --import tsx bench/changeAssignments/run.ts [--devices 10000] [--configs 3] [--concurrency 4]
//                                                     [--check-every 2000] [--quick] [--skip-postgres]
//
// Writes bench/results/changeAssignments.json and bench/results/changeAssignments.md.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from "../../src/seed/demoTenant.js";
import { tokenFor } from "../../test/support/allotUnderTest.js";
import { killAllotProcesses, serveAllot } from "../fleet/allotProcesses.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const resultsDir = join(root, "bench", "results");
const POSTGRES_URL = process.env.ALLOT_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    devices: { type: "string" },
    configs: { type: "string" },
    concurrency: { type: "string" },
    "check-every": { type: "string" },
    "skip-postgres": { type: "boolean", default: false },
  },
});
const int = (name: string, v: string | undefined, fallback: number) => {
  if (v === undefined) return fallback;
  const x = Number(v.replace(/_/g, ""));
  if (!Number.isSafeInteger(x) || x <= 0) throw new Error(`--${name}: not a positive count: ${v}`);
  return x;
};
const settings = {
  mode: flags.quick ? "quick" : "full",
  devices: int("devices", flags.devices, flags.quick ? 1_000 : 10_000),
  configs: int("configs", flags.configs, 3),
  concurrency: int("concurrency", flags.concurrency, 4),
  checkEvery: int("check-every", flags["check-every"], flags.quick ? 250 : 2_000),
};

const log = (line: string) => process.stderr.write(`${line}\n`);
const git = (...args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";

interface LoopFigures {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  failures: number;
}

interface ConsistencyFigures {
  checks: number;
  configurationChecks: number;
  violations: string[];
}

interface Run {
  backend: "sqlite" | "postgres";
  skipped?: string;
  store?: string;
  fleetSeconds?: number;
  devices?: number;
  applicablePairs?: number;
  loops?: { getBaseline: LoopFigures; patchBaseline: LoopFigures; remove: LoopFigures; restore: LoopFigures };
  ratios?: { removeToGet: number; restoreToGet: number; removeToPatch: number; restoreToPatch: number };
  outcome?: { removedItems: number; erroredItems: number };
  consistency?: ConsistencyFigures;
  notes: string[];
}

class Graph {
  constructor(readonly url: string, private readonly token: string) {}
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}/beta${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
  /** Every page of a collection. */
  async all(path: string): Promise<any[]> {
    const out: any[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: { status: number; body: any } = await this.call("GET", next.startsWith("http") ? next.slice(`${this.url}/beta`.length) : next);
      if (page.status !== 200) throw new Error(`GET ${next}: ${page.status} ${JSON.stringify(page.body)}`);
      out.push(...page.body.value);
      next = page.body["@odata.nextLink"];
    }
    return out;
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Sends one request per device with `concurrency` in flight, pausing at every `barrierEvery` requests for `atBarrier`.
 * Time spent at barriers is not counted.
 */
async function loop(deviceIds: string[], send: (id: string, i: number) => Promise<boolean>, barrierEvery?: number, atBarrier?: (done: number) => Promise<void>): Promise<LoopFigures> {
  const latencies: number[] = [];
  let failures = 0;
  let busy = 0;
  for (let start = 0; start < deviceIds.length; start += barrierEvery ?? deviceIds.length) {
    const chunk = deviceIds.slice(start, start + (barrierEvery ?? deviceIds.length));
    let next = 0;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: settings.concurrency }, async () => {
        for (let i = next++; i < chunk.length; i = next++) {
          const t = performance.now();
          if (!(await send(chunk[i], start + i))) failures++;
          latencies.push(performance.now() - t);
        }
      }),
    );
    busy += performance.now() - began;
    if (atBarrier) await atBarrier(start + chunk.length);
  }
  latencies.sort((a, b) => a - b);
  return {
    requests: deviceIds.length,
    seconds: round(busy / 1000),
    requestsPerSecond: Math.round(deviceIds.length / (busy / 1000)),
    p50ms: round(percentile(latencies, 50)),
    p99ms: round(percentile(latencies, 99)),
    failures,
  };
}

/** For each configuration: its compliant devices from deviceStatuses, checked against its overview's counts. */
async function statusesOf(graph: Graph, configId: string, violations: string[], label: string): Promise<Set<string>> {
  const statuses = await graph.all(`/deviceManagement/deviceConfigurations/${configId}/deviceStatuses`);
  const overview = (await graph.call("GET", `/deviceManagement/deviceConfigurations/${configId}/deviceStatusOverview`)).body;
  const by = (status: string) => statuses.filter((s) => s.status === status).length;
  const expected: Record<string, number> = {
    successCount: by("compliant") + by("remediated"),
    pendingCount: by("unknown"),
    notApplicableCount: by("notApplicable"),
    errorCount: by("error"),
    failedCount: by("nonCompliant"),
    conflictCount: by("conflict"),
  };
  for (const [field, n] of Object.entries(expected)) {
    if (overview[field] !== n) violations.push(`${label}: ${configId} ${field} ${overview[field]} ≠ ${n} in deviceStatuses`);
  }
  return new Set(statuses.filter((s) => s.status === "compliant").map((s) => String(s.id).split("_").at(-1)!));
}

async function measure(run: Run, url: string) {
  const graph = new Graph(url, await tokenFor(url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET));
  log(`${run.backend}: POST /_allot/fleet {devices: ${settings.devices}}`);
  const t = performance.now();
  const fleet = await fetch(`${url}/_allot/fleet`, {
    method: "POST",
    headers: { authorization: `Bearer ${(graph as unknown as { token: string }).token}`, "content-type": "application/json" },
    body: JSON.stringify({ devices: settings.devices, users: Math.ceil(settings.devices / 10), groups: 10, seed: "bench-change" }),
  });
  if (fleet.status !== 201) throw new Error(`fleet: ${fleet.status} ${await fleet.text()}`);
  run.fleetSeconds = round((performance.now() - t) / 1000);
  const deviceIds = (await graph.all("/deviceManagement/managedDevices?$select=id")).map((d) => d.id as string);
  run.devices = deviceIds.length;

  log(`${run.backend}: ${settings.configs} configurations assigned to All devices`);
  const configIds: string[] = [];
  for (let i = 0; i < settings.configs; i++) {
    const c = await graph.call("POST", "/deviceManagement/deviceConfigurations", { "@odata.type": "#microsoft.graph.windows10CustomConfiguration", displayName: `Bench ${i}`, omaSettings: [] });
    const a = await graph.call("POST", `/deviceManagement/deviceConfigurations/${c.body.id}/assign`, { assignments: [{ target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } }] });
    if (c.status !== 201 || a.status !== 200) throw new Error(`configuration ${i}: ${c.status}/${a.status}`);
    configIds.push(c.body.id);
  }
  const consistency: ConsistencyFigures = { checks: 0, configurationChecks: 0, violations: [] };
  const initial = new Map<string, Set<string>>();
  for (const c of configIds) initial.set(c, await statusesOf(graph, c, consistency.violations, "before the loop"));
  run.applicablePairs = [...initial.values()].reduce((n, s) => n + s.size, 0);
  const removedNow = new Map(configIds.map((c) => [c, new Set<string>()]));
  const configOf = (i: number) => configIds[i % configIds.length];
  /** At each barrier: every configuration's compliant devices are its initial ones minus those removed so far. */
  const check = (phase: string) => async (done: number) => {
    consistency.checks++;
    for (const c of configIds) {
      consistency.configurationChecks++;
      const compliant = await statusesOf(graph, c, consistency.violations, `${phase} after ${done}`);
      const expected = [...initial.get(c)!].filter((d) => !removedNow.get(c)!.has(d));
      const missing = expected.filter((d) => !compliant.has(d)).length;
      const extra = [...compliant].filter((d) => !expected.includes(d)).length;
      if (missing || extra) consistency.violations.push(`${phase} after ${done}: ${c} deviceStatuses has ${extra} devices it should not and lacks ${missing}`);
    }
  };

  log(`${run.backend}: baseline loops (GET, PATCH notes) over ${deviceIds.length} devices`);
  const getBaseline = await loop(deviceIds, async (id) => (await graph.call("GET", `/deviceManagement/managedDevices/${id}`)).status === 200);
  const patchBaseline = await loop(deviceIds, async (id, i) => (await graph.call("PATCH", `/deviceManagement/managedDevices/${id}`, { notes: `bench ${i}` })).status === 200);

  log(`${run.backend}: changeAssignments loop: remove one configuration per device`);
  const remove = await loop(
    deviceIds,
    async (id, i) => {
      const ok = (await graph.call("POST", `/deviceManagement/managedDevices/${id}/changeAssignments`, { deviceAssignmentItems: [{ itemId: configOf(i), itemType: "deviceConfiguration" }] })).status === 204;
      if (ok && initial.get(configOf(i))!.has(id)) removedNow.get(configOf(i))!.add(id);
      return ok;
    },
    settings.checkEvery,
    check("remove"),
  );
  let removedItems = 0;
  let erroredItems = 0;
  for (const id of deviceIds.filter((_, i) => i % Math.max(1, Math.floor(deviceIds.length / 200)) === 0)) {
    const device = (await graph.call("GET", `/deviceManagement/managedDevices/${id}`)).body;
    const items = device.deviceActionResults.find((r: any) => r.actionName === "changeAssignments")?.deviceAssignmentItems ?? [];
    removedItems += items.filter((x: any) => x.assignmentItemActionStatus === "removed").length;
    erroredItems += items.filter((x: any) => x.assignmentItemActionStatus === "error").length;
  }
  run.outcome = { removedItems, erroredItems };

  log(`${run.backend}: changeAssignments loop: restore (an empty desired set) per device`);
  const restore = await loop(
    deviceIds,
    async (id, i) => {
      const ok = (await graph.call("POST", `/deviceManagement/managedDevices/${id}/changeAssignments`, { deviceAssignmentItems: [] })).status === 204;
      if (ok) removedNow.get(configOf(i))!.delete(id);
      return ok;
    },
    settings.checkEvery,
    check("restore"),
  );
  run.consistency = consistency;
  run.loops = { getBaseline, patchBaseline, remove, restore };
  run.ratios = {
    removeToGet: round(remove.requestsPerSecond / getBaseline.requestsPerSecond, 3),
    restoreToGet: round(restore.requestsPerSecond / getBaseline.requestsPerSecond, 3),
    removeToPatch: round(remove.requestsPerSecond / patchBaseline.requestsPerSecond, 3),
    restoreToPatch: round(restore.requestsPerSecond / patchBaseline.requestsPerSecond, 3),
  };
}

async function sqliteRun(): Promise<Run> {
  const run: Run = { backend: "sqlite", notes: [] };
  const dir = await mkdtemp(join(os.tmpdir(), "allot-bench-change-"));
  try {
    const served = await serveAllot(["--data", join(dir, "allot"), "--lifecycle", "immediate"]);
    try {
      run.store = "SQLite, WAL, in a temp directory";
      await measure(run, served.url);
    } finally {
      await served.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return run;
}

async function postgresRun(): Promise<Run> {
  const run: Run = { backend: "postgres", notes: [] };
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch {
    return { ...run, skipped: "PostgreSQL is unreachable" };
  }
  const schema = `allot_bench_${randomBytes(5).toString("hex")}`;
  try {
    run.store = `PostgreSQL ${(await client.query("SHOW server_version")).rows[0].server_version}, schema ${schema}`;
    const served = await serveAllot(["--database-url", POSTGRES_URL, "--database-schema", schema, "--lifecycle", "immediate"]);
    try {
      await measure(run, served.url);
    } finally {
      await served.stop();
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
  }
  return run;
}

function renderMarkdown(report: { generatedAt: string; machine: string; commit: string; settings: typeof settings; runs: Run[] }): string {
  const lines = [
    "# changeAssignments benchmark",
    "",
    `Generated by \`node --import tsx bench/changeAssignments/run.ts\` at ${report.generatedAt} (${report.settings.mode} mode).`,
    "",
    `- Machine: ${report.machine}`,
    `- Source: commit ${report.commit}`,
    `- Workload: a fleet of ${report.settings.devices.toLocaleString("en-US")} devices (POST /_allot/fleet), ${report.settings.configs} configurations assigned to All devices, \`--lifecycle immediate\` (every call runs its whole lifecycle and the engine's re-evaluation before its 204); ${report.settings.concurrency} requests in flight; one loop of changeAssignments removing configuration i mod ${report.settings.configs} from device i, then one restoring it (an empty desired set)`,
    `- Baselines, same run, same client and concurrency: GET /deviceManagement/managedDevices/{id} and PATCH of the device's notes, once per device`,
    `- Consistency: every ${report.settings.checkEvery.toLocaleString("en-US")} requests the loop pauses; each configuration's deviceStatusOverview must equal the counts of its deviceStatuses, and its compliant devices must be the initial ones minus those removed so far`,
    "",
  ];
  for (const r of report.runs) {
    lines.push(`## ${r.backend}`, "");
    if (r.skipped) {
      lines.push(`Skipped: ${r.skipped}.`, "");
      continue;
    }
    lines.push(`${r.store}; fleet created in ${r.fleetSeconds} s; ${r.devices?.toLocaleString("en-US")} devices, ${r.applicablePairs?.toLocaleString("en-US")} (configuration, device) pairs compliant before the loop.`, "");
    lines.push("| loop | requests | seconds | requests/s | p50 ms | p99 ms | failures |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    const name = { getBaseline: "baseline: GET device", patchBaseline: "baseline: PATCH device notes", remove: "changeAssignments (remove one)", restore: "changeAssignments (restore)" } as const;
    for (const [k, f] of Object.entries(r.loops!)) lines.push(`| ${name[k as keyof typeof name]} | ${f.requests} | ${f.seconds} | ${f.requestsPerSecond} | ${f.p50ms} | ${f.p99ms} | ${f.failures} |`);
    lines.push(
      "",
      `Ratios (requests/s): remove / GET **${r.ratios!.removeToGet}**, restore / GET **${r.ratios!.restoreToGet}**, remove / PATCH **${r.ratios!.removeToPatch}**, restore / PATCH **${r.ratios!.restoreToPatch}**.`,
      "",
      `Sampled results after the remove loop: ${r.outcome!.removedItems} items removed, ${r.outcome!.erroredItems} in error (an item ends in error when the configuration no longer applies to the device).`,
      "",
      `Consistency: ${r.consistency!.checks} pauses, ${r.consistency!.configurationChecks} configuration checks, **${r.consistency!.violations.length} violations**${r.consistency!.violations.length ? `: ${r.consistency!.violations.slice(0, 5).join("; ")}` : ""}.`,
      "",
    );
    for (const n of r.notes) lines.push(`- ${n}`);
  }
  return `${lines.join("\n")}\n`;
}

async function main() {
  process.on("SIGINT", () => (killAllotProcesses(), process.exit(130)));
  // The source measured is the one at the start (edits during a long run do not change the servers started).
  const dirtyAtStart = git("status", "--porcelain").split("\n").filter(Boolean).length;
  const commit = `${git("rev-parse", "--short", "HEAD")}${dirtyAtStart ? `, ${dirtyAtStart} uncommitted file(s)` : ""}`;
  const cpus = os.cpus();
  const runs: Run[] = [];
  /** Written after each backend, so a long run interrupted later keeps what it measured. */
  const save = async () => {
    const report = {
      generatedAt: new Date().toISOString(),
      machine: `${cpus.length} CPUs (${cpus[0]?.model.trim()}), ${os.platform()} ${os.release()} ${os.arch()}, Node ${process.version}`,
      commit,
      settings,
      runs,
    };
    await mkdir(resultsDir, { recursive: true });
    await writeFile(join(resultsDir, "changeAssignments.json"), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(resultsDir, "changeAssignments.md"), renderMarkdown(report));
  };
  runs.push(await sqliteRun());
  await save();
  runs.push(flags["skip-postgres"] ? { backend: "postgres", skipped: "--skip-postgres", notes: [] } : await postgresRun());
  await save();
  for (const r of runs) {
    if (r.skipped) log(`${r.backend}: skipped (${r.skipped})`);
    else log(`${r.backend}: remove ${r.loops!.remove.requestsPerSecond}/s, restore ${r.loops!.restore.requestsPerSecond}/s, GET ${r.loops!.getBaseline.requestsPerSecond}/s, PATCH ${r.loops!.patchBaseline.requestsPerSecond}/s; ratios ${JSON.stringify(r.ratios)}; ${r.consistency!.violations.length} consistency violations`);
  }
  log(`wrote ${join(resultsDir, "changeAssignments.json")} and changeAssignments.md`);
  const failed = runs.some((r) => !r.skipped && (r.consistency!.violations.length > 0 || Object.values(r.loops!).some((l) => l.failures > 0)));
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  killAllotProcesses();
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
