// Device configuration status reports from the resolution engine (spec §3.5), over real HTTP on both backends:
// deviceStatuses and deviceStatusOverview always consistent, pending → final on the lifecycle clock, a device's
// deviceConfigurationStates, incremental re-evaluation (a device joining a group becomes applicable, leaving it
// does not), filters include/exclude, and GET /_allot/explain/devices/{id}.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { notifyManagedDeviceChanges } from "../../src/graph/graphContext.js";
import { DEMO_TENANT_ID as DEMO_TENANT, backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const newGroup = (name: string) => ({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, "").toLowerCase(), securityEnabled: true });
const custom = (name: string) => ({ "@odata.type": "#microsoft.graph.windows10CustomConfiguration", displayName: name, omaSettings: [] });
const groupTarget = (groupId: string, filter?: { id: string; mode: "include" | "exclude" }) => ({
  "@odata.type": "#microsoft.graph.groupAssignmentTarget",
  groupId,
  ...(filter ? { deviceAndAppManagementAssignmentFilterId: filter.id, deviceAndAppManagementAssignmentFilterType: filter.mode } : {}),
});
const allDevices = (filter?: { id: string; mode: "include" | "exclude" }) => ({
  "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget",
  ...(filter ? { deviceAndAppManagementAssignmentFilterId: filter.id, deviceAndAppManagementAssignmentFilterType: filter.mode } : {}),
});

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const backend of await backendsToTest()) {
  describe(`device configuration reports (${backend})`, () => {
    let s: TestServer;
    let kiosk: { managedDeviceId: string; entraObjectId: string };
    let desk: { managedDeviceId: string; entraObjectId: string };
    let groupId: string;

    before(async () => {
      s = await startTestServer(backend, { lifecycle: "0.3s" });
      kiosk = (await s.call("POST", "/_allot/devices", { deviceName: "KIOSK-001" })).body;
      desk = (await s.call("POST", "/_allot/devices", { deviceName: "DESK-002" })).body;
      groupId = (await s.call("POST", "/groups", newGroup("Config pilot"))).body.id;
    });
    after(() => s.close());

    const create = async (body: unknown) => {
      const r = await s.call("POST", "/deviceManagement/deviceConfigurations", body);
      assert.equal(r.status, 201, r.text);
      return r.body.id as string;
    };
    const assign = async (configurationId: string, target: unknown) => {
      const r = await s.call("POST", `/deviceManagement/deviceConfigurations/${configurationId}/assignments`, { target });
      assert.equal(r.status, 201, r.text);
      return r.body.id as string;
    };
    const statuses = async (configurationId: string) => (await s.call("GET", `/deviceManagement/deviceConfigurations/${configurationId}/deviceStatuses`)).body.value as any[];
    const overview = async (configurationId: string) => (await s.call("GET", `/deviceManagement/deviceConfigurations/${configurationId}/deviceStatusOverview`)).body;
    const reachedNames = async (configurationId: string) => (await statuses(configurationId)).map((x) => x.deviceDisplayName).sort();
    // The reconciler may settle statuses between two reads: compare an overview read between two equal status lists.
    const assertConsistent = async (configurationId: string) => {
      let list: any[] = [];
      let o: any;
      for (let attempt = 0; attempt < 20; attempt++) {
        list = await statuses(configurationId);
        o = await overview(configurationId);
        const again = await statuses(configurationId);
        if (JSON.stringify(again.map((x) => x.status)) === JSON.stringify(list.map((x) => x.status))) break;
      }
      const by = (status: string) => list.filter((x) => x.status === status).length;
      assert.equal(o.pendingCount, by("unknown"), "pendingCount = statuses still unknown (pending)");
      assert.equal(o.successCount, by("compliant"));
      assert.equal(o.notApplicableCount, by("notApplicable"));
      assert.equal(o.pendingCount + o.successCount + o.notApplicableCount + o.errorCount + o.conflictCount, list.length);
    };

    it("a device joining an assigned group becomes applicable: pending (status unknown) at once, compliant on the clock; the overview counts follow", async () => {
      const id = await create(custom("Kiosk lockdown"));
      await assign(id, groupTarget(groupId));
      assert.deepEqual(await statuses(id), [], "nobody is in the group yet");
      assert.equal((await overview(id)).pendingCount, 0);

      const added = await s.call("POST", `/groups/${groupId}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${kiosk.entraObjectId}` });
      assert.equal(added.status, 204, added.text);
      const first = await statuses(id);
      assert.deepEqual(first.map((x) => [x.deviceDisplayName, x.status]), [["KIOSK-001", "unknown"]]);
      assert.equal(first[0].id, `${id}_${kiosk.managedDeviceId}`);
      assert.equal(first[0].platform, 1);
      const o = await overview(id);
      assert.deepEqual([o.pendingCount, o.successCount, o.configurationVersion], [1, 0, 1]);
      await assertConsistent(id);

      await eventually(() => statuses(id), (v) => v[0]?.status === "compliant", "the status to settle");
      const settled = await overview(id);
      assert.deepEqual([settled.pendingCount, settled.successCount], [0, 1]);
      await assertConsistent(id);

      const states = await s.call("GET", `/deviceManagement/managedDevices/${kiosk.managedDeviceId}/deviceConfigurationStates`);
      assert.equal(states.status, 200, states.text);
      const state = states.body.value.find((x: any) => x.id === id);
      assert.deepEqual([state.displayName, state.state, state.platformType, state.version], ["Kiosk lockdown", "compliant", "windows10AndLater", 1]);
      const one = await s.call("GET", `/deviceManagement/managedDevices/${kiosk.managedDeviceId}/deviceConfigurationStates/${id}?$select=state`);
      assert.deepEqual(one.body.state, "compliant");
      assert.equal((await s.call("GET", `/deviceManagement/managedDevices/${desk.managedDeviceId}/deviceConfigurationStates/${id}`)).status, 404);
    });

    it("a device leaving the group is no longer applicable: its status goes and the counts drop", async () => {
      const id = await create(custom("Leavers"));
      const joiner = (await s.call("POST", "/groups", newGroup("Leavers group"))).body.id;
      await s.call("POST", `/groups/${joiner}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${desk.entraObjectId}` });
      await assign(id, groupTarget(joiner));
      assert.deepEqual(await reachedNames(id), ["DESK-002"]);
      const removed = await s.call("DELETE", `/groups/${joiner}/members/${desk.entraObjectId}/$ref`);
      assert.equal(removed.status, 204, removed.text);
      assert.deepEqual(await statuses(id), []);
      const o = await overview(id);
      assert.deepEqual([o.pendingCount, o.successCount], [0, 0]);
    });

    it("an exclusion group of the same kind (device) removes the device; deleting the exclusion brings it back", async () => {
      const id = await create(custom("Everyone but"));
      const excluded = (await s.call("POST", "/groups", newGroup("Excluded devices"))).body.id;
      await s.call("POST", `/groups/${excluded}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${desk.entraObjectId}` });
      await assign(id, allDevices());
      assert.deepEqual(await reachedNames(id), ["DESK-002", "KIOSK-001"]);
      const exclusion = await assign(id, { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", groupId: excluded });
      assert.deepEqual(await reachedNames(id), ["KIOSK-001"]);
      await assertConsistent(id);
      assert.equal((await s.call("DELETE", `/deviceManagement/deviceConfigurations/${id}/assignments/${exclusion}`)).status, 204);
      assert.deepEqual(await reachedNames(id), ["DESK-002", "KIOSK-001"]);
    });

    it("filters: include applies to matching devices, exclude to the others; a changed rule re-evaluates the devices it reaches", async () => {
      const filter = await s.call("POST", "/deviceManagement/assignmentFilters", { displayName: "Kiosks", platform: "windows10AndLater", rule: '(device.deviceName -startsWith "KIOSK")' });
      assert.equal(filter.status, 201, filter.text);
      const included = await create(custom("Kiosks only"));
      await assign(included, allDevices({ id: filter.body.id, mode: "include" }));
      const excluded = await create(custom("No kiosks"));
      await assign(excluded, allDevices({ id: filter.body.id, mode: "exclude" }));
      assert.deepEqual(await reachedNames(included), ["KIOSK-001"]);
      assert.deepEqual(await reachedNames(excluded), ["DESK-002"]);

      const patched = await s.call("PATCH", `/deviceManagement/assignmentFilters/${filter.body.id}`, { rule: '(device.deviceName -startsWith "DESK")' });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(await reachedNames(included), ["DESK-002"]);
      assert.deepEqual(await reachedNames(excluded), ["KIOSK-001"]);
      await assertConsistent(included);
      await assertConsistent(excluded);
    });

    it("a configuration for another platform is notApplicable on the device, counted in notApplicableCount and notApplicablePlatformCount", async () => {
      const id = await create({ "@odata.type": "#microsoft.graph.iosTrustedRootCertificate", displayName: "iOS root", trustedRootCertificate: "AAAA", certFileName: "root.cer" });
      await assign(id, allDevices());
      await eventually(() => overview(id), (o) => o.pendingCount === 0, "the statuses to settle");
      const o = await overview(id);
      assert.deepEqual([o.notApplicableCount, o.notApplicablePlatformCount, o.successCount], [2, 2, 0]);
      assert.deepEqual((await statuses(id)).map((x) => x.status), ["notApplicable", "notApplicable"]);
    });

    it("PATCHing a configuration delivers its new version: its devices are pending again", async () => {
      const id = await create(custom("Versioned"));
      await assign(id, groupTarget(groupId));
      await eventually(() => overview(id), (o) => o.successCount === 1, "the first delivery");
      const patched = await s.call("PATCH", `/deviceManagement/deviceConfigurations/${id}`, { "@odata.type": "#microsoft.graph.windows10CustomConfiguration", description: "v2" });
      assert.equal(patched.status, 200, patched.text);
      const o = await overview(id);
      assert.deepEqual([o.pendingCount, o.successCount], [1, 0]);
      assert.equal(o.configurationVersion, patched.body.version);
      await eventually(() => overview(id), (v) => v.successCount === 1, "the new version to settle");
    });

    it("GET /_allot/explain/devices/{id}: every configuration with its deciding assignment, each filter's result and why it is in or out", async () => {
      const filter = (await s.call("POST", "/deviceManagement/assignmentFilters", { displayName: "Explained", platform: "windows10AndLater", rule: '(device.deviceName -eq "KIOSK-001")' })).body;
      const id = await create(custom("Explained"));
      const viaFilter = await assign(id, allDevices({ id: filter.id, mode: "include" }));
      const r = await s.call("GET", `/_allot/explain/devices/${kiosk.managedDeviceId}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.managedDeviceId, kiosk.managedDeviceId);
      assert.ok(r.body.facts.deviceGroupIds.includes(groupId));
      const c = r.body.configurations.find((x: any) => x.id === id);
      assert.deepEqual([c.applies, c.outcome, c.decidingAssignmentIds], [true, "applies", [viaFilter]]);
      assert.deepEqual([c.assignments[0].filter.result, c.assignments[0].filter.displayName, c.assignments[0].outcome], ["match", "Explained", "applies"]);
      const other = (await s.call("GET", `/_allot/explain/devices/${desk.managedDeviceId}`)).body.configurations.find((x: any) => x.id === id);
      assert.deepEqual([other.applies, other.outcome, other.assignments[0].filter.result], [false, "filteredOut", "noMatch"]);
      const missing = await s.call("GET", "/_allot/explain/devices/00000000-0000-4000-8000-000000000000");
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, "ResourceNotFound");
    });

    it("assign replaces the whole set and the reports follow; a legacy group assignment includes or excludes its group", async () => {
      const id = await create(custom("Assigned by action"));
      const post = (body: unknown) => s.call("POST", `/deviceManagement/deviceConfigurations/${id}/assign`, body);
      let r = await post({ assignments: [{ target: allDevices() }] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(await reachedNames(id), ["DESK-002", "KIOSK-001"]);
      r = await post({ assignments: [{ target: groupTarget(groupId) }] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(await reachedNames(id), ["KIOSK-001"], "the All devices assignment is gone");
      r = await post({ assignments: [], deviceConfigurationGroupAssignments: [{ targetGroupId: groupId, excludeGroup: false }] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(await reachedNames(id), ["KIOSK-001"], "the legacy group assignment includes the group");
      r = await post({ assignments: [{ target: allDevices() }], deviceConfigurationGroupAssignments: [{ targetGroupId: groupId, excludeGroup: true }] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(await reachedNames(id), ["DESK-002"], "the legacy exclusion removes the group's device");
      r = await post({ assignments: [] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(await statuses(id), [], "an empty list unassigns everything");
      await assertConsistent(id);
    });

    it("explain covers Autopilot profiles: the oldest created profile reaching the device is chosen, the others say why not", async () => {
      const AAD = "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile";
      const older = (await s.call("POST", "/deviceManagement/windowsAutopilotDeploymentProfiles", { "@odata.type": AAD, displayName: "Older" })).body;
      await new Promise((r) => setTimeout(r, 5));
      const newer = (await s.call("POST", "/deviceManagement/windowsAutopilotDeploymentProfiles", { "@odata.type": AAD, displayName: "Newer" })).body;
      const ap = (await s.call("POST", "/_allot/devices", { deviceName: "AP-001", autopilot: { groupTag: "Bench" } })).body;
      const apGroup = (await s.call("POST", "/groups", newGroup("Autopilot explain"))).body.id;
      await s.call("POST", `/groups/${apGroup}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ap.entraObjectId}` });
      for (const p of [older, newer]) {
        const r = await s.call("POST", `/deviceManagement/windowsAutopilotDeploymentProfiles/${p.id}/assignments`, { target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: apGroup } });
        assert.equal(r.status, 201, r.text);
      }
      const x = (await s.call("GET", `/_allot/explain/devices/${ap.managedDeviceId}`)).body.autopilot;
      assert.equal(x.autopilotDeviceIdentityId, ap.autopilotDeviceId);
      assert.deepEqual(x.choice, { outcome: "assigned", profileId: older.id, via: "group" });
      const byId = new Map(x.profiles.map((p: any) => [p.id, p]));
      assert.deepEqual([(byId.get(older.id) as any).chosen, (byId.get(newer.id) as any).chosen, (byId.get(newer.id) as any).reason], [true, false, "an older profile reaches the device"]);
      assert.equal((await s.call("GET", `/_allot/explain/devices/${desk.managedDeviceId}`)).body.autopilot, null);
    });

    it("a configuration removed from a device with changeAssignments does not apply to it: removed by changeAssignments", async () => {
      const id = await create(custom("Removed on one device"));
      await assign(id, allDevices());
      assert.ok((await reachedNames(id)).includes("DESK-002"));
      // What the changeAssignments helper keeps in the managed device's document, then tells the listeners.
      const { allot } = s;
      const table = allot.configurations.facts.managedDevices;
      await allot.db.transaction(async (tx) => {
        const device = (await allot.services.entities.get(tx, table, DEMO_TENANT, desk.managedDeviceId))!;
        await allot.services.entities.replace(tx, table, DEMO_TENANT, { ...device, doc: { ...device.doc, _removedAssignmentItems: [{ itemId: id, itemType: "deviceConfiguration" }] } });
        await notifyManagedDeviceChanges(allot.services, tx, DEMO_TENANT, [desk.managedDeviceId]);
      });
      assert.ok(!(await reachedNames(id)).includes("DESK-002"));
      assert.ok((await reachedNames(id)).includes("KIOSK-001"));
      const c = (await s.call("GET", `/_allot/explain/devices/${desk.managedDeviceId}`)).body.configurations.find((x: any) => x.id === id);
      assert.deepEqual([c.applies, c.outcome, c.reason], [false, "removedByChangeAssignments", "removed by changeAssignments"]);
      await assertConsistent(id);
    });

    it("deleting a managed device removes its statuses from every configuration's report and counts", async () => {
      const extra = (await s.call("POST", "/_allot/devices", { deviceName: "TEMP-003" })).body;
      const id = await create(custom("All of them"));
      await assign(id, allDevices());
      assert.ok((await reachedNames(id)).includes("TEMP-003"));
      const del = await s.call("DELETE", `/deviceManagement/managedDevices/${extra.managedDeviceId}`);
      assert.equal(del.status, 204, del.text);
      assert.ok(!(await reachedNames(id)).includes("TEMP-003"));
      await assertConsistent(id);
    });
  });
}
