// A fleet's new devices and the configuration engine, on both backends: the re-evaluation after POST /_allot/fleet
// reads back only the devices some assignment can reach, and that narrowing must not change any answer. A device
// in a targeted group (directly, or through its primary user) gets its configuration state; one outside every
// target gets none; an All devices assignment still reaches every device.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backendsToTest, startTestServer, allPages, type TestServer } from "../support/allotUnderTest.js";

const MD = "/deviceManagement/managedDevices";
const CONFIGS = "/deviceManagement/deviceConfigurations";
/** The demo's dynamic group of Windows devices (`device.deviceOSType -eq "Windows"`), which fleet devices join. */
const DEMO_WINDOWS_GROUP = "a110c0de-0000-4000-8000-000000000502";
const custom = (name: string) => ({ "@odata.type": "#microsoft.graph.windows10CustomConfiguration", displayName: name, omaSettings: [] });
const groupTarget = (groupId: string) => ({ "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId });

for (const backend of await backendsToTest()) {
  describe(`fleet devices and configuration reach (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { lifecycle: "immediate" });
    });
    after(() => s.close());

    const configuration = async (name: string, target?: unknown) => {
      const created = await s.call("POST", CONFIGS, custom(name));
      assert.equal(created.status, 201, created.text);
      if (target) assert.equal((await s.call("POST", `${CONFIGS}/${created.body.id}/assignments`, { target })).status, 201);
      return created.body.id as string;
    };
    const reachedIds = async (configurationId: string) => new Set((await allPages(s, `${CONFIGS}/${configurationId}/deviceStatuses?$top=999`)).map((x) => String(x.id).split("_").pop()));
    const statusesOf = async (configurationId: string) => allPages(s, `${CONFIGS}/${configurationId}/deviceStatuses?$top=999`);

    it("only devices in a targeted group get the configuration's state; the others none", async () => {
      const windows = await configuration("Fleet Windows baseline", groupTarget(DEMO_WINDOWS_GROUP));
      const userGroup = (await s.call("POST", "/groups", { displayName: "Fleet reach users", mailEnabled: false, mailNickname: "fleetreachusers", securityEnabled: true })).body.id as string;
      const byUser = await configuration("Fleet users' devices", groupTarget(userGroup));
      const nobody = await configuration("Targets an empty group", groupTarget((await s.call("POST", "/groups", { displayName: "Fleet reach empty", mailEnabled: false, mailNickname: "fleetreachempty", securityEnabled: true })).body.id));
      const unassigned = await configuration("Not assigned");

      // Users first, one of them in the user group, then devices some of which that user owns.
      const first = await s.call("POST", "/_allot/fleet", { users: 20, seed: "reach-users" });
      assert.equal(first.status, 201, first.text);
      const users = await allPages(s, "/users?$select=id,userPrincipalName&$top=999");
      const owner = users.find((u) => /\d@/.test(u.userPrincipalName))!;
      const ref = await s.call("POST", `/groups/${userGroup}/members/$ref`, { "@odata.id": `https://graph.microsoft.com/v1.0/directoryObjects/${owner.id}` });
      assert.equal(ref.status, 204, ref.text);

      const before = new Set((await allPages(s, `${MD}?$select=id&$top=999`)).map((d) => d.id));
      const created = await s.call("POST", "/_allot/fleet", { devices: 400, seed: "reach-devices" });
      assert.equal(created.status, 201, created.text);
      const fleet = (await allPages(s, `${MD}?$select=id,operatingSystem,userId&$top=999`)).filter((d) => !before.has(d.id));
      assert.equal(fleet.length, 400);
      const fleetWindows = fleet.filter((d) => d.operatingSystem === "Windows");
      const owned = fleet.filter((d) => d.userId === owner.id);
      assert.ok(fleetWindows.length > 0 && fleetWindows.length < fleet.length, `some Windows devices: ${fleetWindows.length}`);
      assert.ok(owned.length > 0, "the user in the group owns fleet devices");

      const windowsReached = await reachedIds(windows);
      for (const d of fleet) assert.equal(windowsReached.has(d.id), d.operatingSystem === "Windows", `${d.id} (${d.operatingSystem})`);
      const windowsStatuses = (await statusesOf(windows)).filter((x) => fleetWindows.some((d) => String(x.id).endsWith(d.id)));
      assert.equal(windowsStatuses.length, fleetWindows.length);
      assert.ok(windowsStatuses.every((x) => x.status === "compliant"), "immediate lifecycle: compliant at once");

      const userReached = await reachedIds(byUser);
      for (const d of fleet) assert.equal(userReached.has(d.id), d.userId === owner.id, `${d.id} through its primary user`);
      assert.equal((await statusesOf(nobody)).length, 0);
      assert.equal((await statusesOf(unassigned)).length, 0);
    });

    it("with an All devices assignment every new fleet device gets the state", async () => {
      const everyone = await configuration("Fleet all devices");
      assert.equal((await s.call("POST", `${CONFIGS}/${everyone}/assignments`, { target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } })).status, 201);
      const before = new Set((await allPages(s, `${MD}?$select=id&$top=999`)).map((d) => d.id));
      assert.equal((await s.call("POST", "/_allot/fleet", { devices: 120, seed: "reach-everyone" })).status, 201);
      const fresh = (await allPages(s, `${MD}?$select=id&$top=999`)).filter((d) => !before.has(d.id));
      assert.equal(fresh.length, 120);
      const reached = await reachedIds(everyone);
      for (const d of fresh) assert.ok(reached.has(d.id), d.id);
    });
  });
}
