// Entry of the fleet's worker threads. Allot runs its TypeScript through tsx, whose module hooks a worker thread
// does not inherit on Node 20: the worker registers them itself, then loads the module it was started for.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
