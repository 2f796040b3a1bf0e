// Server child processes: forked through tsx with an IPC channel, awaited until they report "ready", and
// always killed when the benchmark ends, however it ends.

import { fork, type ChildProcess } from "node:child_process";
import type { ChildMessage, ReadyMessage } from "./servers/childProtocol.js";

const live = new Set<ChildProcess>();

export class ReadyTimeout extends Error {}

export interface ServerChild {
  ready: ReadyMessage;
  pid: number;
  stop(): Promise<void>;
}

export function startServerChild(file: string, args: string[], readyTimeoutMs: number): Promise<ServerChild> {
  const child = fork(file, args, { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => (live.delete(child), resolve())));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: "stop" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new ReadyTimeout(`${file} did not become ready within ${readyTimeoutMs / 1000} s`));
    }, readyTimeoutMs);
    child.on("message", (m: ChildMessage) => {
      if (m.type === "ready") {
        clearTimeout(timer);
        resolve({ ready: m, pid: child.pid!, stop });
      } else if (m.type === "failed") {
        clearTimeout(timer);
        reject(new Error(`${file} failed to start:\n${m.error}`));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${signal ?? code}) before it was ready`));
    });
  });
}

/** Kills every child still running (exit and signal paths). */
export function killAllChildren() {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}
