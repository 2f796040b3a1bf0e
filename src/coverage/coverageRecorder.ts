// The test run's half of docs/coverage.md: with ALLOT_COVERAGE_FILE set, every request Allot answers is appended
// to that file as one JSON line (operation, method, status, and which client sent it). Unset — every normal run —
// there is no recorder at all, and the only cost is one `undefined` check per request.

import { appendFileSync } from "node:fs";
import type { PathStep } from "../odata/pathResolver.js";

export interface ServedRequest {
  /** `graph` (a model route), or `http` (a Fastify route: MMD, identity, control plane, $batch). */
  api: "graph" | "http";
  route: string;
  method: string;
  status: number;
  /** The Microsoft client that sent it (see `microsoftClientOf`), or undefined for curl, fetch, … */
  client?: string;
}

export interface CoverageRecorder {
  record(served: ServedRequest): void;
}

type Headers = Record<string, string | string[] | undefined>;
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * Microsoft's SDKs say who they are: the Graph v3 client sends `SdkVersion: graph-js/3.x`, Kiota-generated SDKs
 * a `User-Agent` of `kiota-typescript/…` and an `SdkVersion` of `graph-typescript-…`; @azure/identity an
 * `azsdk-js-identity/…` user agent (what test/clients' requests carry).
 */
export function microsoftClientOf(headers: Headers): string | undefined {
  const sdk = first(headers.sdkversion);
  const agent = first(headers["user-agent"]) ?? "";
  if (sdk) return sdk.split(/[,\s]/)[0];
  const known = /\b(kiota-[a-z]+\/[^\s]+|azsdk-js-[a-z-]+\/[^\s]+|graph-[a-z]+\/[^\s]+|msal\.[a-z-]+\/[^\s]+)/i.exec(agent);
  return known?.[1];
}

export function coverageRecorderFromEnvironment(env: NodeJS.ProcessEnv = process.env): CoverageRecorder | undefined {
  const file = env.ALLOT_COVERAGE_FILE;
  if (!file) return undefined;
  // Appends of one short line are atomic enough for test files running in parallel processes.
  return { record: (served) => appendFileSync(file, `${JSON.stringify(served)}\n`) };
}

/**
 * The model route a path addresses, with names instead of OData's `~/entityset/key` template and without the
 * version: `/deviceManagement/managedDevices/{id}/wipe`. Type casts are left out: a cast path is the same
 * operation on a narrower type.
 */
export function modelRoute(steps: readonly PathStep[]): string {
  const parts = steps.flatMap((step): string[] => {
    switch (step.kind) {
      case "entitySet":
        return [step.set.name];
      case "singleton":
        return [step.name];
      case "key":
        return ["{id}"];
      case "navigation":
        return [step.nav.name];
      case "cast":
        return [];
      case "operation":
        return [step.op.name];
      case "count":
        return ["$count"];
      case "ref":
        return ["$ref"];
    }
  });
  return `/${parts.join("/")}`;
}
