// `npm run coverage`: runs the test suite with ALLOT_COVERAGE_FILE set (every server it starts records what it
// serves), then writes docs/coverage.md from the operation catalogue of an in-memory Allot and those records.
// `--from FILE` skips the test run and uses a recording made earlier.

import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { coverageMarkdown, parseServedRequests } from "../src/coverage/coverageReport.js";
import { operationCatalogue } from "../src/coverage/operationCatalogue.js";
import { startAllot } from "../src/server/allotServer.js";

const { values } = parseArgs({ options: { from: { type: "string" }, out: { type: "string", default: "docs/coverage.md" } } });

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

let recording = values.from;
let testsFailed = false;
if (!recording) {
  mkdirSync(".allot-coverage", { recursive: true });
  recording = join(".allot-coverage", "requests.jsonl");
  rmSync(recording, { force: true });
  writeFileSync(recording, "");
  const files = testFiles("test").sort();
  const run = spawnSync(process.execPath, ["--import", "tsx", "--test", ...files], { stdio: "inherit", env: { ...process.env, ALLOT_COVERAGE_FILE: recording } });
  testsFailed = run.status !== 0;
}

// The catalogue's own server must not record itself.
delete process.env.ALLOT_COVERAGE_FILE;
const allot = await startAllot({ port: 0, host: "127.0.0.1", store: { kind: "sqlite", file: ":memory:" }, seed: "none", reconcile: false });
try {
  const catalogue = operationCatalogue({ model: allot.services.model, providers: allot.services.providers, implements: (h) => allot.requests.implements(h), routes: allot.routes });
  writeFileSync(values.out!, coverageMarkdown(catalogue, parseServedRequests(readFileSync(recording, "utf8")), "npm run coverage"));
  console.log(`coverage: ${catalogue.length} operations → ${values.out}`);
} finally {
  await allot.close();
}
if (testsFailed) {
  console.error("coverage: the test suite failed; the table reflects the tests that ran");
  process.exit(1);
}
