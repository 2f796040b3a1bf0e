// Picks the load tool: wrk when it is on the PATH, else autocannon when node_modules has it, else the
// built-in node:http generator. `--tool` forces one (a forced tool that is missing is an error).

import { fork, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import type { LoadResult, LoadSpec, LoadTool, ToolName } from "./types.js";
import { runWithWrk } from "./wrk.js";

const here = dirname(fileURLToPath(import.meta.url));

function wrkVersion(): string | undefined {
  const probe = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (probe.error) return undefined; // ENOENT: not installed
  const text = `${probe.stdout ?? ""}${probe.stderr ?? ""}`;
  const m = /^wrk\s+(\S+)/m.exec(text);
  return m ? m[1] : "unknown version";
}

function autocannonVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve("autocannon/package.json");
    return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Runs one measurement in a forked process (bench/http/load/nodeLoadWorker.ts). */
function inWorkerProcess(tool: "node" | "autocannon", spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, "nodeLoadWorker.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let settled = false;
    child.once("message", (m: { result?: LoadResult; error?: string }) => {
      settled = true;
      if (m.result) resolve(m.result);
      else reject(new Error(`load generator failed: ${m.error}`));
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code} before reporting`));
    });
    child.send({ tool, spec });
  });
}

export function chooseLoadTool(forced?: ToolName): LoadTool {
  const order: ToolName[] = forced ? [forced] : ["wrk", "autocannon", "node"];
  for (const name of order) {
    if (name === "wrk") {
      const version = wrkVersion();
      if (version) return { name, version, description: `wrk ${version} (Lua script rotating paths)`, run: runWithWrk };
    } else if (name === "autocannon") {
      const version = autocannonVersion();
      if (version) return { name, version, description: `autocannon ${version} (separate process)`, run: (s) => inWorkerProcess("autocannon", s) };
    } else {
      return {
        name,
        version: process.version,
        description: `built-in generator: node:http keep-alive Agent in a separate process (Node ${process.version})`,
        run: (s) => inWorkerProcess("node", s),
      };
    }
  }
  throw new Error(`the load tool '${forced}' is not available`);
}
