// The reconciler survives what real servers suffer: a kill -9 in the middle of reconciling (every started action
// still finishes, each step exactly once) and two server processes on one PostgreSQL database sharing the work
// without doing anything twice.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { exited, kill9, serve, waitUntil } from "../support/servedProcess.js";
import { dropPostgresSchema, postgresAvailable, POSTGRES_URL, tokenFor, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from "../support/allotUnderTest.js";

async function graph(url: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function enrollMany(url: string, token: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await graph(url, token, "POST", "/_allot/devices", { deviceName: `DUR-${i}` });
    assert.equal(res.status, 201);
    ids.push(res.body.managedDeviceId);
  }
  return ids;
}

async function allDone(url: string, token: string, action: string, expected: number) {
  const res = await graph(url, token, "GET", `/beta/deviceManagement/managedDevices?$filter=${encodeURIComponent("startswith(deviceName,'DUR-')")}&$select=deviceActionResults`);
  const done = res.body.value.filter((d: any) => d.deviceActionResults.some((r: any) => r.actionName === action && r.actionState === "done"));
  return done.length === expected;
}

describe("reconciler durability", () => {
  const dir = mkdtempSync(join(tmpdir(), "allot-durability-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("kill -9 while reconciling on SQLite: after a restart every wipe finishes, each step exactly once", async () => {
    const data = join(dir, "sqlite");
    const first = await serve(["--data", data, "--lifecycle", "0.05s"]);
    const token = await tokenFor(first.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    const ids = await enrollMany(first.url, token, 60);
    await Promise.all(ids.map((id) => graph(first.url, token, "POST", `/beta/deviceManagement/managedDevices/${id}/wipe`, {})));
    await new Promise((r) => setTimeout(r, 60));
    await kill9(first.child);

    const peek = new Database(join(data, "allot.db"), { readonly: true });
    const pendingAtCrash = (peek.prepare("SELECT COUNT(*) AS n FROM pending_work").get() as { n: number }).n;
    peek.close();
    assert.ok(pendingAtCrash > 0, "the crash happened while work was pending");

    const second = await serve(["--data", data, "--lifecycle", "0.05s", "--port", new URL(first.url).port]);
    try {
      await waitUntil(() => allDone(second.url, token, "wipe", ids.length), 40_000, "every wipe to finish");
      const db = new Database(join(data, "allot.db"), { readonly: true });
      const log = db.prepare("SELECT work_id, COUNT(*) AS n FROM work_log GROUP BY work_id").all() as { work_id: string; n: number }[];
      const left = (db.prepare("SELECT COUNT(*) AS n FROM pending_work").get() as { n: number }).n;
      db.close();
      assert.equal(log.length, ids.length, "one work item per wipe");
      assert.ok(log.every((r) => r.n === 2), "each wipe's two queued steps were applied exactly once");
      assert.equal(left, 0);
    } finally {
      second.child.kill("SIGTERM");
      await exited(second.child);
    }
  });

  it("kill -9 while Autopilot assignments are reconciling: after a restart every device is assignedInSync, once", async () => {
    const data = join(dir, "autopilot");
    const first = await serve(["--data", data, "--lifecycle", "0.3s"]);
    const token = await tokenFor(first.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    for (let i = 0; i < 40; i++) {
      const res = await graph(first.url, token, "POST", "/_allot/devices", { deviceName: `DUR-AP-${i}`, autopilot: { groupTag: "Microsoft365Managed_Standard" } });
      assert.equal(res.status, 201);
    }
    const profile = await graph(first.url, token, "POST", "/beta/deviceManagement/windowsAutopilotDeploymentProfiles", { "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile", displayName: "Durable" });
    const assigned = await graph(first.url, token, "POST", `/beta/deviceManagement/windowsAutopilotDeploymentProfiles/${profile.body.id}/assignments`, {
      target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "a110c0de-0000-4000-8000-000000000501" },
    });
    assert.equal(assigned.status, 201);
    await kill9(first.child);

    const second = await serve(["--data", data, "--lifecycle", "0.05s", "--port", new URL(first.url).port]);
    try {
      const inSync = async () => {
        const res = await graph(second.url, token, "GET", `/beta/deviceManagement/windowsAutopilotDeviceIdentities?$count=true&$top=1&$filter=${encodeURIComponent("deploymentProfileAssignmentStatus eq 'assignedInSync'")}`);
        return res.body["@odata.count"] === 40;
      };
      await waitUntil(inSync, 40_000, "every device to be assignedInSync");
      const db = new Database(join(data, "allot.db"), { readonly: true });
      const rows = db.prepare("SELECT subject_id, COUNT(*) AS n FROM work_log WHERE kind = 'autopilotSync' GROUP BY subject_id").all() as { n: number }[];
      db.close();
      assert.equal(rows.length, 40);
      assert.ok(rows.every((r) => r.n === 1), "each device's assignment was finalized exactly once");
    } finally {
      second.child.kill("SIGTERM");
      await exited(second.child);
    }
  });

  it("two processes on one PostgreSQL database share the work; a kill -9 of one leaves the rest to the other", async (t) => {
    if (!(await postgresAvailable())) return t.skip("PostgreSQL is not reachable");
    const schema = `allot_test_dur_${Date.now().toString(36)}`;
    // Processes of one installation share its issuer URL, so a token of one is valid at the other.
    // 240 device actions by one app within seconds would be throttled as Intune does: not what this test is about.
    const common = ["--database-url", POSTGRES_URL, "--database-schema", schema, "--lifecycle", "0.05s", "--public-url", "http://allot.example", "--throttle", "off"];
    const a = await serve(common);
    const b = await serve(common);
    try {
      const token = await tokenFor(a.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
      const ids = await enrollMany(a.url, token, 120);
      await Promise.all(ids.map((id, i) => graph(i % 2 ? a.url : b.url, token, "POST", `/beta/deviceManagement/managedDevices/${id}/syncDevice`, {})));
      await waitUntil(() => allDone(b.url, token, "syncDevice", ids.length), 30_000, "every sync to finish");
      await Promise.all(ids.map((id) => graph(b.url, token, "POST", `/beta/deviceManagement/managedDevices/${id}/wipe`, {})));
      await kill9(a.child);
      await waitUntil(() => allDone(b.url, token, "wipe", ids.length), 40_000, "every wipe to finish after one process died");
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT kind, step, COUNT(*)::int AS n, COUNT(DISTINCT work_id)::int AS items FROM ${schema}.work_log GROUP BY kind, step ORDER BY kind, step`);
        assert.deepEqual(rows, [
          { kind: "deviceAction", step: 1, n: ids.length * 2, items: ids.length * 2 },
          { kind: "deviceAction", step: 2, n: ids.length, items: ids.length },
        ]);
        const pending = await client.query(`SELECT COUNT(*)::int AS n FROM ${schema}.pending_work`);
        assert.equal(pending.rows[0].n, 0);
      } finally {
        await client.end();
      }
    } finally {
      for (const p of [a, b]) {
        if (p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill("SIGTERM");
          await exited(p.child);
        }
      }
      await dropPostgresSchema(schema);
    }
  });
});
