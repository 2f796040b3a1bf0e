// The report of a bulk-change benchmark (Autopilot assignment, MMD reassignment): each backend measured in turn,
// figures as ratios to a single UPDATE of the same rows in the same run, written to bench/results/<name>.json|md.

import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { log, machine, type Backend } from "./servedFleet.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface BackendRun {
  backend: Backend;
  skipped?: string;
  baseline?: { statement: string; ms: number; rows: number };
  notes: string[];
}

export interface BulkChangeReport<R extends BackendRun> {
  generatedAt: string;
  commit: string;
  machine: ReturnType<typeof machine>;
  target: Record<string, number>;
  runs: R[];
  notes: string[];
}

/** A time as a multiple of the baseline's, two decimals. */
export const ratioTo = (ms: number | undefined, baselineMs: number) => (ms === undefined ? undefined : Math.round((ms / baselineMs) * 100) / 100);
export const yes = (b: boolean | undefined) => (b === undefined ? "–" : b ? "met" : "not met");
export const num = (v: number | undefined) => (v === undefined ? "–" : v.toLocaleString("en-US"));

export const generatedLine = (report: BulkChangeReport<BackendRun>) =>
  `Generated ${report.generatedAt} at commit ${report.commit} on ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.totalMemoryGiB} GiB, Node ${report.machine.node} (load ${report.machine.loadAverage.join(" ")}).`;

/** The closing lines of the markdown: each backend's baseline statement, then every note. */
export function baselinesAndNotes(report: BulkChangeReport<BackendRun>): string[] {
  const lines = ["", "Baseline statements:", ""];
  for (const r of report.runs) if (r.baseline) lines.push(`- ${r.backend}: \`${r.baseline.statement}\``);
  const notes = [...report.notes, ...report.runs.flatMap((r) => r.notes.map((n) => `${r.backend}: ${n}`))];
  if (notes.length) lines.push("", "Notes:", "", ...notes.map((n) => `- ${n}`));
  return lines;
}

/** Measures SQLite then PostgreSQL (unless skipped), writes the report and logs each run's summary. */
export async function measureAndReport<R extends BackendRun>(options: {
  name: string;
  target: Record<string, number>;
  skip: Record<Backend, boolean>;
  measure: (backend: Backend) => Promise<R>;
  markdown: (report: BulkChangeReport<R>) => string;
  summary: (run: R) => string;
}): Promise<void> {
  const runs: R[] = [];
  for (const backend of ["sqlite", "postgres"] as const) {
    runs.push(options.skip[backend] ? ({ backend, skipped: `--skip-${backend}`, notes: [] } as BackendRun as R) : await options.measure(backend));
  }
  const report: BulkChangeReport<R> = {
    generatedAt: new Date().toISOString(),
    commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim(),
    machine: machine(),
    target: options.target,
    runs,
    notes: [],
  };
  if (report.machine.cpus <= 2) report.notes.push(`Only ${report.machine.cpus} CPUs, shared by the server, the database and the polling client.`);
  const dir = join(root, "bench", "results");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${options.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, `${options.name}.md`), options.markdown(report));
  for (const r of runs) log(r.skipped ? `${r.backend}: skipped` : `${r.backend}: ${options.summary(r)}`);
}
