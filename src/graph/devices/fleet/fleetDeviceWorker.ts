// The fleet's device drawing on a worker thread: the request's thread writes one slice while this thread draws
// the next (the drawing and JSON encoding are about a third of a call's time on one core). One slice is drawn per
// request, so at most one slice waits in memory.

import { parentPort } from "node:worker_threads";
import { deviceSlices, type DevicePlan, type DeviceSlice } from "./fleetDeviceSlices.js";

export type WorkerRequest = { plan: DevicePlan } | { next: true };
export type WorkerAnswer = { slice: DeviceSlice } | { done: true } | { error: string };

const port = parentPort!;
let slices: Generator<DeviceSlice> | undefined;

port.on("message", (request: WorkerRequest) => {
  let answer: WorkerAnswer;
  try {
    if ("plan" in request) {
      slices = deviceSlices(request.plan);
      return;
    }
    const next = slices!.next();
    answer = next.done ? { done: true } : { slice: next.value };
  } catch (e) {
    answer = { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(answer);
});
