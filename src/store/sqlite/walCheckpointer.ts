// SQLite's automatic checkpoint runs inside the COMMIT that grows the WAL past its threshold, on the writer's
// thread, which is the server's only thread: a reassignment batch's COMMIT spent about half of its time copying
// WAL pages back into the database file (issue 8). Here a worker thread with a connection of its own does that
// copy (PASSIVE: it never waits for the writer and the writer never waits for it), so a COMMIT only appends to the
// WAL and the copy runs on another CPU. Durability is unchanged: a commit is durable once in the WAL, whoever
// checkpoints it later.

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Commits coalesce: the worker copies at most this often. */
const DELAY_MS = 20;

// CommonJS, evaluated in the worker: one connection, one PASSIVE checkpoint per burst of nudges.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
let timer;
const copy = () => {
  timer = undefined;
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
};
parentPort.on("message", (m) => {
  if (m === "stop") {
    clearTimeout(timer);
    db.close();
    parentPort.postMessage("stopped");
    parentPort.close();
  } else if (!timer) timer = setTimeout(copy, workerData.delayMs);
});
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private stopped?: Promise<void>;

  constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, driver, delayMs: DELAY_MS } });
    // A worker that failed (the file went away) leaves checkpoints to SQLite's own backstop.
    this.worker.on("error", () => undefined);
    this.worker.unref();
  }

  /** After a commit: the WAL has new frames to copy back. */
  nudge(): void {
    if (!this.stopped) this.worker.postMessage("copy");
  }

  /** Closes the worker's connection (before the writer's own close, which then checkpoints and removes the WAL). */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.once("message", () => resolve());
      this.worker.once("exit", () => resolve());
      this.worker.postMessage("stop");
    }).then(() => this.worker.terminate().then(() => undefined));
    return this.stopped;
  }
}
