// Scope-wide Autopilot changes on both backends: every device the change reaches is pending before the answer
// (its intended profile right while pending), the reconciler settles them in batches, a device whose choice the
// change does not alter returns to the state it had, and read-timed lifecycles count reads of the identities.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SETTLE_BATCH, SETTLE_LANES } from "../../src/graph/autopilot/autopilotAssignments.js";
import { backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const PROFILES = "/deviceManagement/windowsAutopilotDeploymentProfiles";
const IDENTITIES = "/deviceManagement/windowsAutopilotDeviceIdentities";
const STANDARD_GROUP = "a110c0de-0000-4000-8000-000000000501";
const AAD = "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile";
const group = (groupId: string) => ({ target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId } });

let n = 0;
async function createProfile(s: TestServer) {
  const res = await s.call("POST", PROFILES, { "@odata.type": AAD, displayName: `Bulk ${++n}` });
  assert.equal(res.status, 201);
  await new Promise((r) => setTimeout(r, 5));
  return res.body.id as string;
}
const countWith = async (s: TestServer, status: string) =>
  (await s.call("GET", `${IDENTITIES}?$count=true&$top=1&$filter=${encodeURIComponent(`deploymentProfileAssignmentStatus eq '${status}'`)}`)).body["@odata.count"] as number;
async function until(check: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const backend of await backendsToTest()) {
  describe(`Autopilot scope-wide changes (${backend})`, () => {
    it("an assignment to a group of thousands of devices: all pending before the 201 (intended profile right), then settled in batches", async () => {
      // Long enough that nothing settles before the counts right after the answer are read.
      const s = await startTestServer(backend, { lifecycle: "3s" });
      try {
        const fleet = await s.call("POST", "/_allot/fleet", { devices: 9000, groups: 24, autopilot: true, seed: "bulk-test" });
        assert.equal(fleet.status, 201, fleet.text);
        const total = fleet.body.autopilotDevices as number;
        assert.ok(total > 4000, `more than two batches of 2,000 (${total})`);
        const groups = (await s.call("GET", `/groups?$filter=${encodeURIComponent("displayName eq 'FLT00022 - All Autopilot devices'")}`)).body.value;
        const profile = await createProfile(s);
        assert.equal((await s.call("POST", `${PROFILES}/${profile}/assignments`, group(groups[0].id))).status, 201);
        assert.equal(await countWith(s, "notAssigned"), 0, "no device still reads notAssigned after the answer");
        assert.equal(await countWith(s, "pending"), total, "every device the group reaches is pending before its step is due");
        const someone = (await s.call("GET", `${IDENTITIES}?$top=1&$select=id`)).body.value[0].id;
        assert.equal((await s.call("GET", `${IDENTITIES}/${someone}/intendedDeploymentProfile?$select=id`)).body.id, profile, "the intended profile is right while pending");
        await until(async () => (await countWith(s, "assignedInSync")) === total, 60_000, "every device in sync");
        assert.equal((await s.call("GET", `${PROFILES}/${profile}/assignedDevices/$count`)).text, String(total));
      } finally {
        await s.close();
      }
    });

    it("a group reaching part of a tenant larger than one settling step: `eq` on the status agrees with the overlay, only the group settles", async () => {
      const s = await startTestServer(backend, { lifecycle: "2s" });
      try {
        const fleet = await s.call("POST", "/_allot/fleet", { devices: 11000, groups: 24, autopilot: true, seed: "bulk-partial" });
        assert.equal(fleet.status, 201, fleet.text);
        const total = fleet.body.autopilotDevices as number;
        assert.ok(total > 5000, `more identities than one step settles (${total})`);
        const groups = (await s.call("GET", `/groups?$filter=${encodeURIComponent("displayName eq 'FLT00010 - Autopilot - Sensitive data'")}`)).body.value;
        const profile = await createProfile(s);
        assert.equal((await s.call("POST", `${PROFILES}/${profile}/assignments`, group(groups[0].id))).status, 201);
        // `eq` is written as a test of the stored column; `not (… ne …)` still reads the overlay expression itself.
        const countWhere = async (filter: string) =>
          (await s.call("GET", `${IDENTITIES}?$count=true&$top=1&$filter=${encodeURIComponent(filter)}`)).body["@odata.count"] as number;
        const during: Record<string, number> = {};
        for (const status of ["pending", "notAssigned", "assignedInSync"]) {
          during[status] = await countWith(s, status);
          assert.equal(during[status], await countWhere(`not (deploymentProfileAssignmentStatus ne '${status}')`), `eq '${status}' agrees with the overlay`);
        }
        assert.equal(await countWhere("deploymentProfileAssignmentStatus in ('pending', 'notAssigned')"), during.pending + during.notAssigned);
        assert.equal(during.pending + during.notAssigned + during.assignedInSync, total);
        assert.ok(during.pending > 0 && during.notAssigned > 0, `the group reaches part of the tenant (${during.pending} of ${total})`);
        await until(async () => (await countWith(s, "pending")) === 0, 60_000, "settled");
        assert.equal(await countWith(s, "assignedInSync"), during.pending, "every device the group reached is in sync");
        assert.equal(await countWith(s, "notAssigned"), during.notAssigned, "no other device changed");
      } finally {
        await s.close();
      }
    });

    it("a scope larger than one step settles in lanes after its first step: every device once, no lane or scope row left", async () => {
      const s = await startTestServer(backend, { lifecycle: "0s" });
      try {
        const one = async (sql: string) => Number((await s.allot.db.all(sql))[0].n);
        const fleet = await s.call("POST", "/_allot/fleet", { devices: 30000, groups: 24, autopilot: true, seed: "bulk-lanes" });
        assert.equal(fleet.status, 201, fleet.text);
        const total = fleet.body.autopilotDevices as number;
        assert.ok(total > 2 * SETTLE_BATCH, `more identities than two steps settle (${total})`);
        const groups = (await s.call("GET", `/groups?$filter=${encodeURIComponent("displayName eq 'FLT00022 - All Autopilot devices'")}`)).body.value;
        const profile = await createProfile(s);
        assert.equal((await s.call("POST", `${PROFILES}/${profile}/assignments`, group(groups[0].id))).status, 201);
        await until(async () => (await countWith(s, "assignedInSync")) === total, 120_000, "every device in sync");
        await s.allot.reconciler.settle();
        const log = "FROM work_log WHERE kind = 'autopilotSync'";
        assert.equal(await one(`SELECT COUNT(*) AS n ${log}`), total, "one work_log entry per device");
        assert.equal(await one(`SELECT COUNT(DISTINCT subject_id) AS n ${log}`), total, "every device logged");
        // The first step is the scope item's own (keyed by its id), the rest its lanes' (`{id}/{lane}`).
        const [{ first }] = await s.allot.db.all(`SELECT MIN(work_id) AS first ${log} AND work_id NOT LIKE '%/%'`);
        const scopeItem = String(first).split(":")[0];
        assert.equal(await one(`SELECT COUNT(*) AS n ${log} AND work_id LIKE '${scopeItem}:%'`), SETTLE_BATCH, "the scope item settles one step");
        for (let lane = 1; lane <= SETTLE_LANES; lane++) {
          const settled = await one(`SELECT COUNT(*) AS n ${log} AND work_id LIKE '${scopeItem}/${lane}:%'`);
          assert.ok(settled > SETTLE_BATCH / 2, `lane ${lane} settled its share (${settled} of ${total})`);
        }
        assert.equal(await one("SELECT COUNT(*) AS n FROM autopilot_scopes"), 0, "the last lane drops the scope");
        assert.equal(await one(`SELECT COUNT(*) AS n FROM pending_work WHERE kind = 'autopilotEvaluation'`), 0, "no lane left");
        assert.equal((await s.call("GET", `${PROFILES}/${profile}/assignedDevices/$count`)).text, String(total));
      } finally {
        await s.close();
      }
    });

    it("a device whose choice the change does not alter returns to its state, assigned time unchanged", async () => {
      const s = await startTestServer(backend, { lifecycle: "0.3s" });
      try {
        const dev = (await s.call("POST", "/_allot/devices", { serialNumber: `BULK-${++n}`, autopilot: { groupTag: "Microsoft365Managed_Standard" } })).body;
        const older = await createProfile(s);
        const newer = await createProfile(s);
        await s.call("POST", `${PROFILES}/${older}/assignments`, group(STANDARD_GROUP));
        await until(async () => (await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`)).body.deploymentProfileAssignmentStatus === "assignedInSync", 10_000, "first sync");
        const settled = (await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`)).body;

        await s.call("POST", `${PROFILES}/${newer}/assignments`, group(STANDARD_GROUP));
        const during = (await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`)).body;
        assert.equal(during.deploymentProfileAssignmentStatus, "pending", "the device the change reaches is pending");
        assert.equal((await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}/intendedDeploymentProfile?$select=id`)).body.id, older, "the oldest profile still wins");
        await until(async () => (await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`)).body.deploymentProfileAssignmentStatus !== "pending", 10_000, "settling");
        const after = (await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`)).body;
        assert.deepEqual(
          [after.deploymentProfileAssignmentStatus, after.deploymentProfileAssignedDateTime, (await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}/deploymentProfile?$select=id`)).body.id],
          ["assignedInSync", settled.deploymentProfileAssignedDateTime, older],
        );
      } finally {
        await s.close();
      }
    });

    it("changes supersede in order: a newer direct assign takes a device over from a scope, a newer scope from an assign; each device settles once", async () => {
      const s = await startTestServer(backend, { lifecycle: "0.6s" });
      try {
        const logged = async (id: string) =>
          Number((await s.allot.db.all(`SELECT COUNT(*) AS n FROM work_log WHERE kind = 'autopilotSync' AND subject_id = ${s.allot.db.dialect.param(1)}`, [id]))[0].n);
        const status = async (id: string) => (await s.call("GET", `${IDENTITIES}/${id}`)).body.deploymentProfileAssignmentStatus as string;
        const profileOf = async (id: string) => (await s.call("GET", `${IDENTITIES}/${id}/deploymentProfile?$select=id`)).body.id as string | undefined;
        const a = (await s.call("POST", "/_allot/devices", { serialNumber: `SUP-${++n}`, autopilot: { groupTag: "Microsoft365Managed_Standard" } })).body.autopilotDeviceId as string;
        const b = (await s.call("POST", "/_allot/devices", { serialNumber: `SUP-${++n}`, autopilot: { groupTag: "Microsoft365Managed_Standard" } })).body.autopilotDeviceId as string;
        const direct = await createProfile(s); // oldest: a direct assign of it wins over the group's profile
        const grouped = await createProfile(s);
        const directAssign = (id: string) => s.call("POST", `${PROFILES}/${direct}/assign`, { deviceIds: [id] });

        // Device a: the scope first, then a direct assign while the scope is outstanding.
        // Device b: a direct assign first, then the scope while b is still pending.
        assert.equal((await directAssign(b)).status, 204);
        assert.equal((await s.call("POST", `${PROFILES}/${grouped}/assignments`, group(STANDARD_GROUP))).status, 201);
        assert.equal((await directAssign(a)).status, 204);
        assert.deepEqual([await status(a), await status(b)], ["pending", "pending"]);
        for (const id of [a, b]) {
          assert.equal((await s.call("GET", `${IDENTITIES}/${id}/intendedDeploymentProfile?$select=id`)).body.id, direct, "the direct assign of the oldest profile wins");
        }
        assert.equal((await s.call("GET", `${IDENTITIES}?$count=true&$top=0&$filter=${encodeURIComponent("deploymentProfileAssignmentStatus eq 'pending'")}`)).body["@odata.count"], 2);
        await until(async () => (await status(a)) !== "pending" && (await status(b)) !== "pending", 15_000, "settling");
        await s.allot.reconciler.settle();
        for (const id of [a, b]) {
          assert.deepEqual([await status(id), await profileOf(id), await logged(id)], ["assignedInSync", direct, 1], `device ${id === a ? "a" : "b"}`);
        }
        const [{ n: outstanding }] = await s.allot.db.all("SELECT COUNT(*) AS n FROM autopilot_scopes");
        assert.equal(Number(outstanding), 0, "the scope is dropped once settled");
      } finally {
        await s.close();
      }
    });
  });
}

describe("Autopilot scope-wide changes on a read-timed lifecycle", () => {
  it("reads of the identities count down the evaluation of a scope-wide change ('2reads')", async () => {
    const s = await startTestServer("sqlite", { lifecycle: "2reads" });
    try {
      const dev = (await s.call("POST", "/_allot/devices", { serialNumber: `BULK-${++n}`, autopilot: { groupTag: "Microsoft365Managed_Standard" } })).body;
      const profile = await createProfile(s);
      await s.call("POST", `${PROFILES}/${profile}/assignments`, group(STANDARD_GROUP));
      const read = async () => (await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`)).body.deploymentProfileAssignmentStatus;
      assert.equal(await read(), "pending", "the first read leaves one to go");
      assert.equal(await read(), "assignedInSync", "the second read settles the change");
    } finally {
      await s.close();
    }
  });
});
