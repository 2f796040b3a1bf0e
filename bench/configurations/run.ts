// The configuration engine at fleet scale, on SQLite and PostgreSQL: a full evaluation pass over every
// (device, configuration) pair a tenant has, and deviceStatusOverview of a configuration reaching 50,000 devices
// (which must read maintained counts, not recompute), each beside a baseline measured in the same run on the same
// store: a single-statement UPDATE of the rows the pass wrote, and a bare SELECT COUNT(*) of that configuration's rows.
//
//   node --import tsx bench/configurations/run.ts [--devices 100000] [--groups 1000] [--configurations 500]
//        [--assignments 2000] [--reach 50000] [--quick] [--skip-postgres]
//
// The fleet comes from POST /_allot/fleet over HTTP; configurations, assignments and filters are written straight
// to the store (setup, not what is measured); the pass runs in-process through the same function every change
// uses, with the scope "every device × every configuration". Writes bench/results/configurations.{json,md}.

import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { startAllot, type RunningAllot, type StoreOption } from "../../src/server/allotServer.js";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from "../../src/seed/demoTenant.js";
import type { StoredEntity } from "../../src/store/entityStore.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const resultsDir = join(root, "bench", "results");
const POSTGRES_URL = process.env.ALLOT_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const { values: flags } = parseArgs({
  options: {
    devices: { type: "string" },
    groups: { type: "string" },
    configurations: { type: "string" },
    assignments: { type: "string" },
    reach: { type: "string" },
    quick: { type: "boolean", default: false },
    "skip-postgres": { type: "boolean", default: false },
    /** Run one backend only; its figures replace that backend's in the results files (run both in parallel). */
    backend: { type: "string" },
  },
});
const n = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
const quick = flags.quick;
const settings = {
  devices: n(flags.devices, quick ? 10_000 : 100_000),
  groups: n(flags.groups, quick ? 100 : 1_000),
  configurations: n(flags.configurations, quick ? 50 : 500),
  assignments: n(flags.assignments, quick ? 200 : 2_000),
  reach: n(flags.reach, quick ? 5_000 : 50_000),
  filters: 20,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** Deterministic choices, so both backends see the same configuration set. */
function* randomInts(seed: number): Generator<number, never> {
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0);
  }
}

const FILTER_RULES = [
  '(device.deviceOwnership -eq "Corporate")',
  '(device.deviceTrustType -in ["Hybrid Azure AD joined","Azure AD joined"])',
  '(device.manufacturer -eq "Microsoft Corporation") or (device.manufacturer -eq "Dell Inc.")',
  '(device.osVersion -startsWith "10.0.22")',
  '(device.model -contains "Surface")',
];

async function token(url: string) {
  const res = await fetch(`${url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET, scope: "https://graph.microsoft.com/.default" }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

interface BackendResult {
  backend: string;
  devices: number;
  configurations: number;
  assignments: number;
  assignmentsWithFilters: number;
  pairsEvaluated: number;
  stateRows: number;
  fullPassFirstMs: number;
  fullPassRepeatMs: number;
  baselineUpdateMs: number;
  fullPassRatio: number;
  overviewReach: number;
  overviewMedianMs: number;
  overviewP95Ms: number;
  baselineCountMedianMs: number;
  getConfigurationMedianMs: number;
  overviewRatioToCount: number;
  overviewTargetMet: boolean;
}

async function runBackend(name: "sqlite" | "postgres"): Promise<BackendResult> {
  let cleanup: () => Promise<void>;
  let store: StoreOption;
  if (name === "sqlite") {
    const dir = await mkdtemp(join(os.tmpdir(), "allot-bench-cfg-"));
    store = { kind: "sqlite", file: join(dir, "allot.db") };
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else {
    const schema = `allot_bench_${randomBytes(5).toString("hex")}`;
    store = { kind: "postgres", url: POSTGRES_URL, schema };
    cleanup = async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    };
  }
  const allot: RunningAllot = await startAllot({ port: 0, host: "127.0.0.1", seed: "demo", store, lifecycle: "immediate" });
  try {
    const bearer = `Bearer ${await token(allot.url)}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const send = () => fetch(`${allot.url}${path}`, { method, headers: { authorization: bearer, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      // After a pass of minutes with no request, the first request may pick a kept-alive connection the server has
      // just closed (ECONNRESET); a GET is safe to send again once.
      const r = await send().catch((e: unknown) => {
        if (method !== "GET") throw e;
        return send();
      });
      const text = await r.text();
      if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };

    // 0. The tenant holds only what the benchmark creates (the demo fixture's configurations would be evaluated too).
    for (const c of (await call("GET", "/beta/deviceManagement/deviceConfigurations?$select=id")).value as { id: string }[]) {
      await call("DELETE", `/beta/deviceManagement/deviceConfigurations/${c.id}`);
    }

    // 1. The fleet.
    let t = process.hrtime.bigint();
    const batch = 10_000;
    for (let done = 0; done < settings.devices; done += batch) {
      const devices = Math.min(batch, settings.devices - done);
      await call("POST", "/_allot/fleet", { devices, users: Math.ceil(devices / 10), groups: done === 0 ? settings.groups : 0, seed: `bench-${done}` });
    }
    process.stdout.write(`  ${name}: fleet of ${settings.devices} devices in ${(ms(t) / 1000).toFixed(1)} s\n`);

    const db = allot.db;
    const p = (i: number) => db.dialect.param(i);
    const tenant = DEMO_TENANT_ID;
    const model = allot.services.model;
    const tables = allot.configurations.tables;
    const groupsTable = model.entitySets.get("groups")!.table;
    const devicesTable = model.entitySets.get("devices")!.table;
    // Targets as tenants use them: mostly static groups (tens to hundreds of devices or users); a few broad dynamic
    // device groups and All devices assignments, which reach a large share of the fleet.
    const groupRows = await db.all(`SELECT id, doc FROM ${groupsTable.name} WHERE tenant_id = ${p(1)} ORDER BY seq`, [tenant]);
    const isDynamic = (r: Record<string, unknown>) => JSON.stringify(r.doc).includes("DynamicMembership");
    const staticGroupIds = groupRows.filter((r) => !isDynamic(r)).map((r) => r.id as string);
    const dynamicGroupIds = groupRows.filter(isDynamic).map((r) => r.id as string);

    // 2. A group of exactly `reach` devices for the configuration whose overview is measured.
    const big = await call("POST", "/beta/groups", { displayName: "Bench reach group", mailEnabled: false, mailNickname: "benchreach", securityEnabled: true });
    const managedTable = allot.configurations.facts.managedDevices;
    const column = (table: typeof devicesTable, property: string) => table.columns.find((c) => c.property === property)!.column;
    await db.run(
      `INSERT INTO group_members (tenant_id, group_id, member_id, member_type, dynamic)
       SELECT e.tenant_id, ${p(1)}, e.id, 'device', 0 FROM ${devicesTable.name} e JOIN ${managedTable.name} md ON md.tenant_id = e.tenant_id AND md.${column(managedTable, "azureADDeviceId")} = e.${column(devicesTable, "deviceId")}
       WHERE e.tenant_id = ${p(2)} ORDER BY e.seq LIMIT ${settings.reach}`,
      [big.id, tenant],
    );

    // 3. Filters, configurations and assignments, straight to the store.
    const now = new Date().toISOString();
    const filters: Omit<StoredEntity, "seq">[] = Array.from({ length: settings.filters }, (_, i) => ({
      id: randomUUID(), type: "deviceAndAppManagementAssignmentFilter",
      doc: { displayName: `Bench filter ${i}`, platform: "windows10AndLater", rule: FILTER_RULES[i % FILTER_RULES.length], roleScopeTags: ["0"], payloads: [], assignmentFilterManagementType: "devices", createdDateTime: now, lastModifiedDateTime: now },
    }));
    const configurations: Omit<StoredEntity, "seq">[] = Array.from({ length: settings.configurations }, (_, i) => ({
      id: randomUUID(), type: "windows10CustomConfiguration",
      doc: { displayName: `Bench configuration ${i}`, omaSettings: [], version: 1, roleScopeTagIds: ["0"], supportsScopeTags: true, createdDateTime: now, lastModifiedDateTime: now },
    }));
    const rnd = randomInts(42);
    const pick = <T>(xs: T[]) => xs[rnd.next().value % xs.length];
    const assignments: Omit<StoredEntity, "seq">[] = [];
    const target = (doc: Record<string, unknown>, filtered: boolean) => {
      if (!filtered) return doc;
      return { ...doc, deviceAndAppManagementAssignmentFilterId: pick(filters).id, deviceAndAppManagementAssignmentFilterType: rnd.next().value % 3 === 0 ? "exclude" : "include" };
    };
    for (let i = 0; i < settings.assignments; i++) {
      const configuration = i < settings.configurations ? configurations[i] : pick(configurations.slice(1));
      const filtered = i % 3 === 0 && configuration !== configurations[0];
      let doc: Record<string, unknown>;
      if (configuration === configurations[0]) doc = { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: big.id };
      else if (i % 700 === 1) doc = { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" };
      else if (i % 100 === 2 && dynamicGroupIds.length) doc = { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: pick(dynamicGroupIds) };
      else if (i % 10 === 9) doc = { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", groupId: pick(staticGroupIds) };
      else doc = { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: pick(staticGroupIds) };
      const excluded = doc["@odata.type"] === "#microsoft.graph.exclusionGroupAssignmentTarget";
      assignments.push({ id: randomUUID(), type: "deviceConfigurationAssignment", parentId: configuration.id, doc: { target: target(doc, filtered && !excluded), intent: "apply", source: "direct", sourceId: null } });
    }
    const withFilters = assignments.filter((a) => (a.doc.target as Record<string, unknown>).deviceAndAppManagementAssignmentFilterId).length;
    await db.transaction(async (tx) => {
      await allot.services.entities.insertMany(tx, tables.filters, tenant, filters);
      await allot.services.entities.insertMany(tx, tables.configurations, tenant, configurations);
      await allot.services.entities.insertMany(tx, tables.assignments, tenant, assignments);
    });

    // 4. The full pass: first (every row new), then again (nothing changed: read, evaluate, compare).
    t = process.hrtime.bigint();
    const first = await db.transaction((tx) => allot.configurations.reevaluate(tx, tenant, { devices: "all", configurations: "all" }, "bench"));
    const fullPassFirstMs = ms(t);
    t = process.hrtime.bigint();
    await db.transaction((tx) => allot.configurations.reevaluate(tx, tenant, { devices: "all", configurations: "all" }, "bench"));
    const fullPassRepeatMs = ms(t);
    const [{ n: rows }] = await db.all(`SELECT COUNT(*) AS n FROM configuration_device_states WHERE tenant_id = ${p(1)}`, [tenant]);
    t = process.hrtime.bigint();
    await db.transaction((tx) => tx.run(`UPDATE configuration_device_states SET reported_at = ${p(1)} WHERE tenant_id = ${p(2)}`, [new Date().toISOString(), tenant]));
    const baselineUpdateMs = ms(t);
    process.stdout.write(`  ${name}: full pass ${first.pairsEvaluated} pairs → ${rows} rows in ${(fullPassFirstMs / 1000).toFixed(1)} s (repeat ${(fullPassRepeatMs / 1000).toFixed(1)} s; bare UPDATE ${(baselineUpdateMs / 1000).toFixed(2)} s)\n`);

    // 5. deviceStatusOverview of the configuration that reaches `reach` devices.
    const id = configurations[0].id;
    const overview = await call("GET", `/beta/deviceManagement/deviceConfigurations/${id}/deviceStatusOverview`);
    const reached = overview.pendingCount + overview.successCount + overview.notApplicableCount;
    if (reached !== settings.reach) throw new Error(`the configuration reaches ${reached} devices, expected ${settings.reach}`);
    const timed = async (work: () => Promise<unknown>, rounds = 60) => {
      for (let i = 0; i < 5; i++) await work();
      const out: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const s = process.hrtime.bigint();
        await work();
        out.push(ms(s));
      }
      return out;
    };
    const overviewTimes = await timed(() => call("GET", `/beta/deviceManagement/deviceConfigurations/${id}/deviceStatusOverview`));
    const countTimes = await timed(() => db.all(`SELECT COUNT(*) AS n FROM configuration_device_states WHERE tenant_id = ${p(1)} AND configuration_id = ${p(2)}`, [tenant, id]));
    const getTimes = await timed(() => call("GET", `/beta/deviceManagement/deviceConfigurations/${id}`));
    const sorted = [...overviewTimes].sort((a, b) => a - b);
    const result: BackendResult = {
      backend: name,
      devices: settings.devices,
      configurations: settings.configurations,
      assignments: settings.assignments,
      assignmentsWithFilters: withFilters,
      pairsEvaluated: first.pairsEvaluated,
      stateRows: Number(rows),
      fullPassFirstMs: Math.round(fullPassFirstMs),
      fullPassRepeatMs: Math.round(fullPassRepeatMs),
      baselineUpdateMs: Math.round(baselineUpdateMs),
      fullPassRatio: Number((fullPassFirstMs / baselineUpdateMs).toFixed(1)),
      overviewReach: reached,
      overviewMedianMs: Number(median(overviewTimes).toFixed(2)),
      overviewP95Ms: Number(sorted[Math.floor(sorted.length * 0.95)].toFixed(2)),
      baselineCountMedianMs: Number(median(countTimes).toFixed(2)),
      getConfigurationMedianMs: Number(median(getTimes).toFixed(2)),
      overviewRatioToCount: Number((median(overviewTimes) / median(countTimes)).toFixed(2)),
      overviewTargetMet: median(overviewTimes) < 50,
    };
    process.stdout.write(`  ${name}: overview median ${result.overviewMedianMs} ms (p95 ${result.overviewP95Ms}); bare COUNT(*) ${result.baselineCountMedianMs} ms; GET configuration ${result.getConfigurationMedianMs} ms\n`);
    return result;
  } finally {
    await allot.close();
    await cleanup();
  }
}

async function postgresReachable() {
  const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

let results: BackendResult[] = [];
let notes: string[] = [];
process.stdout.write(`configurations benchmark: ${JSON.stringify(settings)}\n`);
const only = flags.backend;
if (only !== undefined && only !== "sqlite" && only !== "postgres") throw new Error("--backend is sqlite or postgres");
if (only) {
  // Keep the other backend's figures of a run with the same settings.
  try {
    const previous = JSON.parse(await readFile(join(resultsDir, "configurations.json"), "utf8"));
    if (JSON.stringify(previous.settings) === JSON.stringify(settings)) {
      results = (previous.results as BackendResult[]).filter((r) => r.backend !== only);
      notes = (previous.notes as string[]).filter((n) => !n.startsWith(only === "sqlite" ? "SQLite" : "PostgreSQL"));
    }
  } catch {
    // no earlier results
  }
}
if (!only || only === "sqlite") results.push(await runBackend("sqlite"));
if (only === "sqlite") {
  // PostgreSQL runs in its own process.
} else if (flags["skip-postgres"]) notes.push("PostgreSQL skipped (--skip-postgres).");
else if (!(await postgresReachable())) notes.push(`PostgreSQL at ${POSTGRES_URL} unreachable: skipped.`);
else results.push(await runBackend("postgres"));
results.sort((a, b) => a.backend.localeCompare(b.backend) * -1);

const commit = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
  } catch {
    return "unknown";
  }
})();
// The load average says how much of the machine the run had (a shared machine skews absolute figures; ratios less).
const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(os.totalmem() / 1024 ** 3), node: process.version, loadAverage1m: Number(os.loadavg()[0].toFixed(1)) };
await mkdir(resultsDir, { recursive: true });
await writeFile(join(resultsDir, "configurations.json"), JSON.stringify({ date: new Date().toISOString(), commit, machine, settings, quick, results, notes }, null, 2) + "\n");
const md = [
  "# Configuration engine benchmark",
  "",
  `${new Date().toISOString()} · commit ${commit} · ${machine.cpus} × ${machine.cpuModel} · Node ${machine.node} · load average ${machine.loadAverage1m}${quick ? " · quick" : ""}`,
  "",
  `${settings.devices} devices, ${settings.groups} fleet groups, ${settings.configurations} configurations, ${settings.assignments} assignments (${results[0]?.assignmentsWithFilters ?? 0} with filters), ${settings.filters} filters.`,
  "",
  "| backend | pairs evaluated | state rows | full pass | repeat pass | baseline: one UPDATE of the rows | ratio |",
  "|---|---|---|---|---|---|---|",
  ...results.map((r) => `| ${r.backend} | ${r.pairsEvaluated} | ${r.stateRows} | ${(r.fullPassFirstMs / 1000).toFixed(1)} s | ${(r.fullPassRepeatMs / 1000).toFixed(1)} s | ${(r.baselineUpdateMs / 1000).toFixed(2)} s | ${r.fullPassRatio} × |`),
  "",
  `deviceStatusOverview of a configuration reaching ${settings.reach} devices, over HTTP (target < 50 ms):`,
  "",
  "| backend | overview median | p95 | baseline: bare SELECT COUNT(*) (in-process) | ratio | GET the configuration (HTTP) | target met |",
  "|---|---|---|---|---|---|---|",
  ...results.map((r) => `| ${r.backend} | ${r.overviewMedianMs} ms | ${r.overviewP95Ms} ms | ${r.baselineCountMedianMs} ms | ${r.overviewRatioToCount} × | ${r.getConfigurationMedianMs} ms | ${r.overviewTargetMet ? "yes" : "no"} |`),
  "",
  ...notes,
];
await writeFile(join(resultsDir, "configurations.md"), md.join("\n") + "\n");
process.stdout.write(md.join("\n") + "\n");
