// The benchmark drives Allot as a user would: `allot serve` in a child process, `allot fleet` in another.

import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "allot.mjs");
const live = new Set<ChildProcess>();

export interface ServedAllot {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `allot serve --port 0 …`, resolved once it prints its URL. */
export function serveAllot(args: string[], readyTimeoutMs = 120_000): Promise<ServedAllot> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--seed", "demo", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => (live.delete(child), resolve())));
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`allot serve printed no URL within ${readyTimeoutMs / 1000} s:\n${output}`))), readyTimeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.stdout!.resume();
      child.stderr!.pipe(process.stderr);
      resolve({
        url: m[1],
        pid: child.pid!,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`allot serve exited (${code}) before listening:\n${output}`))));
  });
}

/** `allot fleet … --json`: its progress bar goes to our stderr, its totals come back parsed. */
export function runFleetCommand(args: string[]): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [BIN, "fleet", ...args, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
  live.add(child);
  let stdout = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      live.delete(child);
      if (code !== 0) return reject(new Error(`allot fleet exited with ${code}: ${stdout}`));
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
    });
  });
}

export function killAllotProcesses() {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}
