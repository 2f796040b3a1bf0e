// Fleet generator benchmark: `allot fleet` against `allot serve` on SQLite (a WAL file in a temp directory) and on
// PostgreSQL (a schema allot_bench_<random>, dropped afterwards; skipped with a note when unreachable), each
// against a bare multi-row INSERT of as many rows with the same driver in the same run.
//
//   node --import tsx bench/fleet/run.ts [--devices 1000000] [--postgres-devices N] [--users N] [--groups 30]
//        [--batch 50000] [--quick] [--skip-postgres]
//
// Writes bench/results/fleet.json and bench/results/fleet.md.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { processCpuSeconds } from "../http/serverCpu.js";
import { tokenFor } from "../../test/support/allotUnderTest.js";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from "../../src/seed/demoTenant.js";
import { killAllotProcesses, runFleetCommand, serveAllot } from "./allotProcesses.js";
import { bareInsertPostgres, bareInsertSqlite } from "./bareInsert.js";
import { printSummary, renderMarkdown, type FleetReport, type FleetRun } from "./report.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const resultsDir = join(root, "bench", "results");
const POSTGRES_URL = process.env.ALLOT_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TARGET = { devices: 1_000_000, seconds: 120 };
const ENTITY_TABLES = ["managed_devices", "devices", "windows_autopilot_device_identities", "users", "groups"];

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    devices: { type: "string" },
    "postgres-devices": { type: "string" },
    users: { type: "string" },
    groups: { type: "string" },
    batch: { type: "string" },
    "skip-postgres": { type: "boolean", default: false },
  },
});

const int = (name: string, v: string | undefined, fallback: number) => {
  if (v === undefined) return fallback;
  const x = Number(v.replace(/_/g, ""));
  if (!Number.isSafeInteger(x) || x < 0) throw new Error(`--${name}: not a count: ${v}`);
  return x;
};
const devices = int("devices", flags.devices, flags.quick ? 20_000 : 1_000_000);
const settings = {
  devices,
  postgresDevices: int("postgres-devices", flags["postgres-devices"], devices),
  users: flags.users === undefined ? undefined : int("users", flags.users, 0),
  groups: int("groups", flags.groups, 30),
  batch: int("batch", flags.batch, flags.quick ? 10_000 : 50_000),
};

const log = (line: string) => process.stderr.write(`${line}\n`);
const git = (...args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return (await client.query<{ server_version: string }>("SHOW server_version")).rows[0].server_version;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function countThroughGraph(url: string) {
  const token = await tokenFor(url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
  const count = async (path: string) => Number(await (await fetch(`${url}/beta${path}/$count`, { headers: { authorization: `Bearer ${token}` } })).text());
  return {
    managed: await count("/deviceManagement/managedDevices"),
    devices: await count("/devices"),
    users: await count("/users"),
    autopilot: await count("/deviceManagement/windowsAutopilotDeviceIdentities"),
  };
}

/** Creates the fleet against a served Allot and checks the counts Graph shows afterwards. */
async function createFleet(run: FleetRun, url: string, deviceCount: number) {
  const users = settings.users ?? Math.ceil(deviceCount / 10);
  run.requested = { devices: deviceCount, users, groups: settings.groups, autopilot: true, batch: settings.batch };
  log(`${run.backend}: allot fleet --devices ${deviceCount} --users ${users} --groups ${settings.groups} --autopilot --batch ${settings.batch}`);
  const started = performance.now();
  const totals = await runFleetCommand(["--url", url, "--devices", String(deviceCount), "--users", String(users), "--groups", String(settings.groups), "--autopilot", "--batch", String(settings.batch), "--seed", "bench"]);
  run.seconds = Math.round(performance.now() - started) / 1000;
  run.commandSeconds = totals.seconds;
  run.created = { devices: totals.devices, users: totals.users, groups: totals.groups, autopilotDevices: totals.autopilotDevices, memberships: totals.memberships };
  run.devicesPerSecond = Math.round(totals.devices / run.seconds);
  run.calls = Math.max(1, Math.ceil(deviceCount / settings.batch));
  run.entityRows = totals.devices * 2 + totals.autopilotDevices + totals.users + totals.groups;
  const seen = await countThroughGraph(url);
  run.verified = seen.managed === totals.devices && seen.devices === totals.devices + 3 && seen.users === totals.users + 3 && seen.autopilot === totals.autopilotDevices;
  if (!run.verified) run.notes.push(`Graph's counts after the run disagree with the answers: ${JSON.stringify(seen)}`);
}

async function sqliteRun(): Promise<FleetRun> {
  const run: FleetRun = { backend: "sqlite", notes: [] };
  const dir = await mkdtemp(join(os.tmpdir(), "allot-bench-fleet-"));
  try {
    const served = await serveAllot(["--data", join(dir, "allot")]);
    try {
      const cpuBefore = processCpuSeconds(served.pid);
      await createFleet(run, served.url, settings.devices);
      const cpuAfter = processCpuSeconds(served.pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) run.serverCpuSeconds = Math.round((cpuAfter - cpuBefore) * 100) / 100;
    } finally {
      await served.stop();
    }
    const file = join(dir, "allot", "allot.db");
    const db = new BetterSqlite3(file, { readonly: true });
    const docs = ENTITY_TABLES.map((t) => db.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(doc)), 0) AS bytes FROM ${t}`).get() as { n: number; bytes: number });
    run.store = `SQLite ${(db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v}, WAL, page size ${db.pragma("page_size", { simple: true })}`;
    db.close();
    run.averageDocBytes = Math.round(docs.reduce((a, d) => a + d.bytes, 0) / docs.reduce((a, d) => a + d.n, 0));
    const sizes = await Promise.all(["", "-wal"].map((suffix) => stat(file + suffix).then((s) => s.size, () => 0)));
    run.storeMiB = Math.round(sizes.reduce((a, b) => a + b, 0) / 2 ** 20);
    log(`sqlite: bare INSERT baseline, ${run.entityRows!.toLocaleString("en-US")} rows of ${run.averageDocBytes} bytes`);
    const cpu = process.cpuUsage();
    run.baseline = bareInsertSqlite(join(dir, "baseline.db"), { rows: run.entityRows!, docBytes: run.averageDocBytes, transactions: run.calls! });
    const used = process.cpuUsage(cpu);
    run.baselineCpuSeconds = Math.round((used.user + used.system) / 1e4) / 100;
    run.ratioToBaseline = Math.round((run.seconds! / run.baseline.seconds) * 100) / 100;
    if (run.serverCpuSeconds !== undefined) run.cpuRatioToBaseline = Math.round((run.serverCpuSeconds / run.baselineCpuSeconds) * 100) / 100;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return run;
}

async function postgresRun(): Promise<FleetRun> {
  const run: FleetRun = { backend: "postgres", notes: [] };
  const version = await postgresReachable();
  if (!version) return { ...run, skipped: `PostgreSQL at ${POSTGRES_URL.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")} is unreachable` };
  const schema = `allot_bench_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const served = await serveAllot(["--database-url", POSTGRES_URL, "--database-schema", schema]);
    try {
      await createFleet(run, served.url, settings.postgresDevices);
    } finally {
      await served.stop();
    }
    let rows = 0;
    let bytes = 0;
    for (const t of ENTITY_TABLES) {
      const r = (await client.query(`SELECT COUNT(*)::bigint AS n, COALESCE(SUM(octet_length(doc::text)), 0)::bigint AS bytes FROM ${schema}.${t}`)).rows[0];
      rows += Number(r.n);
      bytes += Number(r.bytes);
    }
    run.averageDocBytes = Math.round(bytes / rows);
    const size = (await client.query(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS b FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`, [schema])).rows[0];
    run.storeMiB = Math.round(Number(size.b) / 2 ** 20);
    run.store = `PostgreSQL ${version}, schema ${schema}`;
    log(`postgres: bare INSERT baseline, ${run.entityRows!.toLocaleString("en-US")} rows of ${run.averageDocBytes} bytes`);
    run.baseline = await bareInsertPostgres(POSTGRES_URL, `${schema}_baseline`, { rows: run.entityRows!, docBytes: run.averageDocBytes, transactions: run.calls! });
    run.ratioToBaseline = Math.round((run.seconds! / run.baseline.seconds) * 100) / 100;
    if (settings.postgresDevices < settings.devices) run.notes.push(`Run at ${settings.postgresDevices.toLocaleString("en-US")} devices (--postgres-devices), fewer than on SQLite.`);
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
  }
  return run;
}

async function main() {
  const cpus = os.cpus();
  const loadAverageAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const runs: FleetRun[] = [await sqliteRun()];
  runs.push(flags["skip-postgres"] ? { backend: "postgres", skipped: "--skip-postgres", notes: [] } : await postgresRun());
  const sqlite = runs[0];
  const report: FleetReport = {
    generatedAt: new Date().toISOString(),
    mode: flags.quick ? "quick" : "full",
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? "unknown",
      totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    source: { commit: git("rev-parse", "--short", "HEAD") || "unknown", uncommittedSrcFiles: git("status", "--porcelain", "--", "src").split("\n").filter(Boolean).length },
    target: {
      description: `${TARGET.devices.toLocaleString("en-US")} devices on SQLite in under ${TARGET.seconds} s`,
      seconds: TARGET.seconds,
      devices: TARGET.devices,
      met: sqlite.created && sqlite.created.devices >= TARGET.devices ? sqlite.seconds! < TARGET.seconds : undefined,
    },
    runs,
    notes: [],
  };
  if (report.machine.cpus <= 2) report.notes.push(`Only ${report.machine.cpus} CPUs, shared by the server, the command and the database; compare the ratios rather than the absolute figures across machines.`);
  if (loadAverageAtStart[0] > 0.5) report.notes.push(`The machine was not idle at the start (load ${loadAverageAtStart[0]}).`);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, "fleet.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(resultsDir, "fleet.md"), renderMarkdown(report));
  printSummary(report);
  log(`wrote ${join(resultsDir, "fleet.json")} and fleet.md`);
}

process.on("SIGINT", () => (killAllotProcesses(), process.exit(130)));
try {
  await main();
} catch (e) {
  killAllotProcesses();
  log(`bench/fleet: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
}
