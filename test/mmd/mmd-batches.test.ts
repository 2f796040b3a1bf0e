// A reassignment of more devices than one batch holds, on both backends: its batches (on PostgreSQL two at a time,
// src/reconcile/reconciler.ts) move every device exactly once — each Successful with the new persona, one audit
// event each, a member of the persona group, its Autopilot identity and Entra device retagged.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const ROOT = `/support/odata/v1/tenants/${DEMO_TENANT_ID}`;
const DEVICES = 4_500;
const TAG = "Microsoft365Managed_SensitiveData";

for (const backend of await backendsToTest()) {
  describe(`reassignProfile in several batches (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { lifecycle: "0s" });
    });
    after(() => s.close());

    it(`moves ${DEVICES.toLocaleString("en")} devices, each once, in batches of 2,000`, async () => {
      const fleet = await s.call("POST", "/_allot/fleet", { devices: DEVICES, autopilot: true, seed: "mmd-batches" });
      assert.equal(fleet.status, 201, fleet.text);
      const db = s.allot.db;
      const ids = (await db.all<{ id: string }>(`SELECT p_azure_ad_device_id AS id FROM managed_devices WHERE tenant_id = ${db.dialect.param(1)} AND p_azure_ad_device_id IS NOT NULL`, [DEMO_TENANT_ID])).map((r) => r.id);
      assert.ok(ids.length >= DEVICES, `${ids.length} devices`);
      const minted = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify({ tenant: DEMO_TENANT_ID, roles: ["MmdSupport.ReadWrite"], audience: "mmd" }) });
      const mmd = ((await minted.json()) as { access_token: string }).access_token;
      const res = await fetch(`${s.url}${ROOT}/profiles/reassignProfile?persona=SensitiveData&wipe=false`, { method: "PATCH", headers: { authorization: `Bearer ${mmd}`, "content-type": "application/json" }, body: JSON.stringify(ids) });
      assert.equal(res.status, 200, await res.text());

      const one = async (sql: string) => Number((await db.all<{ n: number }>(sql, [DEMO_TENANT_ID]))[0].n);
      const p = db.dialect.param(1);
      for (const end = Date.now() + 120_000; (await one(`SELECT COUNT(*) AS n FROM pending_work WHERE tenant_id = ${p} AND kind = 'mmdReassignBatch'`)) > 0; ) {
        assert.ok(Date.now() < end, "the batches were applied within 2 minutes");
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await one(`SELECT COUNT(*) AS n FROM work_log WHERE tenant_id = ${p} AND kind = 'mmdReassignBatch'`), Math.ceil(ids.length / 2000), "each batch applied once");
      assert.equal(await one(`SELECT COUNT(*) AS n FROM mmd_device_profiles WHERE tenant_id = ${p} AND status = 'Successful' AND persona = 'SensitiveData'`), ids.length);
      const events = await db.all<{ device: string; n: number }>(
        `SELECT ${db.dialect.name === "sqlite" ? "json_extract(doc, '$.resources[0].resourceId')" : "doc->'resources'->0->>'resourceId'"} AS device, COUNT(*) AS n FROM audit_events
         WHERE tenant_id = ${p} AND ${db.dialect.compareText("p_activity_type", "=", "'reassignProfile'")} GROUP BY 1`,
        [DEMO_TENANT_ID],
      );
      assert.equal(events.length, ids.length, "an audit event for every device");
      assert.ok(events.every((e) => Number(e.n) === 1), "exactly one audit event per device");
      const group = await s.call("GET", `/groups?$filter=displayName eq 'Modern Workplace Device Profiles - SensitiveData'`);
      assert.equal(group.body.value.length, 1);
      // Every named device (by its Entra device id) in the group and retagged in both places; others may be too.
      const named = new Set(ids.map((id) => id.toLowerCase()));
      const countNamed = (rows: { device: string }[]) => rows.filter((r) => named.has(String(r.device).toLowerCase())).length;
      const members = await db.all<{ device: string }>(
        `SELECT e.p_device_id AS device FROM group_members g JOIN devices e ON e.tenant_id = g.tenant_id AND e.id = g.member_id WHERE g.tenant_id = ${p} AND g.group_id = ${db.dialect.param(2)}`,
        [DEMO_TENANT_ID, group.body.value[0].id],
      );
      assert.equal(countNamed(members), ids.length, "every device in the persona group");
      const tagged = db.dialect.name === "sqlite" ? `json_extract(doc, '$.groupTag') = '${TAG}'` : `doc->>'groupTag' = '${TAG}'`;
      const identities = await db.all<{ device: string }>(`SELECT p_azure_ad_device_id AS device FROM windows_autopilot_device_identities WHERE tenant_id = ${p} AND ${tagged}`, [DEMO_TENANT_ID]);
      const withIdentity = await db.all<{ device: string }>(`SELECT p_azure_ad_device_id AS device FROM windows_autopilot_device_identities WHERE tenant_id = ${p}`, [DEMO_TENANT_ID]);
      assert.ok(countNamed(withIdentity) > 2000, "many of the fleet's devices have identities");
      assert.equal(countNamed(identities), countNamed(withIdentity), "every identity retagged");
      const entra = db.dialect.name === "sqlite" ? `EXISTS (SELECT 1 FROM json_each(doc, '$.devicePhysicalIds') WHERE value = '[OrderID]:${TAG}')` : `doc->'devicePhysicalIds' ? '[OrderID]:${TAG}'`;
      const retagged = await db.all<{ device: string }>(`SELECT p_device_id AS device FROM devices WHERE tenant_id = ${p} AND ${entra}`, [DEMO_TENANT_ID]);
      assert.equal(countNamed(retagged), ids.length, "every Entra device retagged");
    });
  });
}
