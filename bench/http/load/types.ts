// What every load tool is asked to do and what it reports back, whichever tool does the work.

export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** Request paths, rotated over round-robin (one path means every request is the same). */
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  /** wrk threads; the Node generators ignore it. */
  threads: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface LoadResult {
  /** Requests completed in the measured window. */
  requests: number;
  seconds: number;
  reqPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /** Responses with a status outside 2xx/3xx (wrk counts ≥ 400). */
  non2xx: number;
  /** Connect/read/write errors and timeouts. */
  errors: number;
}

export type ToolName = "wrk" | "autocannon" | "node";

export interface LoadTool {
  name: ToolName;
  version: string;
  description: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}
