// Time control over real HTTP on both backends: /_allot/time reads, freezes, sets, advances and unfreezes the
// one clock; an advance runs the lifecycle steps that come due on the way (a wipe, an Autopilot assignment), each
// at the instant it was due; timestamps written while frozen are the frozen instant; /_allot/lifecycles gives
// each lifecycle its own timing (immediate, after N seconds, after N reads).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const ADMIN = { "x-allot-admin-key": "allot-dev-admin-key" };
const MD = "/deviceManagement/managedDevices";
const PROFILES = "/deviceManagement/windowsAutopilotDeploymentProfiles";
const IDENTITIES = "/deviceManagement/windowsAutopilotDeviceIdentities";
const FROZEN_AT = "2031-05-04T03:02:01.000Z";

const time = async (s: TestServer, body: unknown) => {
  const res = await s.call("POST", "/_allot/time", body, ADMIN);
  assert.equal(res.status, 200, res.text);
  return res.body as { now: string; frozen: boolean; offsetSeconds: number; stepsApplied: number };
};

async function enroll(s: TestServer, body: Record<string, unknown> = {}) {
  const res = await s.call("POST", "/_allot/devices", body);
  assert.equal(res.status, 201, res.text);
  return res.body as { managedDeviceId: string; autopilotDeviceId?: string };
}

async function assignProfile(s: TestServer, autopilotDeviceId: string) {
  const profile = await s.call("POST", PROFILES, { "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile", displayName: `timed ${Date.now()}` });
  assert.equal(profile.status, 201, profile.text);
  assert.equal((await s.call("POST", `${PROFILES}/${profile.body.id}/assign`, { deviceIds: [autopilotDeviceId] })).status, 204);
  return profile.body.id as string;
}

const identityStatus = async (s: TestServer, id: string) => (await s.call("GET", `${IDENTITIES}/${id}?$select=deploymentProfileAssignmentStatus`)).body.deploymentProfileAssignmentStatus;

for (const backend of await backendsToTest()) {
  describe(`time control (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      // One real second per step: without time control nothing below would finish within the test.
      s = await startTestServer(backend, { lifecycle: "30s" });
    });
    after(() => s?.close());

    it("GET reads the clock; freezing at a set instant makes it stand still, and timestamps written meanwhile are that instant", async () => {
      const running = (await s.call("GET", "/_allot/time", undefined, ADMIN)).body;
      assert.equal(running.frozen, false);
      assert.ok(Math.abs(Date.parse(running.now) - Date.now()) < 5000);
      const frozen = await time(s, { set: FROZEN_AT, freeze: true });
      assert.deepEqual([frozen.now, frozen.frozen], [FROZEN_AT, true]);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await s.call("GET", "/_allot/time", undefined, ADMIN)).body.now, FROZEN_AT);
      const profile = await s.call("POST", PROFILES, { "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile", displayName: "frozen" });
      assert.equal(Date.parse(profile.body.createdDateTime), Date.parse(FROZEN_AT));
      assert.equal(Date.parse(profile.body.lastModifiedDateTime), Date.parse(FROZEN_AT));
      const audit = (await s.call("GET", `/deviceManagement/auditEvents?$filter=activityDateTime ge ${FROZEN_AT}`)).body.value;
      assert.ok(audit.length >= 1 && audit.every((e: any) => Date.parse(e.activityDateTime) === Date.parse(FROZEN_AT)), "audit events carry the frozen instant");
    });

    it("freeze + advance drives a wipe to done at once, each step at the instant it was due", async () => {
      await time(s, { set: FROZEN_AT, freeze: true });
      const { managedDeviceId } = await enroll(s);
      assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/wipe`, { keepEnrollmentData: false })).status, 204);
      const pending = (await s.call("GET", `${MD}/${managedDeviceId}?$select=managementState,deviceActionResults`)).body;
      assert.deepEqual([pending.managementState, pending.deviceActionResults[0].actionState], ["wipePending", "pending"]);
      const advanced = await time(s, { advance: "PT10M" });
      assert.equal(advanced.now, new Date(Date.parse(FROZEN_AT) + 600_000).toISOString());
      assert.ok(advanced.stepsApplied >= 2, `${advanced.stepsApplied} steps applied`);
      const done = (await s.call("GET", `${MD}/${managedDeviceId}?$select=managementState,deviceActionResults`)).body;
      assert.deepEqual([done.managementState, done.deviceActionResults[0].actionState], ["managed", "done"]);
      // Two 30-second steps: the last one happened 60 s after the wipe, not at the end of the jump.
      assert.equal(Date.parse(done.deviceActionResults[0].lastUpdatedDateTime), Date.parse(FROZEN_AT) + 60_000);
      assert.equal(Date.parse(done.deviceActionResults[0].startDateTime), Date.parse(FROZEN_AT));
    });

    it("freeze + advance (in seconds) drives an Autopilot profile assignment to assignedInSync", async () => {
      await time(s, { freeze: true });
      const device = await enroll(s, { autopilot: { groupTag: `timed-${Date.now()}` } });
      await assignProfile(s, device.autopilotDeviceId!);
      assert.equal(await identityStatus(s, device.autopilotDeviceId!), "pending");
      await time(s, { advance: 29 });
      assert.equal(await identityStatus(s, device.autopilotDeviceId!), "pending", "not due yet after 29 of 30 seconds");
      await time(s, { advance: 1 });
      assert.equal(await identityStatus(s, device.autopilotDeviceId!), "assignedInSync");
    });

    it("freeze + advance finishes an MMD reassignment with wipe: the reassignment, then the wipe it started", async () => {
      await time(s, { freeze: true });
      const mmd = await s.call("POST", "/_allot/tokens", { tenant: DEMO_TENANT_ID, roles: ["MmdSupport.ReadWrite"], audience: "mmd" }, ADMIN);
      const name = `MMD-T${Date.now() % 100000}`;
      const device = await s.call("POST", "/_allot/devices", { deviceName: name, autopilot: { groupTag: "Microsoft365Managed_Standard" } });
      const mmdCall = (method: string, path: string, body?: unknown) =>
        fetch(`${s.url}/support/odata/v1/tenants/${DEMO_TENANT_ID}${path}`, {
          method,
          headers: { authorization: `Bearer ${mmd.body.access_token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      assert.equal((await mmdCall("PATCH", "/profiles/reassignProfile?persona=SensitiveData&wipe=true", [device.body.azureADDeviceId])).status, 200);
      assert.equal(((await (await mmdCall("GET", `/devices/${name}`)).json()) as any).profileAssignmentStatus, "InProgress");
      const advanced = await time(s, { advance: "PT5M" });
      // The server's own reconciler loop may claim some of the steps the advance makes due, so the count is only a
      // lower bound; the states read right after the answer show that all three happened before it.
      assert.ok(advanced.stepsApplied >= 1, `${advanced.stepsApplied} steps applied by the advance`);
      const moved = (await (await mmdCall("GET", `/devices/${name}`)).json()) as any;
      assert.deepEqual([moved.persona, moved.profileAssignmentStatus], ["SensitiveData", "Successful"]);
      const wiped = (await s.call("GET", `${MD}/${device.body.managedDeviceId}?$select=deviceActionResults`)).body;
      assert.equal(wiped.deviceActionResults[0].actionState, "done");
    });

    it("MMD: devices of a pending reassignment read InProgress (get and list); a newer reassignment of a device wins, with one event", async () => {
      await time(s, { freeze: true });
      const mmd = await s.call("POST", "/_allot/tokens", { tenant: DEMO_TENANT_ID, roles: ["MmdSupport.ReadWrite"], audience: "mmd" }, ADMIN);
      const name = `MMD-N${Date.now() % 100000}`;
      const device = await s.call("POST", "/_allot/devices", { deviceName: name, autopilot: { groupTag: "Microsoft365Managed_Standard" } });
      const mmdCall = async (method: string, path: string, body?: unknown) =>
        (await fetch(`${s.url}/support/odata/v1/tenants/${DEMO_TENANT_ID}${path}`, {
          method,
          headers: { authorization: `Bearer ${mmd.body.access_token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        })) as Response;
      const listed = async () => ((await (await mmdCall("GET", `/devices?$searchText=${name}`)).json()) as any).value.map((d: any) => [d.persona, d.profileAssignmentStatus]);
      assert.deepEqual(await listed(), [["Standard", "Successful"]], "before");
      assert.equal((await mmdCall("PATCH", "/profiles/reassignProfile?persona=SensitiveData&wipe=false", [device.body.azureADDeviceId])).status, 200);
      assert.equal((await mmdCall("PATCH", "/profiles/reassignProfile?persona=PowerUser&wipe=false", [device.body.azureADDeviceId])).status, 200);
      assert.deepEqual(await listed(), [["Standard", "InProgress"]], "InProgress while pending, in the list too");
      assert.equal(((await (await mmdCall("GET", `/devices/${name}`)).json()) as any).profileAssignmentStatus, "InProgress");
      await time(s, { advance: "PT5M" });
      assert.deepEqual(await listed(), [["PowerUser", "Successful"]], "the newer reassignment won");
      const identity = (await s.call("GET", `/deviceManagement/windowsAutopilotDeviceIdentities/${device.body.autopilotDeviceId}`)).body;
      assert.equal(identity.groupTag, "Microsoft365Managed_PowerUser");
      const audit = (await s.call("GET", `/deviceManagement/auditEvents?$filter=${encodeURIComponent("activityType eq 'reassignProfile'")}`)).body.value;
      assert.equal(audit.filter((e: any) => e.resources[0].resourceId === device.body.managedDeviceId).length, 1, "the older job skipped the device");
    });

    it("each lifecycle takes its own timing at run time: immediate, after N reads, after N seconds; null follows the default again", async () => {
      await time(s, { freeze: true });
      const set = await s.call("PUT", "/_allot/lifecycles", { lifecycles: { deviceAction: "immediate", autopilotSync: "2reads" } }, ADMIN);
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(set.body, { default: "30s", lifecycles: { deviceAction: "immediate", autopilotSync: "2reads", mmdReassign: "30s", configurationCheckIn: "30s", changeAssignments: "30s" } });
      try {
        const { managedDeviceId } = await enroll(s);
        assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/wipe`, {})).status, 204);
        const wiped = (await s.call("GET", `${MD}/${managedDeviceId}?$select=deviceActionResults`)).body;
        assert.equal(wiped.deviceActionResults[0].actionState, "done", "immediate: done before the 204");

        const device = await enroll(s, { autopilot: { groupTag: `reads-${Date.now()}` } });
        await assignProfile(s, device.autopilotDeviceId!);
        assert.equal(await identityStatus(s, device.autopilotDeviceId!), "pending", "first read");
        assert.equal(await identityStatus(s, device.autopilotDeviceId!), "assignedInSync", "the second read makes the step due");

        await s.call("PUT", "/_allot/lifecycles", { lifecycles: { deviceAction: null } }, ADMIN);
        assert.equal((await s.call("GET", "/_allot/lifecycles", undefined, ADMIN)).body.lifecycles.deviceAction, "30s");
        const again = await enroll(s);
        await s.call("POST", `${MD}/${again.managedDeviceId}/wipe`, {});
        assert.equal((await s.call("GET", `${MD}/${again.managedDeviceId}?$select=deviceActionResults`)).body.deviceActionResults[0].actionState, "pending");
      } finally {
        await s.call("PUT", "/_allot/lifecycles", { lifecycles: { deviceAction: null, autopilotSync: null } }, ADMIN);
      }
      for (const bad of [{ lifecycles: { printing: "1s" } }, { default: "soon" }, { lifecycles: { deviceAction: 3 } }, { colour: 1 }]) {
        assert.equal((await s.call("PUT", "/_allot/lifecycles", bad, ADMIN)).status, 400, JSON.stringify(bad));
      }
    });

    it("unfreezing continues from the frozen instant; reset returns to real time; bad controls are 400, no admin key 403", async () => {
      await time(s, { set: FROZEN_AT, freeze: true });
      const running = await time(s, { unfreeze: true });
      assert.equal(running.frozen, false);
      await new Promise((r) => setTimeout(r, 100));
      const later = Date.parse((await s.call("GET", "/_allot/time", undefined, ADMIN)).body.now);
      assert.ok(later > Date.parse(FROZEN_AT) && later < Date.parse(FROZEN_AT) + 5000, "the clock runs on from the frozen instant");
      const real = await time(s, { reset: true });
      assert.equal(real.frozen, false);
      assert.ok(Math.abs(Date.parse(real.now) - Date.now()) < 1000);
      for (const bad of [{ advance: "10 minutes" }, { advance: -5 }, { set: "tomorrow" }, { freeze: true, unfreeze: true }, { rewind: 1 }, { freeze: "yes" }]) {
        const res = await s.call("POST", "/_allot/time", bad, ADMIN);
        assert.equal(res.status, 400, JSON.stringify(bad));
      }
      assert.equal((await s.call("POST", "/_allot/time", { freeze: true })).status, 403);
      assert.equal((await s.call("GET", "/_allot/time")).status, 403);
    });
  });
}
