// Starts a real Allot server (real HTTP, real SQLite or PostgreSQL) for black-box tests, on both backends.

import { randomBytes } from "node:crypto";
import pg from "pg";
import { startAllot, type AllotOptions, type RunningAllot, type StoreOption } from "../../src/server/allotServer.js";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from "../../src/seed/demoTenant.js";

export type Backend = "sqlite" | "postgres";

export const POSTGRES_URL = process.env.ALLOT_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

let postgresReachable: Promise<boolean> | undefined;

/** Whether PostgreSQL answers. Under CI=true an unreachable server is a failure, never a silent skip. */
export function postgresAvailable(): Promise<boolean> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch (e) {
      if (process.env.CI === "true") throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable and CI=true: ${(e as Error).message}`);
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresReachable;
}

export const BACKENDS: Backend[] = ["sqlite", "postgres"];

/** A fresh store of the given backend: in-memory SQLite, or a PostgreSQL schema of its own. */
export function freshStore(backend: Backend): StoreOption & { schema?: string } {
  if (backend === "sqlite") return { kind: "sqlite", file: ":memory:" };
  return { kind: "postgres", url: POSTGRES_URL, schema: `allot_test_${randomBytes(6).toString("hex")}` };
}

export async function dropPostgresSchema(schema: string) {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestServer {
  allot: RunningAllot;
  url: string;
  graph: string;
  backend: Backend;
  /** A Graph token of the demo app (every permission), cached. */
  token(): Promise<string>;
  /** fetch against Graph (`path` relative to /beta unless absolute), with the demo token unless headers override. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  close(): Promise<void>;
}

/** Every row of a Graph collection, following `@odata.nextLink`; a page that does not answer 200 fails the test. */
export async function allPages(s: TestServer, path: string): Promise<any[]> {
  const out: any[] = [];
  for (let url: string | undefined = path; url; ) {
    const res = await s.call("GET", url);
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${res.text}`);
    out.push(...res.body.value);
    url = res.body["@odata.nextLink"];
  }
  return out;
}

export async function tokenFor(url: string, tenant: string, clientId: string, secret: string, scope = "https://graph.microsoft.com/.default") {
  const res = await fetch(`${url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope }),
  });
  const body = (await res.json()) as { access_token: string };
  if (!res.ok) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

export async function startTestServer(backend: Backend, options: Partial<AllotOptions> = {}): Promise<TestServer> {
  const store = options.store ?? freshStore(backend);
  // Throttling is off unless a test names it: black-box suites make hundreds of writes inside one 20-second window.
  // `{ throttle: undefined }` starts the server as the CLI does without the flag (Intune's real limits).
  const throttle = "throttle" in options ? options.throttle : "off";
  const allot = await startAllot({ port: 0, host: "127.0.0.1", seed: "demo", ...options, throttle, store });
  let token: string | undefined;
  const server: TestServer = {
    allot,
    url: allot.url,
    graph: `${allot.url}/beta`,
    backend,
    async token() {
      token ??= await tokenFor(allot.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
      return token;
    },
    async call(method, path, body, headers = {}) {
      const url = path.startsWith("http") ? path : `${allot.url}${path.startsWith("/v1.0") || path.startsWith("/beta") || path.startsWith("/_allot") ? "" : "/beta"}${path}`;
      const res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${await server.token()}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    async close() {
      await allot.close();
      if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
    },
  };
  return server;
}

/** The backends a suite should run on: both, or SQLite alone when PostgreSQL is absent outside CI. */
export async function backendsToTest(): Promise<Backend[]> {
  return (await postgresAvailable()) ? BACKENDS : ["sqlite"];
}

export { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID };
