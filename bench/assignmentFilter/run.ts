// Throughput of compiled assignment filter rules: (device, filter) evaluations per second on one core, beside the
// same loop with a trivial predicate `() => true` measured in the same run.
//
//   node --import tsx bench/assignmentFilter/run.ts [--quick] [--pairs 2000000] [--rounds 7] [--devices 2000]
//
// Writes bench/results/assignment-filter.json and bench/results/assignment-filter.md.

import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  compileFilterRule, type DevicePlatform, type FilterableDevice, type FilterPredicate,
} from "../../src/engine/assignmentFilter/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const resultsDir = join(root, "bench", "results");

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    pairs: { type: "string" },
    rounds: { type: "string" },
    devices: { type: "string" },
  },
});
const count = (v: string | undefined, fallback: number) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
};
const settings = {
  mode: flags.quick ? ("quick" as const) : ("full" as const),
  /** Pairs evaluated per timed round (rounded up to whole passes over devices × filters). */
  pairsPerRound: count(flags.pairs, flags.quick ? 1_000_000 : 2_000_000),
  rounds: count(flags.rounds, flags.quick ? 3 : 7),
  devices: count(flags.devices, 2_000),
};

// ---------------------------------------------------------------------------------------------------------------
// Fixture: filters people write (the doc's examples and common variants) and a fleet with realistic values.

const FILTERS: { rule: string; platform: DevicePlatform }[] = [
  { rule: '(device.deviceTrustType -in ["Hybrid Azure AD joined","Azure AD joined"])', platform: "windows10AndLater" },
  { rule: '(device.operatingSystemSKU -eq "Enterprise") and (device.operatingSystemVersion -ge 10.0.22000)', platform: "windows10AndLater" },
  { rule: '(device.osVersion -startsWith "10.0.19045") and (device.model -notContains "Surface Hub")', platform: "windows10AndLater" },
  { rule: '(device.manufacturer -eq "Microsoft Corporation") or (device.manufacturer -eq "Dell Inc.") or (device.manufacturer -eq "LENOVO")', platform: "windows10AndLater" },
  { rule: '(device.enrollmentProfileName -startsWith "Autopilot") and (device.deviceOwnership -eq "Corporate")', platform: "windows10AndLater" },
  { rule: '(device.model -contains "Virtual") or (device.manufacturer -in ["VMware, Inc.", "QEMU", "Parallels"])', platform: "windows10AndLater" },
  { rule: '(device.cpuArchitecture -eq "arm64")', platform: "windows10AndLater" },
  { rule: '(device.deviceCategory -ne $null) and (device.deviceCategory -notIn ["Kiosk", "Shared"])', platform: "windows10AndLater" },
  { rule: '((device.operatingSystemVersion -gt 10.0.22631.3000) and (device.operatingSystemVersion -lt 10.0.26100)) or (device.osVersion -startsWith "10.0.26")', platform: "windows10AndLater" },
  { rule: '(device.deviceName -startsWith "KIOSK-") or (device.deviceName -endsWith "-LAB")', platform: "windows10AndLater" },
  { rule: '(device.isRooted -eq "False") and (device.deviceOwnership -eq "Personal")', platform: "iOS" },
  { rule: '(device.enrollmentProfileName -eq $null)', platform: "iOS" },
  { rule: '(device.operatingSystemSKU -in ["EnterpriseS", "IoTEnterprise"]) or (device.model -startsWith "HoloLens")', platform: "windows10AndLater" },
  { rule: '(device.operatingSystemVersion -ge 17.0) and (device.model -startsWith "iPhone")', platform: "iOS" },
];

/** Mulberry32: a reproducible fleet. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Device {
  deviceName: string;
  manufacturer: string;
  model: string;
  osVersion: string;
  operatingSystemVersion: string;
  operatingSystemSKU: string | null;
  deviceTrustType: string | null;
  deviceOwnership: string;
  enrollmentProfileName: string | null;
  deviceCategory: string | null;
  cpuArchitecture: string;
  isRooted: boolean | null;
}

function fleet(size: number): FilterableDevice[] {
  const next = random(0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const devices: FilterableDevice[] = [];
  for (let i = 0; i < size; i++) {
    const apple = next() < 0.25;
    const hardware = apple
      ? pick([["Apple", "iPhone 15"], ["Apple", "iPhone 13 mini"], ["Apple", "iPad Pro (11-inch)"], ["Apple", "MacBookPro18,3"]])
      : pick([["Microsoft Corporation", "Surface Laptop 5"], ["Microsoft Corporation", "Surface Hub 2S"],
        ["Dell Inc.", "Latitude 7440"], ["LENOVO", "20XW0026US"], ["HP", "HP EliteBook 840 G9"],
        ["VMware, Inc.", "VMware7,1"], ["Microsoft Corporation", "Virtual Machine"]]);
    const version = apple
      ? pick(["17.4.1", "16.7.5", "17.0", "14.4.1 (23E224)"])
      : pick(["10.0.19045.4170", "10.0.22621.3296", "10.0.22631.3447", "10.0.26100.1742", "10.0.22000.2538"]);
    const device: Device = {
      deviceName: pick(["DESKTOP-", "KIOSK-", "CONTOSO-", "iPhone-"]) + Math.floor(next() * 1e6).toString(36).toUpperCase() +
        (next() < 0.05 ? "-LAB" : ""),
      manufacturer: hardware[0],
      model: hardware[1],
      osVersion: version,
      operatingSystemVersion: version,
      operatingSystemSKU: apple ? null : pick(["Enterprise", "Professional", "Education", "EnterpriseS", "IoTEnterprise"]),
      deviceTrustType: apple ? null : pick(["Azure AD joined", "Hybrid Azure AD joined", "Azure AD registered", "Unknown"]),
      deviceOwnership: pick(["Corporate", "Corporate", "Personal", "Unknown"]),
      enrollmentProfileName: next() < 0.3 ? null : pick(["Autopilot - User Driven", "Autopilot - Self Deploying", "DEP iPhones", "ADE Shared"]),
      deviceCategory: next() < 0.4 ? null : pick(["Engineering", "Kiosk", "Shared", "Sales devices"]),
      cpuArchitecture: apple ? pick(["arm64", "x64"]) : pick(["amd64", "amd64", "arm64", "x86"]),
      isRooted: apple ? next() < 0.02 : null,
    };
    devices.push(device);
  }
  return devices;
}

// ---------------------------------------------------------------------------------------------------------------
// The two loops: identical text, kept as separate functions so each has its own type feedback.

function filterLoop(predicates: readonly FilterPredicate[], devices: readonly FilterableDevice[], passes: number): number {
  let matched = 0;
  for (let p = 0; p < passes; p++) {
    for (let d = 0; d < devices.length; d++) {
      const device = devices[d];
      for (let f = 0; f < predicates.length; f++) if (predicates[f](device)) matched++;
    }
  }
  return matched;
}

function baselineLoop(predicates: readonly FilterPredicate[], devices: readonly FilterableDevice[], passes: number): number {
  let matched = 0;
  for (let p = 0; p < passes; p++) {
    for (let d = 0; d < devices.length; d++) {
      const device = devices[d];
      for (let f = 0; f < predicates.length; f++) if (predicates[f](device)) matched++;
    }
  }
  return matched;
}

interface Measurement {
  pairsPerRound: number;
  roundsMs: number[];
  medianMs: number;
  pairsPerSecond: number;
  matchedPerRound: number;
}

function measure(
  loop: typeof filterLoop, predicates: readonly FilterPredicate[], devices: readonly FilterableDevice[], passes: number,
): Measurement {
  const pairsPerRound = passes * devices.length * predicates.length;
  loop(predicates, devices, Math.max(1, Math.ceil(passes / 4))); // warm-up: let the JIT settle
  const roundsMs: number[] = [];
  let matchedPerRound = 0;
  for (let r = 0; r < settings.rounds; r++) {
    const started = process.hrtime.bigint();
    matchedPerRound = loop(predicates, devices, passes);
    roundsMs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const medianMs = [...roundsMs].sort((a, b) => a - b)[Math.floor(roundsMs.length / 2)];
  return { pairsPerRound, roundsMs, medianMs, pairsPerSecond: pairsPerRound / (medianMs / 1000), matchedPerRound };
}

function sourceState(): { commit: string; uncommittedFiles: number } {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=all", "--", "src/engine/assignmentFilter"], { cwd: root, encoding: "utf8" });
    return { commit, uncommittedFiles: status.split("\n").filter((line) => line.trim() !== "").length };
  } catch {
    return { commit: "unknown", uncommittedFiles: -1 };
  }
}

// ---------------------------------------------------------------------------------------------------------------

const TARGET = 1_000_000;
const loadAverageAtStart = os.loadavg();

const compileStarted = process.hrtime.bigint();
const COMPILE_REPEATS = 200;
let compiled = FILTERS.map(({ rule, platform }) => compileFilterRule(rule, platform));
for (let i = 1; i < COMPILE_REPEATS; i++) compiled = FILTERS.map(({ rule, platform }) => compileFilterRule(rule, platform));
const compileMicros = Number(process.hrtime.bigint() - compileStarted) / 1e3 / (COMPILE_REPEATS * FILTERS.length);

const devices = fleet(settings.devices);
const predicates = compiled.map((c) => c.matches);
const trivial: FilterPredicate[] = FILTERS.map(() => () => true);
const passes = Math.ceil(settings.pairsPerRound / (devices.length * predicates.length));

const trivialRun = measure(baselineLoop, trivial, devices, passes);
const filterRun = measure(filterLoop, predicates, devices, passes);
const ratio = filterRun.pairsPerSecond / trivialRun.pairsPerSecond;
const matchRate = filterRun.matchedPerRound / filterRun.pairsPerRound;

const report = {
  generatedAt: new Date().toISOString(),
  settings: { ...settings, passesPerRound: passes, filters: FILTERS.length },
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg(),
  },
  source: sourceState(),
  filters: FILTERS.map((f, i) => ({ ...f, properties: compiled[i].properties })),
  compileMicrosecondsPerRule: compileMicros,
  trivial: trivialRun,
  compiled: { ...filterRun, matchRate },
  ratioCompiledToTrivial: ratio,
  goal: {
    description: `compiled filters evaluate at least ${TARGET.toLocaleString("en-US")} (device, filter) pairs per second on one core`,
    met: filterRun.pairsPerSecond >= TARGET,
  },
};

const num = (n: number) => Math.round(n).toLocaleString("en-US");
const markdown = `# Assignment filter benchmark

Generated by \`node --import tsx bench/assignmentFilter/run.ts\` at ${report.generatedAt} (${settings.mode} mode).

- Machine: ${report.machine.cpus} CPUs (${report.machine.cpuModel}), ${report.machine.platform}, Node ${report.machine.node}; load average (1/5/15 min) ${loadAverageAtStart.map((l) => l.toFixed(2)).join(" / ")} at the start, ${report.machine.loadAverageAtEnd.map((l) => l.toFixed(2)).join(" / ")} at the end
- Source: commit ${report.source.commit}, ${report.source.uncommittedFiles} uncommitted file(s) under src/engine/assignmentFilter
- Workload: ${FILTERS.length} compiled filters × ${devices.length.toLocaleString("en-US")} generated devices, ${passes} passes per round = ${num(filterRun.pairsPerRound)} pairs per round; ${settings.rounds} timed rounds after a warm-up, median reported; one thread
- Baseline: the same loop (separate copy of the same code) calling \`() => true\` for each pair, in the same process, measured first

| loop | pairs/s | median round ms | rounds ms |
| --- | ---: | ---: | --- |
| trivial \`() => true\` | ${num(trivialRun.pairsPerSecond)} | ${trivialRun.medianMs.toFixed(1)} | ${trivialRun.roundsMs.map((m) => m.toFixed(1)).join(", ")} |
| compiled filters | ${num(filterRun.pairsPerSecond)} | ${filterRun.medianMs.toFixed(1)} | ${filterRun.roundsMs.map((m) => m.toFixed(1)).join(", ")} |

Ratio compiled / trivial: **${ratio.toFixed(3)}** (${(1e9 / filterRun.pairsPerSecond).toFixed(1)} ns per pair vs ${(1e9 / trivialRun.pairsPerSecond).toFixed(1)} ns). ${(matchRate * 100).toFixed(1)} % of pairs matched. Parse + compile: ${compileMicros.toFixed(1)} µs per rule.

**Goal — ${report.goal.description}: ${num(filterRun.pairsPerSecond)} → ${report.goal.met ? "met" : "not met"}.**

## Filters

${FILTERS.map((f) => `- \`${f.rule}\` (${f.platform})`).join("\n")}
`;

await mkdir(resultsDir, { recursive: true });
await writeFile(join(resultsDir, "assignment-filter.json"), `${JSON.stringify(report, null, 2)}\n`);
await writeFile(join(resultsDir, "assignment-filter.md"), markdown);

console.log(`trivial () => true : ${num(trivialRun.pairsPerSecond).padStart(13)} pairs/s  (median ${trivialRun.medianMs.toFixed(1)} ms per ${num(trivialRun.pairsPerRound)})`);
console.log(`compiled filters   : ${num(filterRun.pairsPerSecond).padStart(13)} pairs/s  (median ${filterRun.medianMs.toFixed(1)} ms per ${num(filterRun.pairsPerRound)})`);
console.log(`ratio compiled/trivial: ${ratio.toFixed(3)}; match rate ${(matchRate * 100).toFixed(1)} %; parse+compile ${compileMicros.toFixed(1)} µs/rule`);
console.log(`goal ≥ ${num(TARGET)} pairs/s: ${report.goal.met ? "met" : "NOT met"}`);
console.log(`wrote bench/results/assignment-filter.json and .md`);
