// The Graph read cache (src/graph/entityTextCache.ts) over real HTTP: a GET by key answered from the cache must be
// the answer the store gives now, after any write, by this process's routes and engines or by another connection
// to the same file, and everything per request (token, permission, tenant, headers) still applies on a hit.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { graphModel } from "../../src/graph/model/index.js";
import { SqliteDatabase } from "../../src/store/sqlite/sqliteDatabase.js";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const USER_1 = "a110c0de-0000-4000-8000-000000000101";
const USER_2 = "a110c0de-0000-4000-8000-000000000102";
const OTHER_TENANT = "c0c0c0c0-0000-4000-8000-000000000001";
/** Headers that differ between any two answers. */
const VARYING = new Set(["request-id", "client-request-id", "date", "connection", "keep-alive"]);

describe("Graph read cache (SQLite)", () => {
  let s: TestServer;
  let dir: string;
  let file: string;
  const mint = async (body: Record<string, unknown>) => {
    const res = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    return (await res.json()).access_token as string;
  };
  const get = (path: string, headers: Record<string, string> = {}) => s.call("GET", path, undefined, headers);
  /** Two GETs: the second is answered from the cache when the first kept its answer. */
  const warm = async (path: string) => {
    const first = await get(path);
    const second = await get(path);
    assert.equal(second.text, first.text);
    return second;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "allot-read-cache-"));
    file = join(dir, "allot.db");
    s = await startTestServer("sqlite", { store: { kind: "sqlite", file }, lifecycle: "0.2s" });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a hit answers with the same status, headers and body as the miss before it", async () => {
    const headersOf = (h: Headers) => [...h.entries()].filter(([name]) => !VARYING.has(name));
    await s.call("PATCH", `/users/${USER_2}`, { jobTitle: "Cache probe" });
    const miss = await get(`/users/${USER_2}`, { "client-request-id": "4b1b0c3e-0000-4000-8000-000000000001" });
    const hit = await get(`/users/${USER_2}`, { "client-request-id": "4b1b0c3e-0000-4000-8000-000000000002" });
    assert.equal(hit.status, 200);
    assert.equal(hit.text, miss.text);
    assert.deepEqual(headersOf(hit.headers), headersOf(miss.headers));
    assert.equal(hit.headers.get("client-request-id"), "4b1b0c3e-0000-4000-8000-000000000002");
    assert.notEqual(hit.headers.get("request-id"), miss.headers.get("request-id"));
    // Each version and service root has its own context URL.
    const v1 = await s.call("GET", `/v1.0/users/${USER_2}`);
    assert.equal(v1.body["@odata.context"], `${s.url}/v1.0/$metadata#users/$entity`);
  });

  it("a hit of an entity with multi-byte UTF-8 text sends the miss's bytes with their length", async () => {
    const raw = async (path: string) => {
      const res = await fetch(`${s.url}/beta${path}`, { headers: { authorization: `Bearer ${await s.token()}` } });
      return { length: res.headers.get("content-length"), bytes: Buffer.from(await res.arrayBuffer()) };
    };
    const jobTitle = "Größe — 東京 ✓ 😀";
    assert.equal((await s.call("PATCH", `/users/${USER_2}`, { jobTitle })).status, 204);
    const miss = await raw(`/users/${USER_2}`);
    const hit = await raw(`/users/${USER_2}`);
    assert.ok(hit.bytes.equals(miss.bytes));
    assert.equal(hit.length, String(hit.bytes.length));
    assert.equal(miss.length, String(miss.bytes.length));
    assert.equal(JSON.parse(hit.bytes.toString("utf8")).jobTitle, jobTitle);
  });

  it("PATCH, POST and DELETE through Graph are seen by the next GET", async () => {
    assert.equal((await warm(`/users/${USER_1}`)).body.jobTitle ?? null, (await get(`/users/${USER_1}`)).body.jobTitle ?? null);
    assert.equal((await s.call("PATCH", `/users/${USER_1}`, { jobTitle: "Patched once" })).status, 204);
    assert.equal((await get(`/users/${USER_1}`)).body.jobTitle, "Patched once");
    assert.equal((await s.call("PATCH", `/users/${USER_1}`, { jobTitle: "Patched twice" })).status, 204);
    assert.equal((await warm(`/users/${USER_1}`)).body.jobTitle, "Patched twice");

    const created = await s.call("POST", "/groups", { displayName: "Cache group", mailEnabled: false, mailNickname: "cachegroup", securityEnabled: true });
    assert.equal(created.status, 201);
    const path = `/groups/${created.body.id}`;
    assert.equal((await warm(path)).body.displayName, "Cache group");
    assert.equal((await s.call("DELETE", path)).status, 204);
    assert.equal((await get(path)).status, 404);
    assert.equal((await get(path)).status, 404);
  });

  it("a write by another connection to the same file (another process) is seen by the next GET", async () => {
    assert.equal((await warm(`/users/${USER_1}`)).status, 200);
    const table = graphModel.entitySets.get("users")!.table!.name;
    const other = new BetterSqlite3(file);
    try {
      other.pragma("busy_timeout = 5000");
      const changed = other.prepare(`UPDATE ${table} SET doc = json_set(doc, '$.jobTitle', 'Set elsewhere') WHERE tenant_id = ? AND id = ?`).run(DEMO_TENANT_ID, USER_1);
      assert.equal(changed.changes, 1);
    } finally {
      other.close();
    }
    assert.equal((await get(`/users/${USER_1}`)).body.jobTitle, "Set elsewhere");
  });

  it("a set-based engine write (an MMD reassignment) is seen by the next GET of the Entra device", async () => {
    const enrolled = await s.call("POST", "/_allot/devices", { deviceName: "CACHE-1", userPrincipalName: "adele@allotdemo.onmicrosoft.com", autopilot: { groupTag: "Microsoft365Managed_Standard" } });
    assert.equal(enrolled.status, 201);
    const dev = enrolled.body as { azureADDeviceId: string; entraObjectId: string };
    const path = `/devices/${dev.entraObjectId}`;
    assert.ok(!(await warm(path)).body.devicePhysicalIds.includes("[OrderID]:Microsoft365Managed_SensitiveData"));
    const mmd = await mint({ tenant: DEMO_TENANT_ID, roles: ["MmdSupport.ReadWrite"], audience: "mmd" });
    const res = await fetch(`${s.url}/support/odata/v1/tenants/${DEMO_TENANT_ID}/profiles/reassignProfile?persona=SensitiveData&wipe=false`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${mmd}`, "content-type": "application/json" },
      body: JSON.stringify([dev.azureADDeviceId]),
    });
    assert.equal(res.status, 200);
    let ids: string[] = (await get(path)).body.devicePhysicalIds;
    for (let i = 0; i < 200 && !ids.includes("[OrderID]:Microsoft365Managed_SensitiveData"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      ids = (await get(path)).body.devicePhysicalIds;
    }
    assert.ok(ids.includes("[OrderID]:Microsoft365Managed_SensitiveData"), JSON.stringify(ids));
  });

  it("a hit still checks the token, the permission and the tenant", async () => {
    const path = `/users/${USER_1}`;
    assert.equal((await warm(path)).status, 200);
    assert.equal((await get(path, { authorization: "" })).status, 401);
    assert.equal((await get(path, { authorization: "Bearer not-a-token" })).status, 401);
    const devicesOnly = await mint({ tenant: DEMO_TENANT_ID, roles: ["DeviceManagementManagedDevices.Read.All"] });
    const denied = await get(path, { authorization: `Bearer ${devicesOnly}` });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, "Authorization_RequestDenied");
    const seeded = await s.call("POST", "/_allot/seed", { tenants: [{ id: OTHER_TENANT, apps: [{ clientId: "c0c0c0c0-0000-4000-8000-0000000000a1", secrets: ["x-secret-x"], roles: ["*"] }] }] }, { "x-allot-admin-key": DEFAULT_ADMIN_KEY });
    assert.equal(seeded.status, 200);
    assert.equal((await warm(path)).status, 200);
    const foreign = await mint({ tenant: OTHER_TENANT, roles: ["User.Read.All"] });
    assert.equal((await get(path, { authorization: `Bearer ${foreign}` })).status, 404);
    assert.equal((await get(path)).status, 200);
  });
});

describe("SQLite read stamp", () => {
  it("moves on with every write of this connection or another, not with reads or read-only transactions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "allot-read-stamp-"));
    const file = join(dir, "stamp.db");
    const db = new SqliteDatabase(file, file);
    try {
      await db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)");
      const s0 = db.readStamp();
      assert.equal(typeof s0, "number");
      await db.all("SELECT * FROM t");
      await db.transaction(async (tx) => tx.all("SELECT * FROM t"));
      assert.equal(await db.run("UPDATE t SET v = 'x' WHERE id = 'none'").then(() => db.readStamp()), s0, "a DML statement that changed no row");
      assert.equal(db.readStamp(), s0);
      await db.run("INSERT INTO t VALUES ('a', '1')");
      const s1 = db.readStamp();
      assert.notEqual(s1, s0);
      await db.transaction(async (tx) => void (await tx.run("UPDATE t SET v = '2' WHERE id = 'a'")));
      const s2 = db.readStamp();
      assert.notEqual(s2, s1);
      await db.all("INSERT INTO t VALUES ('b', '1') RETURNING id");
      const s3 = db.readStamp();
      assert.notEqual(s3, s2);
      const other = new BetterSqlite3(file);
      other.prepare("UPDATE t SET v = '3' WHERE id = 'a'").run();
      other.close();
      assert.notEqual(db.readStamp(), s3);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
