// The fleet generator (POST /_allot/fleet and `allot fleet`) on both backends: counts answered and visible
// through Graph, each device consistent across its three faces, dynamic memberships equal to what the rules say
// (checked against a $filter expressing the same condition), continuation without conflicts, determinism, and
// bad input refused with nothing created.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fleetDrawing } from "../../src/graph/devices/fleet/deviceSliceSource.js";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, allPages, type TestServer } from "../support/allotUnderTest.js";

const BIN = join(import.meta.dirname, "../../bin/allot.mjs");
const MD = "/deviceManagement/managedDevices";
const AP = "/deviceManagement/windowsAutopilotDeviceIdentities";
const DEMO_WINDOWS_GROUP = "a110c0de-0000-4000-8000-000000000502";

/** The $filter over /devices that selects what each membership rule the generator (or the demo) uses selects. */
const RULE_AS_FILTER: Record<string, string> = {
  '(device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_Standard"))': "devicePhysicalIds/any(p:p eq '[OrderID]:Microsoft365Managed_Standard')",
  '(device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_SensitiveData"))': "devicePhysicalIds/any(p:p eq '[OrderID]:Microsoft365Managed_SensitiveData')",
  '(device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_PowerUser"))': "devicePhysicalIds/any(p:p eq '[OrderID]:Microsoft365Managed_PowerUser')",
  'device.deviceModel -startsWith "Surface"': "startswith(model,'Surface')",
  'device.deviceOSType -eq "iOS"': "operatingSystem eq 'iOS'",
  'device.deviceOSType -eq "Windows"': "operatingSystem eq 'Windows'",
  '(device.deviceOSType -eq "Windows") -and (device.deviceOwnership -eq "Company")': "operatingSystem eq 'Windows' and deviceOwnership eq 'Company'",
};

const count = async (s: TestServer, path: string) => Number((await s.call("GET", `${path}/$count`)).text);

async function counts(s: TestServer) {
  return { managed: await count(s, MD), devices: await count(s, "/devices"), users: await count(s, "/users"), autopilot: await count(s, AP), groups: await count(s, "/groups") };
}

async function fleet(s: TestServer, body: unknown) {
  const res = await s.call("POST", "/_allot/fleet", body);
  assert.equal(res.status, 201, res.text);
  return res.body as { devices: number; users: number; groups: number; autopilotDevices: number; memberships: number; seed: string };
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, "fleet", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

for (const backend of await backendsToTest()) {
  describe(`fleet generator (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    it("creates the fleet set-based and answers counts that Graph then shows", async () => {
      const before = await counts(s);
      const created = await fleet(s, { devices: 300, users: 40, groups: 9, autopilot: true, seed: "fleet-test" });
      assert.deepEqual([created.devices, created.users, created.groups], [300, 40, 9]);
      assert.ok(created.autopilotDevices > 60 && created.autopilotDevices < 240, `about 60% of Windows devices: ${created.autopilotDevices}`);
      assert.ok(created.memberships > 300, `memberships: ${created.memberships}`);
      assert.deepEqual(await counts(s), {
        managed: before.managed + 300,
        devices: before.devices + 300,
        users: before.users + 40,
        autopilot: before.autopilot + created.autopilotDevices,
        groups: before.groups + 9,
      });
      const users = await allPages(s, "/users?$filter=endswith(userPrincipalName,'@allotdemo.onmicrosoft.com')&$select=userPrincipalName,department,city,usageLocation&$top=999");
      const fleetUsers = users.filter((u) => /\d@/.test(u.userPrincipalName));
      assert.equal(fleetUsers.length, 40);
      assert.ok(fleetUsers.every((u) => u.department && u.city && u.usageLocation));
      const platforms = new Set((await allPages(s, `${MD}?$select=operatingSystem&$top=999`)).map((d) => d.operatingSystem));
      assert.ok(platforms.has("Windows") && platforms.size >= 3, [...platforms].join());
    });

    it("links every device's three faces: managed device, Entra device and Autopilot identity", async () => {
      const managed = await allPages(s, `${MD}?$top=999`);
      const sample = managed.filter((_, i) => i % 15 === 0);
      assert.ok(sample.some((d) => d.autopilotEnrolled) && sample.some((d) => !d.autopilotEnrolled));
      for (const d of sample) {
        const entra = (await s.call("GET", `/devices?$filter=deviceId eq '${d.azureADDeviceId}'`)).body.value;
        assert.equal(entra.length, 1, `one Entra device for ${d.deviceName}`);
        assert.deepEqual([entra[0].displayName, entra[0].model, entra[0].manufacturer], [d.deviceName, d.model, d.manufacturer]);
        assert.equal(d.azureActiveDirectoryDeviceId, d.azureADDeviceId);
        if (d.userId) {
          const user = (await s.call("GET", `/users/${d.userId}?$select=userPrincipalName`)).body;
          assert.equal(user.userPrincipalName, d.userPrincipalName);
        }
        const identities = (await s.call("GET", `${AP}?$filter=azureAdDeviceId eq '${d.azureADDeviceId}'`)).body.value;
        if (!d.autopilotEnrolled) {
          assert.equal(identities.length, 0);
          assert.ok(!entra[0].devicePhysicalIds.some((p: string) => p.startsWith("[ZTDId]")));
          continue;
        }
        assert.equal(d.operatingSystem, "Windows");
        assert.equal(identities.length, 1);
        const identity = identities[0];
        assert.deepEqual([identity.serialNumber, identity.managedDeviceId, identity.displayName], [d.serialNumber, d.id, d.deviceName]);
        assert.ok(entra[0].devicePhysicalIds.includes(`[ZTDId]:${identity.id}`));
        assert.ok(entra[0].devicePhysicalIds.includes(`[OrderID]:${identity.groupTag}`));
        assert.equal(d.enrollmentProfileName, entra[0].enrollmentProfileName);
      }
      const serials = managed.map((d) => d.serialNumber);
      assert.equal(new Set(serials).size, serials.length, "serial numbers are unique");
    });

    it("a second call continues the numbering without conflicts", async () => {
      const before = await counts(s);
      const created = await fleet(s, { devices: 200, users: 10, groups: 3, autopilot: true, seed: "fleet-test" });
      assert.deepEqual([created.devices, created.users, created.groups], [200, 10, 3]);
      const after = await counts(s);
      assert.deepEqual([after.managed, after.users, after.groups], [before.managed + 200, before.users + 10, before.groups + 3]);
      const upns = (await allPages(s, "/users?$select=userPrincipalName&$top=999")).map((u) => u.userPrincipalName.toLowerCase());
      assert.equal(new Set(upns).size, upns.length, "user principal names are unique");
      const names = (await allPages(s, "/groups?$select=displayName&$top=999")).map((g) => g.displayName);
      assert.equal(new Set(names).size, names.length, "group names are unique");
      const devices = await allPages(s, `${MD}?$select=serialNumber,deviceName,managedDeviceOwnerType&$top=999`);
      assert.equal(new Set(devices.map((d) => d.serialNumber)).size, devices.length, "serial numbers are unique");
      const company = devices.filter((d) => d.managedDeviceOwnerType === "company").map((d) => d.deviceName);
      assert.equal(new Set(company).size, company.length, "company device names are unique");
    });

    it("after a user is deleted, new users still get free user principal names", async () => {
      const fleetUser = (await s.call("GET", "/users?$filter=employeeId ne null&$select=id&$top=1")).body.value[0];
      assert.equal((await s.call("DELETE", `/users/${fleetUser.id}`)).status, 204);
      await fleet(s, { users: 5, seed: "fleet-test" });
      const upns = (await allPages(s, "/users?$select=userPrincipalName&$top=999")).map((u) => u.userPrincipalName.toLowerCase());
      assert.equal(new Set(upns).size, upns.length);
    });

    it("dynamic groups hold exactly the devices their rules select, old and new", async () => {
      const groups = await allPages(s, "/groups?$filter=groupTypes/any(t:t eq 'DynamicMembership')&$select=id,displayName,membershipRule&$top=999");
      assert.ok(groups.length >= 6, `dynamic groups: ${groups.length}`);
      assert.ok(groups.some((g) => g.id === DEMO_WINDOWS_GROUP));
      for (const g of groups) {
        const filter = RULE_AS_FILTER[g.membershipRule];
        assert.ok(filter, `a $filter for the rule of ${g.displayName}: ${g.membershipRule}`);
        const members = (await allPages(s, `/groups/${g.id}/members?$select=id&$top=999`)).map((m) => m.id).sort();
        const selected = (await allPages(s, `/devices?$filter=${encodeURIComponent(filter)}&$select=id&$top=999`)).map((d) => d.id).sort();
        assert.ok(selected.length > 0, `${g.displayName} selects some devices`);
        assert.deepEqual(members, selected, `${g.displayName}: ${g.membershipRule}`);
      }
    });

    it("static groups hold users or devices of the fleet", async () => {
      const groups = await allPages(s, "/groups?$filter=startswith(displayName,'FLT')&$select=id,displayName,groupTypes&$top=999");
      const statics = groups.filter((g) => g.groupTypes.length === 0);
      assert.ok(statics.length >= 4);
      for (const g of statics) {
        const members = await allPages(s, `/groups/${g.id}/members?$select=id&$top=999`);
        assert.ok(members.length >= 10, `${g.displayName} has members`);
        const types = new Set(members.map((m) => m["@odata.type"]));
        assert.equal(types.size, 1, `${g.displayName} holds one kind of member`);
        assert.ok(/Pilot users|Executives|Remote workers|Finance approvers|Field engineers|Help desk/.test(g.displayName) === types.has("#microsoft.graph.user"), g.displayName);
      }
    });

    it("bad input is 400 in the Graph envelope and creates nothing; without the permission it is 403", async () => {
      const before = await counts(s);
      const bad: unknown[] = [
        { devices: -1 },
        { devices: 1.5 },
        { devices: "10" },
        { devices: 1_000_001 },
        { devices: 10, groups: 10_001 },
        { devices: 10, users: -3 },
        { devices: 10, autopilot: "yes" },
        { devices: 10, colour: "blue" },
        [10],
      ];
      for (const body of bad) {
        const res = await s.call("POST", "/_allot/fleet", body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, "BadRequest");
        assert.ok(res.body.error.message.length > 10);
        assert.ok(res.body.error.innerError?.["request-id"], "the Graph envelope");
      }
      const minted = await fetch(`${s.url}/_allot/tokens`, {
        method: "POST",
        headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" },
        body: JSON.stringify({ tenant: DEMO_TENANT_ID, roles: ["DeviceManagementManagedDevices.Read.All"] }),
      });
      const token = (await minted.json()).access_token as string;
      const denied = await s.call("POST", "/_allot/fleet", { devices: 10 }, { authorization: `Bearer ${token}` });
      assert.equal(denied.status, 403);
      assert.deepEqual(await counts(s), before);
    });

    it("allot fleet sends the devices in batches, draws progress on stderr and prints the totals", async () => {
      const before = await counts(s);
      const { code, stdout, stderr } = await runCli(["--url", s.url, "--token", await s.token(), "--devices", "250", "--users", "20", "--groups", "3", "--autopilot", "--batch", "100", "--json"]);
      assert.equal(code, 0, stderr);
      const totals = JSON.parse(stdout);
      assert.deepEqual([totals.devices, totals.users, totals.groups], [250, 20, 3]);
      assert.ok(totals.autopilotDevices > 0 && totals.memberships > 0);
      assert.match(stderr, /100% 250\/250 devices/);
      assert.match(stderr, /\r\[#+-*\]\s+40% 100\/250 devices/);
      const after = await counts(s);
      assert.deepEqual([after.managed, after.users, after.groups, after.autopilot], [before.managed + 250, before.users + 20, before.groups + 3, before.autopilot + totals.autopilotDevices]);
      const refused = await runCli(["--url", s.url, "--token", await s.token(), "--devices", "10", "--groups", "20000"]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /groups.*at most 10,000/);
    });
  });
}

describe("fleet determinism", () => {
  // Runs 0 and 1 draw the devices on the request's thread, run 2 on a worker thread: all three must agree.
  it("the same seed on the same state creates the same fleet, wherever the devices are drawn", async () => {
    const ids: string[][] = [];
    const workerFrom = fleetDrawing.workerFrom;
    for (let run = 0; run < 3; run++) {
      fleetDrawing.workerFrom = run === 2 ? 1 : Number.POSITIVE_INFINITY;
      const s = await startTestServer("sqlite");
      try {
        await fleet(s, { devices: 60, users: 12, groups: 6, autopilot: true, seed: 42 });
        await fleet(s, { devices: 40, seed: 42 });
        const devices = await allPages(s, `${MD}?$select=id,deviceName,serialNumber,model,userPrincipalName,osVersion,complianceState,isEncrypted,azureADDeviceId&$top=999`);
        const entra = await allPages(s, "/devices?$select=id,deviceId,displayName,devicePhysicalIds,trustType&$top=999");
        const autopilot = await allPages(s, `${AP}?$select=id,serialNumber,groupTag,azureActiveDirectoryDeviceId,managedDeviceId&$top=999`);
        const users = await allPages(s, "/users?$select=id,userPrincipalName,department&$top=999");
        const groups = await allPages(s, "/groups?$select=id,displayName,membershipRule&$top=999");
        const members: string[] = [];
        for (const g of groups) members.push(...(await allPages(s, `/groups/${g.id}/members?$select=id&$top=999`)).map((m) => `${g.id}:${m.id}`));
        ids.push([JSON.stringify(devices), JSON.stringify(entra), JSON.stringify(autopilot), JSON.stringify(users), JSON.stringify(groups), JSON.stringify(members)]);
      } finally {
        await s.close();
        fleetDrawing.workerFrom = workerFrom;
      }
    }
    assert.ok(ids[0][0].length > 1000 && ids[0][5].length > 1000, "the fleet has devices and memberships");
    assert.deepEqual(ids[1], ids[0]);
    assert.deepEqual(ids[2], ids[0]);
  });
});
