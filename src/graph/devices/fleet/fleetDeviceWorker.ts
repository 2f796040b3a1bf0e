// The fleet's device drawing on a worker thread: the request's thread writes one slice while this thread draws
// the next (the drawing and JSON encoding are about a third of a call's time on one core). One slice is drawn per
// request, so at most one slice waits in memory.

import { parentPort } from "node:worker_threads";
import { deviceSlices, type DevicePlan, type DeviceSlice } from "./fleetDeviceSlices.js";
import { packSlice, type PackedSlice } from "./packedSlice.js";

export type WorkerRequest = { plan: DevicePlan } | { next: true };
export type WorkerAnswer = { slice: PackedSlice } | { done: true } | { error: string };

const port = parentPort!;
let slices: Generator<DeviceSlice> | undefined;
let layouts: DevicePlan["layouts"] | undefined;

port.on("message", (request: WorkerRequest) => {
  let answer: WorkerAnswer;
  let transfer: ArrayBuffer[] = [];
  try {
    if ("plan" in request) {
      slices = deviceSlices(request.plan);
      layouts = request.plan.layouts;
      return;
    }
    const next = slices!.next();
    if (next.done) answer = { done: true };
    else {
      // Packed: the writer's thread receives a few large values instead of ~125,000 small ones (packedSlice.ts).
      const packed = packSlice(next.value, layouts);
      answer = { slice: packed.packed };
      transfer = packed.transfer;
    }
  } catch (e) {
    answer = { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(answer, transfer);
});
