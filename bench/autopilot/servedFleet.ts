// What the bulk benchmarks (Autopilot assignment, MMD reassignment) share: `allot serve` in a child process on
// SQLite (a WAL file in a temp directory) or PostgreSQL (a schema allot_bench_<random>, dropped afterwards), a
// fleet made by `allot fleet`, Graph calls with the demo app's token, polling a $count until it reaches a value,
// and a direct connection to the same store for the same-run baseline statement.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from "../../src/seed/demoTenant.js";
import { tokenFor } from "../../test/support/allotUnderTest.js";
import { runFleetCommand, serveAllot, type ServedAllot } from "../fleet/allotProcesses.js";

export const POSTGRES_URL = process.env.ALLOT_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export type Backend = "sqlite" | "postgres";
export const log = (line: string) => process.stderr.write(`${line}\n`);
export const ms = (from: number) => Math.round((performance.now() - from) * 10) / 10;

export interface GraphAnswer {
  status: number;
  body: any;
  text: string;
}

/** A served Allot with its store, reachable over HTTP and directly. */
export class ServedFleet {
  private served?: ServedAllot;
  token = "";
  private constructor(
    readonly backend: Backend,
    private readonly serveArgs: string[],
    private readonly cleanup: () => Promise<void>,
    readonly sqliteFile?: string,
    readonly schema?: string,
  ) {}

  static async start(backend: Backend, lifecycle: string): Promise<ServedFleet> {
    if (backend === "sqlite") {
      const dir = await mkdtemp(join(os.tmpdir(), "allot-bench-bulk-"));
      const fleet = new ServedFleet(backend, ["--data", join(dir, "allot"), "--lifecycle", lifecycle], () => rm(dir, { recursive: true, force: true }), join(dir, "allot", "allot.db"));
      await fleet.serve();
      return fleet;
    }
    const schema = `allot_bench_${randomBytes(5).toString("hex")}`;
    const drop = async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await client.end();
    };
    const fleet = new ServedFleet(backend, ["--database-url", POSTGRES_URL, "--database-schema", schema, "--lifecycle", lifecycle], drop, undefined, schema);
    await fleet.serve();
    return fleet;
  }

  get url() {
    return this.served!.url;
  }

  private async serve() {
    this.served = await serveAllot(this.serveArgs);
    this.token = await tokenFor(this.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
  }

  async stopServer() {
    await this.served?.stop();
  }

  async close() {
    await this.stopServer();
    await this.cleanup();
  }

  /** `allot fleet … --autopilot` against the server; answers the command's totals. */
  async createFleet(devices: number, groups: number): Promise<Record<string, number>> {
    const users = Math.ceil(devices / 20);
    log(`${this.backend}: allot fleet --devices ${devices} --users ${users} --groups ${groups} --autopilot`);
    return runFleetCommand(["--url", this.url, "--devices", String(devices), "--users", String(users), "--groups", String(groups), "--autopilot", "--batch", "50000", "--seed", "bulk-bench"]);
  }

  async call(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<GraphAnswer> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": contentType }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  }

  /** `$count` of a Graph collection under a `$filter`. */
  async count(collection: string, filter: string): Promise<number> {
    const res = await this.call("GET", `/beta${collection}?$count=true&$top=1&$select=id&$filter=${encodeURIComponent(filter)}`);
    if (res.status !== 200) throw new Error(`count ${collection} ${filter}: ${res.status} ${res.text}`);
    return Number(res.body["@odata.count"]);
  }

  /**
   * Polls until `read()` answers `expected`, every `intervalMs` between reads; answers the milliseconds since
   * `from`, or undefined on timeout.
   */
  async waitFor(read: () => Promise<number>, expected: number, from: number, timeoutMs: number, what: string, intervalMs = 50): Promise<number | undefined> {
    const deadline = from + timeoutMs;
    let last = -1;
    while (performance.now() < deadline) {
      last = await read();
      if (last === expected) return ms(from);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    log(`${this.backend}: ${what} did not reach ${expected} within ${timeoutMs / 1000} s (last ${last})`);
    return undefined;
  }

  /** Rows read directly from the store while the server runs (SQLite: a read-only connection beside it). */
  async peek(sql: { sqlite: string; postgres: string }, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    if (this.backend === "sqlite") {
      const db = new BetterSqlite3(this.sqliteFile!, { readonly: true });
      try {
        return db.prepare(sql.sqlite).all(...params) as Record<string, unknown>[];
      } finally {
        db.close();
      }
    }
    return this.onPostgres(async (client) => (await client.query(sql.postgres, params)).rows);
  }

  /** Runs `use` on a connection of its own to the run's PostgreSQL schema. */
  private async onPostgres<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`SET search_path TO ${this.schema}`);
      return await use(client);
    } finally {
      await client.end();
    }
  }

  /** Times one statement run directly on the store with the backend's own driver (the server is stopped first). */
  async timeStatement(sql: { sqlite: string; postgres: string }, params: unknown[]): Promise<{ ms: number; rows: number }> {
    await this.stopServer();
    if (this.backend === "sqlite") {
      const db = new BetterSqlite3(this.sqliteFile!);
      try {
        db.pragma("journal_mode = WAL");
        const statement = db.prepare(sql.sqlite);
        const started = performance.now();
        const { changes } = statement.run(...params);
        return { ms: ms(started), rows: changes };
      } finally {
        db.close();
      }
    }
    return this.onPostgres(async (client) => {
      const started = performance.now();
      const r = await client.query(sql.postgres, params);
      return { ms: ms(started), rows: r.rowCount ?? 0 };
    });
  }
}

export async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return (await client.query<{ server_version: string }>("SHOW server_version")).rows[0].server_version;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export { DEMO_TENANT_ID };
