// A kill -9 of the server in the middle of a bulk reassignProfile (issue 8): after the restart every device still
// reaches Successful, exactly once — one reassignProfile audit event per device, each batch applied once.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, tokenFor } from "../support/allotUnderTest.js";
import { kill9, serve, stop, waitUntil } from "../support/servedProcess.js";

const count = (db: Database.Database, sql: string) => (db.prepare(sql).get() as { n: number }).n;

describe("reassignProfile durability", () => {
  const dir = mkdtempSync(join(tmpdir(), "allot-mmd-durability-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("kill -9 while reassigning 5,000 devices: after a restart every device is Successful, with exactly one audit event each", async () => {
    const data = join(dir, "sqlite");
    const file = join(data, "allot.db");
    const first = await serve(["--data", data, "--lifecycle", "0s"]);
    const graph = await tokenFor(first.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    const fleet = await fetch(`${first.url}/_allot/fleet`, { method: "POST", headers: { authorization: `Bearer ${graph}`, "content-type": "application/json" }, body: JSON.stringify({ devices: 5000, autopilot: true, seed: "mmd-durability" }) });
    assert.equal(fleet.status, 201, await fleet.text());
    const minted = await fetch(`${first.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify({ tenant: DEMO_TENANT_ID, roles: ["MmdSupport.ReadWrite"], audience: "mmd" }) });
    const mmd = ((await minted.json()) as { access_token: string }).access_token;

    const peek = new Database(file, { readonly: true });
    const ids = (peek.prepare("SELECT p_azure_ad_device_id AS id FROM managed_devices WHERE p_azure_ad_device_id IS NOT NULL").all() as { id: string }[]).map((r) => r.id);
    assert.ok(ids.length >= 5000, `${ids.length} devices`);
    const res = await fetch(`${first.url}/support/odata/v1/tenants/${DEMO_TENANT_ID}/profiles/reassignProfile?persona=SensitiveData&wipe=false`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${mmd}`, "content-type": "application/json" },
      body: JSON.stringify(ids),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(await res.text(), "Successfully start reassigning devices to profile SensitiveData");
    // The job's record is its batches: every device is named by a pending batch or was already moved by one (one
    // statement, one snapshot, as the reconciler may already be applying them).
    const recorded = count(
      peek,
      `SELECT COUNT(*) AS n FROM managed_devices WHERE id IN (SELECT managed_device_id FROM mmd_device_profiles WHERE status = 'Successful' AND persona = 'SensitiveData')
         OR id IN (SELECT json_extract(d.value, '$[0]') FROM pending_work, json_each(json_extract(pending_work.payload, '$.devices')) AS d WHERE kind = 'mmdReassignBatch')`,
    );
    assert.equal(recorded, ids.length, "every device is InProgress (or already Successful) when the answer comes");

    // Crash as soon as the first batch has committed, so that the others are still to do.
    await waitUntil(async () => count(peek, "SELECT COUNT(*) AS n FROM work_log WHERE kind = 'mmdReassignBatch'") > 0, 60_000, "a first batch", 5);
    await kill9(first.child);
    const leftAtCrash = count(peek, "SELECT COUNT(*) AS n FROM pending_work WHERE kind = 'mmdReassignBatch'");
    peek.close();
    assert.ok(leftAtCrash > 0, "the crash happened while batches were pending");

    const second = await serve(["--data", data, "--lifecycle", "0s", "--port", new URL(first.url).port]);
    try {
      const db = new Database(file, { readonly: true });
      try {
        // Wait while the batches progress, not for a fixed time: on a loaded machine a batch may take seconds (and
        // the crashed process's leases must expire first). Fails only if no batch is applied for 60 s.
        const pending = () => count(db, "SELECT COUNT(*) AS n FROM pending_work WHERE kind = 'mmdReassignBatch'");
        let left = pending();
        let progressAt = Date.now();
        while (left > 0) {
          assert.ok(Date.now() - progressAt < 60_000, `no batch applied for 60 s (${left} pending)`);
          await new Promise((r) => setTimeout(r, 200));
          const now = pending();
          if (now < left) progressAt = Date.now();
          left = now;
        }
        assert.equal(count(db, "SELECT COUNT(*) AS n FROM managed_devices WHERE id IN (SELECT managed_device_id FROM mmd_device_profiles WHERE status = 'Successful' AND persona = 'SensitiveData')"), ids.length);
        const events = db
          .prepare("SELECT json_extract(doc, '$.resources[0].resourceId') AS device, COUNT(*) AS n FROM audit_events WHERE p_activity_type = 'reassignProfile' GROUP BY device")
          .all() as { device: string; n: number }[];
        assert.equal(events.length, ids.length, "an audit event for every device");
        assert.ok(events.every((e) => e.n === 1), "exactly one audit event per device");
        const steps = db.prepare("SELECT work_id, COUNT(*) AS n FROM work_log WHERE kind = 'mmdReassignBatch' GROUP BY work_id").all() as { n: number }[];
        assert.equal(steps.length, Math.ceil(ids.length / 2000), "one work item per batch of 2,000");
        assert.ok(steps.every((s) => s.n === 1), "each batch applied once");
      } finally {
        db.close();
      }
      const device = await fetch(`${second.url}/support/odata/v1/tenants/${DEMO_TENANT_ID}/devices?$top=1`, { headers: { authorization: `Bearer ${mmd}` } });
      const body = (await device.json()) as { value: { profileAssignmentStatus: string; persona: string }[] };
      assert.deepEqual([body.value[0].profileAssignmentStatus, body.value[0].persona], ["Successful", "SensitiveData"], "the MMD view shows it");
    } finally {
      await stop(second.child);
    }
  });
});
