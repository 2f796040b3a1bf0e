// Where a fleet call's device slices come from: drawn on this thread for small calls, or on a worker thread for
// large ones, one slice ahead of the writes (SQLite writes on one core; the drawing then uses the other). Both
// run the same deviceSlices, so the rows do not depend on where they were drawn.

import { Worker } from "node:worker_threads";
import { deviceSlices, type DevicePlan, type DeviceSlice } from "./fleetDeviceSlices.js";
import type { WorkerAnswer, WorkerRequest } from "./fleetDeviceWorker.js";
import { unpackSlice } from "./packedSlice.js";

/** From `workerFrom` devices a call draws them on a worker thread (starting one costs 0.2-0.7 s). Tests lower it. */
export const fleetDrawing = { workerFrom: 10_000 };

/** Slices drawn ahead of the writes: the drawing's pace varies (garbage collection, the other core's load). */
const LOOKAHEAD = 2;

/** A worker kept between calls, so a fleet sent in batches starts one thread, not one per batch. */
let idle: DeviceSliceWorker | undefined;

/** An idle worker, or a new one; give it back with `releaseWorker`. */
export function acquireWorker(): DeviceSliceWorker {
  const kept = idle;
  idle = undefined;
  if (kept?.healthy) return kept;
  void kept?.close();
  return new DeviceSliceWorker();
}

/** Keeps a worker that finished its plan for the next call; one that failed, or a second idle one, ends. */
export async function releaseWorker(worker: DeviceSliceWorker, reusable: boolean) {
  if (reusable && !idle && worker.healthy) idle = worker;
  else await worker.close();
}

const sourceExtension = new URL(import.meta.url).pathname.endsWith(".ts") ? ".ts" : ".js";

/** A worker thread ready to draw one plan's slices; started early, so its start overlaps the call's reads. */
export class DeviceSliceWorker {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private waiting: { resolve(a: WorkerAnswer): void; reject(e: Error): void } | undefined;
  /** Answers that came before anyone waited for them (the slice drawn ahead). */
  private readonly received: WorkerAnswer[] = [];

  constructor() {
    this.worker = new Worker(new URL("./workerBootstrap.mjs", import.meta.url), {
      workerData: { module: new URL(`./fleetDeviceWorker${sourceExtension}`, import.meta.url).href },
    });
    this.worker.on("message", (answer: WorkerAnswer) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (w) w.resolve(answer);
      else this.received.push(answer);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(e);
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`The fleet's worker thread exited (${code}).`)));
    // An idle worker does not keep the process alive (after the listeners: adding one refs the worker again).
    this.worker.unref();
  }

  /** Not failed, and no answer left over from an earlier plan (a call that stopped early). */
  get healthy() {
    return !this.failure && this.received.length === 0 && !this.waiting && this.drained;
  }

  private drained = true;

  private post(request: WorkerRequest) {
    this.worker.postMessage(request);
  }

  private answer(): Promise<WorkerAnswer> {
    const ready = this.received.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  async *slices(plan: DevicePlan): AsyncGenerator<DeviceSlice> {
    this.drained = false;
    // Awaited answers keep the process alive, whatever else it has to do.
    this.worker.ref();
    let outstanding = 0;
    const ask = () => {
      this.post({ next: true });
      outstanding++;
    };
    try {
      this.post({ plan });
      for (let i = 0; i < LOOKAHEAD; i++) ask();
      for (;;) {
        const answer = await this.answer();
        outstanding--;
        if ("error" in answer) throw new Error(`The fleet's worker thread failed: ${answer.error}`);
        if ("done" in answer) {
          // The requests sent ahead past the end answer "done" too.
          while (outstanding > 0) {
            await this.answer();
            outstanding--;
          }
          this.drained = true;
          return;
        }
        // Ask for another slice before the caller writes this one: drawing and writing overlap.
        ask();
        yield unpackSlice(answer.slice);
      }
    } finally {
      this.worker.unref();
    }
  }

  async close() {
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
  }
}

export async function* sliceSource(plan: DevicePlan, worker: DeviceSliceWorker | undefined): AsyncGenerator<DeviceSlice> {
  if (worker) yield* worker.slices(plan);
  else yield* deviceSlices(plan);
}
