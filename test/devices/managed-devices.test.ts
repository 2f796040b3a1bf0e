// Managed devices over HTTP on both backends: enrollment and its three linked faces, list/get with query
// options, the comanagedDevices alias, and the wipe/retire/syncDevice lifecycles on each timing mode.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const MD = "/deviceManagement/managedDevices";

async function enroll(s: TestServer, body: Record<string, unknown> = {}) {
  const res = await s.call("POST", "/_allot/devices", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { managedDeviceId: string; azureADDeviceId: string; entraObjectId: string; autopilotDeviceId?: string };
}

async function mint(s: TestServer, body: Record<string, unknown>) {
  const res = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify({ tenant: DEMO_TENANT_ID, ...body }) });
  return (await res.json()).access_token as string;
}

const results = async (s: TestServer, id: string) => (await s.call("GET", `${MD}/${id}?$select=managementState,deviceActionResults,lastSyncDateTime`)).body;

for (const backend of await backendsToTest()) {
  describe(`managed devices (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { lifecycle: "0.3s" });
    });
    after(() => s.close());

    it("enrollment creates the managed device, its Entra device and its Autopilot identity, linked", async () => {
      const ids = await enroll(s, { deviceName: "ENROLL-1", serialNumber: "SN-0001", userPrincipalName: "adele@allotdemo.onmicrosoft.com", model: "Surface Pro 9", autopilot: { groupTag: "Microsoft365Managed_Standard" } });
      const managed = (await s.call("GET", `${MD}/${ids.managedDeviceId}`)).body;
      assert.equal(managed["@odata.type"], "#microsoft.graph.windowsManagedDevice");
      assert.deepEqual([managed.deviceName, managed.serialNumber, managed.azureADDeviceId, managed.userDisplayName, managed.autopilotEnrolled], ["ENROLL-1", "SN-0001", ids.azureADDeviceId, "Adele Vance", true]);
      assert.equal(managed.userId, "a110c0de-0000-4000-8000-000000000101");
      const entra = (await s.call("GET", `/devices/${ids.entraObjectId}`)).body;
      assert.equal(entra.deviceId, ids.azureADDeviceId);
      assert.ok(entra.devicePhysicalIds.includes("[OrderID]:Microsoft365Managed_Standard"));
      assert.ok(entra.devicePhysicalIds.includes(`[ZTDId]:${ids.autopilotDeviceId}`));
      const byDeviceId = (await s.call("GET", `/devices?$filter=deviceId eq '${ids.azureADDeviceId}'`)).body.value;
      assert.deepEqual(byDeviceId.map((d: any) => d.id), [ids.entraObjectId]);
      const identity = (await s.call("GET", `/deviceManagement/windowsAutopilotDeviceIdentities/${ids.autopilotDeviceId}`)).body;
      assert.deepEqual([identity.serialNumber, identity.managedDeviceId, identity.azureAdDeviceId, identity.groupTag], ["SN-0001", ids.managedDeviceId, ids.azureADDeviceId, "Microsoft365Managed_Standard"]);
      const members = (await s.call("GET", "/groups/a110c0de-0000-4000-8000-000000000501/members?$select=id")).body.value.map((m: any) => m.id);
      assert.ok(members.includes(ids.entraObjectId), "the dynamic group of the tag picks the device up");
    });

    it("enrollment without autopilot fills realistic defaults", async () => {
      const ids = await enroll(s, {});
      assert.equal(ids.autopilotDeviceId, undefined);
      const d = (await s.call("GET", `${MD}/${ids.managedDeviceId}`)).body;
      assert.match(d.deviceName, /^DESKTOP-[A-Z0-9]{7}$/);
      assert.deepEqual([d.operatingSystem, d.managementState, d.complianceState, d.managedDeviceOwnerType, d.joinType], ["Windows", "managed", "compliant", "company", "azureADJoined"]);
      assert.ok(Date.parse(d.enrolledDateTime) > Date.now() - 60_000);
    });

    it("bad enrollment input is 400 and creates nothing; without permission it is 403", async () => {
      const before = [(await s.call("GET", `${MD}/$count`)).text, (await s.call("GET", "/devices/$count")).text];
      for (const body of [{ nope: 1 }, { deviceName: 5 }, { managementState: "sideways" }, { userPrincipalName: "nobody@allotdemo.onmicrosoft.com" }, { autopilot: "yes" }, { autopilot: { groupTag: 7 } }, [1]]) {
        const res = await s.call("POST", "/_allot/devices", body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok(res.body.error.message);
      }
      const reader = await mint(s, { roles: ["DeviceManagementManagedDevices.Read.All"] });
      assert.equal((await s.call("POST", "/_allot/devices", {}, { authorization: `Bearer ${reader}` })).status, 403);
      assert.deepEqual([(await s.call("GET", `${MD}/$count`)).text, (await s.call("GET", "/devices/$count")).text], before);
    });

    it("list with $filter, $select, $orderby, $count and server-driven paging", async () => {
      for (let i = 0; i < 12; i++) await enroll(s, { deviceName: `FLT-${String(i).padStart(2, "0")}`, operatingSystem: i % 3 ? "Windows" : "iOS", osVersion: i % 3 ? "10.0.22631.1" : "17.5" });
      const ios = (await s.call("GET", `${MD}?$filter=${encodeURIComponent("startswith(deviceName,'FLT-') and operatingSystem eq 'iOS'")}&$select=deviceName&$orderby=deviceName desc&$count=true`)).body;
      assert.equal(ios["@odata.count"], 4);
      assert.deepEqual(ios.value.map((d: any) => d.deviceName), ["FLT-09", "FLT-06", "FLT-03", "FLT-00"]);
      let url: string | undefined = `${MD}?$filter=${encodeURIComponent("startswith(deviceName,'FLT-')")}&$top=5`;
      const names: string[] = [];
      while (url) {
        const page: any = (await s.call("GET", url)).body;
        names.push(...page.value.map((d: any) => d.deviceName));
        url = page["@odata.nextLink"];
      }
      assert.deepEqual(names, Array.from({ length: 12 }, (_, i) => `FLT-${String(i).padStart(2, "0")}`));
      const filtered = (await s.call("GET", `${MD}?$filter=${encodeURIComponent("complianceState eq 'compliant' and enrolledDateTime gt 2020-01-01T00:00:00Z")}&$count=true&$top=1`)).body;
      assert.ok(filtered["@odata.count"] >= 12);
      assert.equal((await s.call("GET", `${MD}?$filter=${encodeURIComponent("notes eq 'x'")}`)).status, 400, "notes is not filterable");
    });

    it("comanagedDevices serves the same devices", async () => {
      const a = (await s.call("GET", `${MD}?$select=id&$orderby=deviceName`)).body.value;
      const b = (await s.call("GET", `/deviceManagement/comanagedDevices?$select=id&$orderby=deviceName`)).body.value;
      assert.deepEqual(b, a);
      assert.equal((await s.call("GET", `/deviceManagement/comanagedDevices/${a[0].id}`)).body.id, a[0].id);
    });

    it("devices are enrolled, not POSTed; PATCH changes notes and answers 200 with the entity; read-only properties stay", async () => {
      assert.equal((await s.call("POST", MD, { deviceName: "x" })).status, 400);
      const { managedDeviceId } = await enroll(s, { deviceName: "PATCHME" });
      const res = await s.call("PATCH", `${MD}/${managedDeviceId}`, { notes: "asset 42", deviceName: "renamed", managementState: "wipeIssued" });
      assert.equal(res.status, 200);
      assert.deepEqual([res.body.notes, res.body.deviceName, res.body.managementState], ["asset 42", "PATCHME", "managed"]);
    });

    it("wipe moves through pending → active → done on the clock, accepting unknown booleans", async () => {
      const { managedDeviceId } = await enroll(s);
      const res = await s.call("POST", `${MD}/${managedDeviceId}/wipe`, { keepEnrollmentData: true, keepUserData: false, someFutureFlag: true });
      assert.equal(res.status, 204);
      const first = await results(s, managedDeviceId);
      assert.equal(first.managementState, "wipePending");
      assert.deepEqual(first.deviceActionResults.map((r: any) => [r.actionName, r.actionState]), [["wipe", "pending"]]);
      const seen = new Set<string>([first.deviceActionResults[0].actionState]);
      const deadline = Date.now() + 10_000;
      let last = first;
      while (Date.now() < deadline && last.deviceActionResults[0].actionState !== "done") {
        await new Promise((r) => setTimeout(r, 50));
        last = await results(s, managedDeviceId);
        seen.add(last.deviceActionResults[0].actionState);
      }
      assert.deepEqual([...seen], ["pending", "active", "done"]);
      assert.equal(last.managementState, "managed");
      assert.equal(last.lastSyncDateTime, "0001-01-01T00:00:00.000Z", "a reset device has not synced since");
    });

    it("syncDevice and retire record their results", async () => {
      const { managedDeviceId } = await enroll(s);
      assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/syncDevice`)).status, 204);
      assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/retire`)).status, 204);
      const deadline = Date.now() + 10_000;
      let d = await results(s, managedDeviceId);
      while (Date.now() < deadline && !d.deviceActionResults.every((r: any) => r.actionState === "done")) {
        await new Promise((r) => setTimeout(r, 50));
        d = await results(s, managedDeviceId);
      }
      assert.deepEqual(d.deviceActionResults.map((r: any) => [r.actionName, r.actionState]).sort(), [["retire", "done"], ["syncDevice", "done"]]);
      assert.equal(d.managementState, "retireIssued");
      assert.ok(Date.parse(d.lastSyncDateTime) > Date.now() - 60_000);
    });

    it("bad action input, unknown devices, other tenants and missing privilege change nothing", async () => {
      const { managedDeviceId } = await enroll(s);
      assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/wipe`, { keepUserData: "yes" })).status, 400);
      assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/wipe`, "{oops")).status, 400);
      assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/wipe`, { macOsUnlockCode: 5 })).status, 400);
      assert.equal((await s.call("POST", `${MD}/00000000-0000-4000-8000-000000000000/wipe`, {})).status, 404);
      const readWrite = await mint(s, { roles: ["DeviceManagementManagedDevices.ReadWrite.All"] });
      const denied = await s.call("POST", `${MD}/${managedDeviceId}/wipe`, {}, { authorization: `Bearer ${readWrite}` });
      assert.equal(denied.status, 403, "wipe needs DeviceManagementManagedDevices.PrivilegedOperations.All");
      await s.call("POST", "/_allot/seed", { tenants: [{ id: "e0e0e0e0-0000-4000-8000-000000000001" }] }, { "x-allot-admin-key": DEFAULT_ADMIN_KEY });
      const foreign = await mint(s, { tenant: "e0e0e0e0-0000-4000-8000-000000000001", roles: ["DeviceManagementManagedDevices.PrivilegedOperations.All", "DeviceManagementManagedDevices.ReadWrite.All"] });
      assert.equal((await s.call("POST", `${MD}/${managedDeviceId}/wipe`, {}, { authorization: `Bearer ${foreign}` })).status, 404);
      const d = await results(s, managedDeviceId);
      assert.deepEqual([d.managementState, d.deviceActionResults], ["managed", []]);
    });

    it("a wipe is audited with the caller", async () => {
      const { managedDeviceId } = await enroll(s);
      await s.call("POST", `${MD}/${managedDeviceId}/wipe`, {});
      const events = (await s.call("GET", `/deviceManagement/auditEvents?$filter=${encodeURIComponent("activityType eq 'wipe'")}`)).body.value;
      assert.ok(events.some((e: any) => e.resources[0].resourceId === managedDeviceId && e.activityOperationType === "Action" && e.category === "Device"));
    });
  });
}

describe("lifecycle timing modes", () => {
  it("immediate: every step is applied before the 204", async () => {
    const s = await startTestServer("sqlite", { lifecycle: "immediate" });
    try {
      const { managedDeviceId } = await enroll(s);
      await s.call("POST", `${MD}/${managedDeviceId}/wipe`, {});
      const d = await results(s, managedDeviceId);
      assert.deepEqual([d.managementState, d.deviceActionResults[0].actionState], ["managed", "done"]);
    } finally {
      await s.close();
    }
  });

  it("after N reads: each step comes due on the Nth read of the device", async () => {
    const s = await startTestServer("sqlite", { lifecycle: "2reads" });
    try {
      const { managedDeviceId } = await enroll(s);
      await s.call("POST", `${MD}/${managedDeviceId}/wipe`, {});
      const states: string[] = [];
      for (let i = 0; i < 5; i++) states.push((await results(s, managedDeviceId)).deviceActionResults[0].actionState);
      assert.deepEqual(states, ["pending", "active", "active", "done", "done"]);
    } finally {
      await s.close();
    }
  });
});
