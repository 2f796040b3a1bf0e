// Windows Autopilot over HTTP, on both backends: deployment profiles, their assignments on both path families,
// the assign action on its three paths, device identities and their actions, and the profile each device ends up
// with (spec §2.1–2.4, §3.3; seeds 001 and 003).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const PROFILES = "/deviceManagement/windowsAutopilotDeploymentProfiles";
const IDENTITIES = "/deviceManagement/windowsAutopilotDeviceIdentities";
const STANDARD_GROUP = "a110c0de-0000-4000-8000-000000000501";
const AAD = "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile";
const group = (groupId: string) => ({ target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId } });
const exclusion = (groupId: string) => ({ target: { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", groupId } });
const allDevices = { target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } };

let n = 0;
async function createProfile(s: TestServer, extra: Record<string, unknown> = {}) {
  const res = await s.call("POST", PROFILES, { "@odata.type": AAD, displayName: `Profile ${++n}`, ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  // createdDateTime decides conflicts; keep profiles strictly ordered in time.
  await new Promise((r) => setTimeout(r, 5));
  return res.body;
}
async function enrollAutopilot(s: TestServer, groupTag: string, extra: Record<string, unknown> = {}) {
  const res = await s.call("POST", "/_allot/devices", { serialNumber: `AP-${++n}`, ...extra, autopilot: { groupTag } });
  assert.equal(res.status, 201);
  return res.body as { managedDeviceId: string; azureADDeviceId: string; entraObjectId: string; autopilotDeviceId: string };
}
const state = async (s: TestServer, identityId: string) => {
  const identity = (await s.call("GET", `${IDENTITIES}/${identityId}`)).body;
  const profile = await s.call("GET", `${IDENTITIES}/${identityId}/deploymentProfile?$select=id,displayName`);
  const intended = await s.call("GET", `${IDENTITIES}/${identityId}/intendedDeploymentProfile?$select=id`);
  return {
    status: identity.deploymentProfileAssignmentStatus as string,
    detailed: identity.deploymentProfileAssignmentDetailedStatus as string,
    assignedAt: identity.deploymentProfileAssignedDateTime as string | null,
    profile: profile.status === 200 ? (profile.body.id as string) : undefined,
    intended: intended.status === 200 ? (intended.body.id as string) : undefined,
  };
};

for (const backend of await backendsToTest()) {
  describe(`Windows Autopilot (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { lifecycle: "immediate" });
    });
    after(() => s.close());

    describe("deployment profiles", () => {
      it("the abstract base cannot be created; both concrete types can, with documented defaults", async () => {
        const abstract = await s.call("POST", PROFILES, { displayName: "no type" });
        assert.equal(abstract.status, 400);
        const base = await s.call("POST", PROFILES, { "@odata.type": "#microsoft.graph.windowsAutopilotDeploymentProfile", displayName: "base" });
        assert.equal(base.status, 400);
        const aad = await createProfile(s);
        assert.equal(aad["@odata.type"], AAD);
        assert.deepEqual([aad.language, aad.locale, aad.deviceType, aad.extractHardwareHash, aad.preprovisioningAllowed], ["os-default", "os-default", "windowsPc", false, false]);
        assert.deepEqual(aad.outOfBoxExperienceSetting, { privacySettingsHidden: false, eulaHidden: false, userType: "administrator", deviceUsageType: "singleUser", keyboardSelectionPageSkipped: false, escapeLinkHidden: false });
        assert.ok(Date.parse(aad.createdDateTime) > Date.now() - 60_000);
        const ad = await s.call("POST", PROFILES, { "@odata.type": "microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile", displayName: "Hybrid", hybridAzureADJoinSkipConnectivityCheck: true });
        assert.equal(ad.status, 201);
        assert.equal(ad.body.hybridAzureADJoinSkipConnectivityCheck, true);
      });

      it("validation: lengths and enums are 400", async () => {
        assert.equal((await s.call("POST", PROFILES, { "@odata.type": AAD, displayName: "x".repeat(201) })).status, 400);
        assert.equal((await s.call("POST", PROFILES, { "@odata.type": AAD, displayName: "ok", description: "x".repeat(1501) })).status, 400);
        assert.equal((await s.call("POST", PROFILES, { "@odata.type": AAD, displayName: "ok", deviceType: "toaster" })).status, 400);
        assert.equal((await s.call("POST", PROFILES, { "@odata.type": AAD, displayName: "ok", outOfBoxExperienceSetting: { userType: "root" } })).status, 400);
      });

      it("the deprecated twins are kept in sync both ways", async () => {
        const p = await createProfile(s, { locale: "en-US", hardwareHashExtractionEnabled: true, outOfBoxExperienceSettings: { hideEULA: true } });
        assert.deepEqual([p.language, p.extractHardwareHash, p.outOfBoxExperienceSetting.eulaHidden], ["en-US", true, true]);
        const patched = (await s.call("PATCH", `${PROFILES}/${p.id}`, { "@odata.type": AAD, language: "de-DE", enableWhiteGlove: true, outOfBoxExperienceSetting: { privacySettingsHidden: true } })).body;
        assert.deepEqual([patched.locale, patched.language, patched.preprovisioningAllowed, patched.outOfBoxExperienceSettings.hidePrivacySettings], ["de-DE", "de-DE", true, true]);
        assert.equal(patched.outOfBoxExperienceSettings.hideEULA, false, "the whole setting object was replaced");
      });

      it("query options exactly as Intune serves them: $filter on displayName is 400, $orderby/$top/$skip work", async () => {
        const res = await s.call("GET", `${PROFILES}?$filter=${encodeURIComponent("displayName eq 'x'")}`);
        assert.equal(res.status, 400);
        const ordered = (await s.call("GET", `${PROFILES}?$orderby=displayName desc&$top=2&$skip=1&$select=displayName`)).body.value;
        assert.equal(ordered.length, 2);
        assert.ok(ordered[0].displayName >= ordered[1].displayName);
      });

      it("PATCH answers 200 with the entity; a different derived type is 400", async () => {
        const p = await createProfile(s);
        const res = await s.call("PATCH", `${PROFILES}/${p.id}`, { "@odata.type": AAD, description: "changed" });
        assert.equal(res.status, 200);
        assert.equal(res.body.description, "changed");
        assert.ok(res.body.lastModifiedDateTime >= p.lastModifiedDateTime);
        assert.equal((await s.call("PATCH", `${PROFILES}/${p.id}`, { "@odata.type": "#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile" })).status, 400);
      });
    });

    describe("assignments", () => {
      it("POST 201, GET, PATCH 200 with the entity, DELETE 204 under the profile", async () => {
        const p = await createProfile(s);
        const created = await s.call("POST", `${PROFILES}/${p.id}/assignments`, group(STANDARD_GROUP));
        assert.equal(created.status, 201);
        assert.deepEqual([created.body.source, created.body.target.groupId, created.body.target["@odata.type"]], ["direct", STANDARD_GROUP, "#microsoft.graph.groupAssignmentTarget"]);
        const list = (await s.call("GET", `${PROFILES}/${p.id}/assignments`)).body.value;
        assert.deepEqual(list.map((a: any) => a.id), [created.body.id]);
        const patched = await s.call("PATCH", `${PROFILES}/${p.id}/assignments/${created.body.id}`, allDevices);
        assert.equal(patched.status, 200);
        assert.equal(patched.body.target["@odata.type"], "#microsoft.graph.allDevicesAssignmentTarget");
        assert.equal((await s.call("DELETE", `${PROFILES}/${p.id}/assignments/${created.body.id}`)).status, 204);
        assert.deepEqual((await s.call("GET", `${PROFILES}/${p.id}/assignments`)).body.value, []);
      });

      it("seed 003's PATCH on the collection path has no route", async () => {
        const p = await createProfile(s);
        const res = await s.call("PATCH", `${PROFILES}/${p.id}/assignments`, group(STANDARD_GROUP));
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, "No method match route template");
      });

      it("unsupported targets, filters, unknown groups and duplicate targets are 400 and change nothing", async () => {
        const p = await createProfile(s);
        const bad = [
          { target: { "@odata.type": "#microsoft.graph.configurationManagerCollectionAssignmentTarget", collectionId: "c" } },
          { target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } },
          { target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: STANDARD_GROUP, deviceAndAppManagementAssignmentFilterId: "f", deviceAndAppManagementAssignmentFilterType: "include" } },
          group("00000000-0000-4000-8000-000000000000"),
          { target: { "@odata.type": "#microsoft.graph.deviceAndAppManagementAssignmentTarget" } },
          { target: "nope" },
          {},
        ];
        for (const body of bad) assert.equal((await s.call("POST", `${PROFILES}/${p.id}/assignments`, body)).status, 400, JSON.stringify(body));
        assert.equal((await s.call("POST", `${PROFILES}/${p.id}/assignments`, group(STANDARD_GROUP))).status, 201);
        assert.equal((await s.call("POST", `${PROFILES}/${p.id}/assignments`, group(STANDARD_GROUP))).status, 400);
        assert.equal((await s.call("GET", `${PROFILES}/${p.id}/assignments/$count`)).text, "1");
      });

      it("a profile with assignments cannot be deleted; without them it can", async () => {
        const p = await createProfile(s);
        const a = (await s.call("POST", `${PROFILES}/${p.id}/assignments`, allDevices)).body;
        const refused = await s.call("DELETE", `${PROFILES}/${p.id}`);
        assert.equal(refused.status, 400);
        assert.equal((await s.call("GET", `${PROFILES}/${p.id}`)).status, 200);
        await s.call("DELETE", `${PROFILES}/${p.id}/assignments/${a.id}`);
        assert.equal((await s.call("DELETE", `${PROFILES}/${p.id}`)).status, 204);
      });
    });

    describe("which profile each device gets", () => {
      before(async () => {
        // A clean slate: this suite's conflict rules need to know every profile that exists.
        for (const p of (await s.call("GET", `${PROFILES}?$select=id`)).body.value) {
          for (const a of (await s.call("GET", `${PROFILES}/${p.id}/assignments`)).body.value) await s.call("DELETE", `${PROFILES}/${p.id}/assignments/${a.id}`);
          await s.call("DELETE", `${PROFILES}/${p.id}`);
        }
      });

      it("group include, oldest wins, the all-devices default, exclusions, a group-tag change, both path families", async () => {
        const std = await enrollAutopilot(s, "Microsoft365Managed_Standard");
        const pow = await enrollAutopilot(s, "Microsoft365Managed_PowerUser");
        assert.deepEqual(await state(s, std.autopilotDeviceId), { status: "notAssigned", detailed: "none", assignedAt: null, profile: undefined, intended: undefined });

        const oldest = await createProfile(s);
        const fallback = await createProfile(s);
        const newest = await createProfile(s);
        await s.call("POST", `${PROFILES}/${oldest.id}/assignments`, group(STANDARD_GROUP));
        let st = await state(s, std.autopilotDeviceId);
        assert.deepEqual([st.status, st.profile, st.intended], ["assignedInSync", oldest.id, oldest.id]);
        assert.ok(Date.parse(st.assignedAt!) > Date.now() - 60_000);
        assert.equal((await state(s, pow.autopilotDeviceId)).status, "notAssigned");

        await s.call("POST", `${PROFILES}/${fallback.id}/assignments`, allDevices);
        assert.equal((await state(s, pow.autopilotDeviceId)).profile, fallback.id, "the all-devices profile is the default");
        assert.equal((await state(s, std.autopilotDeviceId)).profile, oldest.id, "a targeted profile beats the default");

        await s.call("POST", `${PROFILES}/${newest.id}/assignments`, group(STANDARD_GROUP));
        assert.equal((await state(s, std.autopilotDeviceId)).profile, oldest.id, "the oldest-created profile wins");

        const excludeGroup = (await s.call("POST", "/groups", { displayName: "Exclude std", mailEnabled: false, mailNickname: "exstd", securityEnabled: true })).body;
        await s.call("POST", `/groups/${excludeGroup.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${std.entraObjectId}` });
        await s.call("POST", `${PROFILES}/${oldest.id}/assignments`, exclusion(excludeGroup.id));
        assert.equal((await state(s, std.autopilotDeviceId)).profile, newest.id, "an exclusion sends the device to the next oldest");

        // The device-rooted path family reaches the same assignments.
        const viaDevice = (await s.call("GET", `${IDENTITIES}/${std.autopilotDeviceId}/deploymentProfile/assignments`)).body.value;
        assert.deepEqual(viaDevice.map((a: any) => a.target.groupId), [STANDARD_GROUP]);
        const one = await s.call("GET", `${IDENTITIES}/${std.autopilotDeviceId}/deploymentProfile/assignments/${viaDevice[0].id}`);
        assert.equal(one.body.id, viaDevice[0].id);
        const renamed = await s.call("PATCH", `${IDENTITIES}/${std.autopilotDeviceId}/deploymentProfile`, { "@odata.type": AAD, description: "via the device" });
        assert.equal(renamed.status, 200);
        assert.equal((await s.call("GET", `${PROFILES}/${newest.id}`)).body.description, "via the device", "PATCH …/deploymentProfile updates the profile");

        // Membership leaves with the group tag: the dynamic group drops the device, the default applies.
        await s.call("DELETE", `/groups/${excludeGroup.id}/members/${std.entraObjectId}/$ref`);
        assert.equal((await state(s, std.autopilotDeviceId)).profile, oldest.id);
        assert.equal((await s.call("POST", `${IDENTITIES}/${std.autopilotDeviceId}/updateDeviceProperties`, { groupTag: "Microsoft365Managed_PowerUser" })).status, 204);
        const entra = (await s.call("GET", `/devices/${std.entraObjectId}`)).body;
        assert.ok(entra.devicePhysicalIds.includes("[OrderID]:Microsoft365Managed_PowerUser") && !entra.devicePhysicalIds.includes("[OrderID]:Microsoft365Managed_Standard"));
        assert.equal((await state(s, std.autopilotDeviceId)).profile, fallback.id);

        const assigned = (await s.call("GET", `${PROFILES}/${fallback.id}/assignedDevices?$select=id`)).body.value.map((d: any) => d.id).sort();
        assert.deepEqual(assigned, [std.autopilotDeviceId, pow.autopilotDeviceId].sort());
      });

      it("assign on all three paths directs devices to the profile; bad input changes nothing", async () => {
        const dev = await enrollAutopilot(s, "Custom_A");
        const other = await enrollAutopilot(s, "Custom_B");
        const target = await createProfile(s);
        const assignVia = [`${PROFILES}/${target.id}/assign`];
        assert.equal((await s.call("POST", assignVia[0], { deviceIds: [dev.autopilotDeviceId] })).status, 204);
        assert.equal((await state(s, dev.autopilotDeviceId)).profile, target.id);
        const before = await state(s, other.autopilotDeviceId);
        for (const body of [{ deviceIds: "x" }, { deviceIds: ["not-a-guid"] }, { deviceIds: ["00000000-0000-4000-8000-000000000000"] }, { wrong: [] }, [1]]) {
          assert.equal((await s.call("POST", assignVia[0], body)).status, 400, JSON.stringify(body));
        }
        assert.deepEqual(await state(s, other.autopilotDeviceId), before);
        // The device-rooted paths act on the device's current and intended profile.
        const second = await createProfile(s);
        await s.call("POST", `${PROFILES}/${second.id}/assign`, { deviceIds: [other.autopilotDeviceId] });
        assert.equal((await s.call("POST", `${IDENTITIES}/${dev.autopilotDeviceId}/deploymentProfile/assign`, { deviceIds: [other.autopilotDeviceId] })).status, 204);
        assert.equal((await state(s, other.autopilotDeviceId)).profile, target.id, "assign through deploymentProfile assigns that profile");
        assert.equal((await s.call("POST", `${IDENTITIES}/${dev.autopilotDeviceId}/intendedDeploymentProfile/assign`, { deviceIds: [other.autopilotDeviceId] })).status, 204);
        assert.equal((await state(s, other.autopilotDeviceId)).profile, target.id);
      });

      it("a profile whose device type does not fit fails with the detailed status", async () => {
        const holo = await enrollAutopilot(s, "Holo", { model: "HoloLens 2" });
        const pc = await createProfile(s);
        await s.call("POST", `${PROFILES}/${pc.id}/assign`, { deviceIds: [holo.autopilotDeviceId] });
        const st = await state(s, holo.autopilotDeviceId);
        assert.deepEqual([st.status, st.detailed], ["failed", "windowsPcProfileNotSupported"]);
      });
    });

    describe("device identities", () => {
      it("import, list with contains(serialNumber) — eq on serialNumber is 400 — and delete", async () => {
        const created = await s.call("POST", IDENTITIES, { serialNumber: "IMPORT-777", model: "Surface Laptop 5", manufacturer: "Microsoft Corporation", groupTag: "Imported" });
        assert.equal(created.status, 201);
        assert.deepEqual([created.body.deploymentProfileAssignmentStatus, created.body.enrollmentState], ["notAssigned", "notContacted"]);
        const found = (await s.call("GET", `${IDENTITIES}?$filter=${encodeURIComponent("contains(serialNumber,'IMPORT-7')")}`)).body.value;
        assert.deepEqual(found.map((d: any) => d.id), [created.body.id]);
        const eq = await s.call("GET", `${IDENTITIES}?$filter=${encodeURIComponent("serialNumber eq 'IMPORT-777'")}`);
        assert.equal(eq.status, 400);
        assert.equal((await s.call("PATCH", `${IDENTITIES}/${created.body.id}`, { displayName: "x" })).status, 400, "no PATCH: updateDeviceProperties instead");
        assert.equal((await s.call("DELETE", `${IDENTITIES}/${created.body.id}`)).status, 204);
      });

      it("deleteDevices by serial numbers answers a state per serial", async () => {
        const dev = await enrollAutopilot(s, "ToDelete", { serialNumber: "DEL-1" });
        const res = await s.call("POST", `${IDENTITIES}/deleteDevices`, { serialNumbers: ["DEL-1", "NOPE-1"] });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.value.map((v: any) => [v.serialNumber, v.deletionState]), [["DEL-1", "accepted"], ["NOPE-1", "failed"]]);
        assert.equal((await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`)).status, 404);
        assert.equal((await s.call("GET", `/deviceManagement/managedDevices/${dev.managedDeviceId}`)).status, 200, "the managed device stays");
      });

      it("user and resource account actions, allowNextEnrollment", async () => {
        const dev = await enrollAutopilot(s, "Actions");
        const at = `${IDENTITIES}/${dev.autopilotDeviceId}`;
        assert.equal((await s.call("POST", `${at}/assignUserToDevice`, { userPrincipalName: "nobody@allotdemo.onmicrosoft.com", addressableUserName: "x" })).status, 400);
        assert.equal((await s.call("POST", `${at}/assignUserToDevice`, { userPrincipalName: "megan@allotdemo.onmicrosoft.com", addressableUserName: "Megan" })).status, 204);
        let d = (await s.call("GET", at)).body;
        assert.deepEqual([d.userPrincipalName, d.addressableUserName], ["megan@allotdemo.onmicrosoft.com", "Megan"]);
        await s.call("POST", `${at}/unassignUserFromDevice`);
        await s.call("POST", `${at}/assignResourceAccountToDevice`, { resourceAccountName: "Room 1", userPrincipalName: "room1@allotdemo.onmicrosoft.com" });
        d = (await s.call("GET", at)).body;
        assert.deepEqual([d.userPrincipalName, d.resourceName, d.deviceAccountUpn], ["", "Room 1", "room1@allotdemo.onmicrosoft.com"]);
        await s.call("POST", `${at}/unassignResourceAccountFromDevice`);
        await s.call("POST", `${at}/allowNextEnrollment`);
        d = (await s.call("GET", at)).body;
        assert.deepEqual([d.resourceName, d.enrollmentState], ["", "notContacted"]);
        assert.equal((await s.call("POST", `${at}/updateDeviceProperties`, { groupTag: 5 })).status, 400);
      });

      it("another tenant's ids answer like ids that do not exist", async () => {
        const dev = await enrollAutopilot(s, "Mine");
        const before = await state(s, dev.autopilotDeviceId);
        await s.call("POST", "/_allot/seed", { tenants: [{ id: "f0f0f0f0-0000-4000-8000-000000000001" }] }, { "x-allot-admin-key": DEFAULT_ADMIN_KEY });
        const token = (await (await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify({ tenant: "f0f0f0f0-0000-4000-8000-000000000001", roles: ["DeviceManagementServiceConfig.ReadWrite.All"] }) })).json()).access_token;
        const h = { authorization: `Bearer ${token}` };
        assert.equal((await s.call("GET", `${IDENTITIES}/${dev.autopilotDeviceId}`, undefined, h)).status, 404);
        const theirs = (await s.call("POST", PROFILES, { "@odata.type": AAD, displayName: "Theirs" }, h)).body;
        const res = await s.call("POST", `${PROFILES}/${theirs.id}/assign`, { deviceIds: [dev.autopilotDeviceId] }, h);
        assert.equal(res.status, 400);
        assert.deepEqual(await state(s, dev.autopilotDeviceId), before, "nothing changed");
      });
    });
  });
}

describe("Autopilot assignment lifecycle on the clock", () => {
  it("a change makes the device pending with its intended profile before the answer; later assignedInSync", async () => {
    const s = await startTestServer("sqlite", { lifecycle: "0.4s" });
    try {
      const dev = await enrollAutopilot(s, "Microsoft365Managed_Standard");
      const p = await createProfile(s);
      await s.call("POST", `${PROFILES}/${p.id}/assignments`, group(STANDARD_GROUP));
      const now = await state(s, dev.autopilotDeviceId);
      assert.deepEqual([now.status, now.intended, now.profile], ["pending", p.id, undefined]);
      await new Promise((r) => setTimeout(r, 1200));
      const later = await state(s, dev.autopilotDeviceId);
      assert.deepEqual([later.status, later.profile], ["assignedInSync", p.id]);
    } finally {
      await s.close();
    }
  });
});
