// The Managed Desktop support API over raw HTTP (no Microsoft client models it), on both backends: every example
// of seed 000 and spec §1 for profiles, reassignProfile, devices and users, and the effects of a reassignment as
// both MMD and Graph show them.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const ROOT = `/support/odata/v1/tenants/${DEMO_TENANT_ID}`;
const CONTEXT = "https://mmd-support-prod-nam.trafficmanager.net/odata/v1/$metadata#";

async function mint(s: TestServer, body: Record<string, unknown>) {
  const res = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify({ tenant: DEMO_TENANT_ID, ...body }) });
  return (await res.json()).access_token as string;
}

for (const backend of await backendsToTest()) {
  describe(`Managed Desktop support API (${backend})`, () => {
    let s: TestServer;
    let mmd: string;
    const call = async (method: string, path: string, body?: unknown, token = mmd, query = "") => {
      const res = await fetch(`${s.url}${path}${query}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, text, body: json, type: res.headers.get("content-type") ?? "" };
    };
    const enroll = async (name: string, groupTag: string) => {
      const res = await s.call("POST", "/_allot/devices", { deviceName: name, userPrincipalName: "adele@allotdemo.onmicrosoft.com", autopilot: { groupTag } });
      assert.equal(res.status, 201);
      return res.body as { managedDeviceId: string; azureADDeviceId: string; entraObjectId: string; autopilotDeviceId: string };
    };
    const reassign = (persona: string, wipe: string | undefined, body: unknown, token = mmd) =>
      call("PATCH", `${ROOT}/profiles/reassignProfile`, body, token, `?persona=${encodeURIComponent(persona)}${wipe === undefined ? "" : `&wipe=${wipe}`}`);

    before(async () => {
      s = await startTestServer(backend, { lifecycle: "0.2s" });
      mmd = await mint(s, { roles: ["MmdSupport.ReadWrite"], audience: "mmd" });
    });
    after(() => s.close());

    it("List profiles: each persona with its status, the enabled ones as the documents show them", async () => {
      const res = await call("GET", `${ROOT}/profiles`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        "@odata.context": `${CONTEXT}Profile`,
        value: [
          { id: "SensitiveData", status: "Enabled" },
          { id: "Standard", status: "Enabled" },
          { id: "PowerUser", status: "Enabled" },
          { id: "Kiosk", status: "Disabled" },
        ],
      });
    });

    it("seed 000 example 1: a persona not enabled for the tenant", async () => {
      const dev = await enroll("MMD-K1", "Microsoft365Managed_Standard");
      const res = await reassign("Kiosk", "false", [dev.azureADDeviceId]);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { errorCode: "400", message: `Kiosk not enabled for tenant ${DEMO_TENANT_ID}, only SensitiveData,Standard,PowerUser are enabled`, instanceAnnotations: [] });
    });

    it("seed 000 example 2: a persona that is not supported, checked before anything else", async () => {
      for (const persona of ["Nope", "Starter", ""]) {
        const res = await reassign(persona, "maybe", "not even json");
        assert.deepEqual([res.status, res.body], [400, { errorCode: "400", message: "This persona is not supported.", instanceAnnotations: [] }], persona);
      }
    });

    it("a bad body or wipe flag is a flat 400, unknown devices are a 400, and nothing changes", async () => {
      const dev = await enroll("MMD-B1", "Microsoft365Managed_Standard");
      for (const body of ["{oops", { ids: [] }, [], ["not-a-guid"], [42]]) {
        const res = await reassign("SensitiveData", "false", body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.errorCode, "400");
      }
      assert.equal((await reassign("SensitiveData", "perhaps", [dev.azureADDeviceId])).status, 400);
      const unknown = await reassign("SensitiveData", "false", [dev.azureADDeviceId, "00000000-0000-4000-8000-00000000beef"]);
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.message, /00000000-0000-4000-8000-00000000beef/);
      const device = (await call("GET", `${ROOT}/devices/MMD-B1`)).body;
      assert.deepEqual([device.persona, device.profileAssignmentStatus], ["Standard", "Successful"], "nothing changed");
    });

    it("success: 200 text/plain, then the device moves: group tag, persona group, status, Autopilot — in MMD and Graph", async () => {
      const dev = await enroll("MMD-S1", "Microsoft365Managed_Standard");
      const twin = await enroll("MMD-S2", "Microsoft365Managed_Standard-Shared");
      const res = await reassign("SensitiveData", "false", [dev.azureADDeviceId, dev.azureADDeviceId.toUpperCase(), twin.azureADDeviceId]);
      assert.equal(res.status, 200);
      assert.match(res.type, /^text\/plain/);
      assert.equal(res.text, "Successfully start reassigning devices to profile SensitiveData");
      assert.equal((await call("GET", `${ROOT}/devices/MMD-S1`)).body.profileAssignmentStatus, "InProgress");
      const deadline = Date.now() + 10_000;
      let device = (await call("GET", `${ROOT}/devices/MMD-S1`)).body;
      while (device.profileAssignmentStatus !== "Successful" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        device = (await call("GET", `${ROOT}/devices/MMD-S1`)).body;
      }
      assert.deepEqual([device.persona, device.profileAssignmentStatus, device.aadDeviceId], ["SensitiveData", "Successful", dev.azureADDeviceId]);
      assert.ok(device.groups.some((g: any) => g.displayName === "Modern Workplace Device Profiles - SensitiveData"));
      assert.ok(!device.groups.some((g: any) => g.displayName === "Modern Workplace Device Profiles - Standard"));
      const identity = (await s.call("GET", `/deviceManagement/windowsAutopilotDeviceIdentities/${dev.autopilotDeviceId}`)).body;
      assert.equal(identity.groupTag, "Microsoft365Managed_SensitiveData");
      const entra = (await s.call("GET", `/devices/${dev.entraObjectId}`)).body;
      assert.ok(entra.devicePhysicalIds.includes("[OrderID]:Microsoft365Managed_SensitiveData"));
      let shared = (await s.call("GET", `/deviceManagement/windowsAutopilotDeviceIdentities/${twin.autopilotDeviceId}`)).body;
      for (let i = 0; i < 100 && shared.groupTag !== "Microsoft365Managed_SensitiveData-Shared"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        shared = (await s.call("GET", `/deviceManagement/windowsAutopilotDeviceIdentities/${twin.autopilotDeviceId}`)).body;
      }
      assert.equal(shared.groupTag, "Microsoft365Managed_SensitiveData-Shared", "a shared device stays shared");
      const audit = (await s.call("GET", `/deviceManagement/auditEvents?$filter=${encodeURIComponent("activityType eq 'reassignProfile'")}`)).body.value;
      assert.equal(audit.filter((e: any) => e.resources[0].resourceId === dev.managedDeviceId).length, 1, "one audit event per device");
    });

    it("a reassignment moves the configurations of the persona groups and leaves groups on other properties alone", async () => {
      const groupNamed = async (name: string) => (await s.call("GET", `/groups?$filter=${encodeURIComponent(`displayName eq '${name}'`)}`)).body.value[0].id as string;
      const members = async (groupId: string) => ((await s.call("GET", `/groups/${groupId}/members?$select=id&$top=999`)).body.value as any[]).map((m) => m.id as string);
      const standard = await groupNamed("Modern Workplace Device Profiles - Standard");
      const windows = await groupNamed("All Windows devices");
      const configuration = async (name: string, groupId: string) => {
        const c = await s.call("POST", "/deviceManagement/deviceConfigurations", { "@odata.type": "#microsoft.graph.windows10CustomConfiguration", displayName: name, omaSettings: [] });
        assert.equal(c.status, 201, c.text);
        const a = await s.call("POST", `/deviceManagement/deviceConfigurations/${c.body.id}/assignments`, { target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId } });
        assert.equal(a.status, 201, a.text);
        return c.body.id as string;
      };
      const reached = async (configurationId: string) =>
        ((await s.call("GET", `/deviceManagement/deviceConfigurations/${configurationId}/deviceStatuses`)).body.value as any[]).map((x) => x.deviceDisplayName as string);
      const dev = await enroll("MMD-C1", "Microsoft365Managed_Standard");
      const onStandard = await configuration("MMD standard profile settings", standard);
      const onWindows = await configuration("Windows baseline", windows);
      assert.ok((await members(standard)).includes(dev.entraObjectId));
      assert.ok((await members(windows)).includes(dev.entraObjectId));
      assert.ok((await reached(onStandard)).includes("MMD-C1"));
      assert.ok((await reached(onWindows)).includes("MMD-C1"));

      assert.equal((await reassign("SensitiveData", "false", [dev.azureADDeviceId])).status, 200);
      const deadline = Date.now() + 10_000;
      while ((await call("GET", `${ROOT}/devices/MMD-C1`)).body.profileAssignmentStatus !== "Successful" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(!(await members(standard)).includes(dev.entraObjectId), "out of the old persona group");
      assert.ok(!(await reached(onStandard)).includes("MMD-C1"), "so the old persona group's configuration no longer reaches it");
      const sensitive = await groupNamed("Modern Workplace Device Profiles - SensitiveData");
      assert.ok((await members(sensitive)).includes(dev.entraObjectId), "in the new persona group");
      assert.ok((await members(windows)).includes(dev.entraObjectId), "a rule on another property keeps its member");
      assert.ok((await reached(onWindows)).includes("MMD-C1"), "and its configuration keeps reaching the device");
    });

    it("wipe=true wipes the managed device through Graph's wipe", async () => {
      const dev = await enroll("MMD-W1", "Microsoft365Managed_Standard");
      assert.equal((await reassign("PowerUser", "true", [dev.azureADDeviceId])).status, 200);
      const deadline = Date.now() + 10_000;
      let results: any[] = [];
      while (Date.now() < deadline && !results.some((r) => r.actionName === "wipe")) {
        await new Promise((r) => setTimeout(r, 50));
        results = (await s.call("GET", `/deviceManagement/managedDevices/${dev.managedDeviceId}?$select=deviceActionResults`)).body.deviceActionResults;
      }
      assert.ok(results.some((r) => r.actionName === "wipe"));
    });

    it("a managed device deleted through Graph takes its profile assignment with it", async () => {
      const dev = await enroll("MMD-D1", "Microsoft365Managed_Standard");
      assert.equal((await reassign("SensitiveData", "false", [dev.azureADDeviceId])).status, 200);
      const d = s.allot.db.dialect;
      const profileRows = () => s.allot.db.all(`SELECT persona, status FROM mmd_device_profiles WHERE tenant_id = ${d.param(1)} AND managed_device_id = ${d.param(2)}`, [DEMO_TENANT_ID, dev.managedDeviceId]);
      const deadline = Date.now() + 10_000;
      while ((await profileRows()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual((await profileRows()).map((r) => [r.persona, r.status]), [["SensitiveData", "Successful"]]);
      assert.equal((await s.call("DELETE", `/deviceManagement/managedDevices/${dev.managedDeviceId}`)).status, 204);
      assert.deepEqual(await profileRows(), [], "no profile row outlives its device");
      assert.equal((await call("GET", `${ROOT}/devices/MMD-D1`)).status, 404);
    });

    it("PowerUser is refused for shared devices", async () => {
      const dev = await enroll("MMD-P1", "Microsoft365Managed_Standard-Shared");
      const res = await reassign("PowerUser", "false", [dev.azureADDeviceId]);
      assert.equal(res.status, 400);
      assert.match(res.body.message, /shared/);
    });

    it("auth: the MMD audience, MmdSupport.ReadWrite, delegated MWaaSDevice.Read for reads only, the token's tenant only", async () => {
      const graphToken = await s.token();
      assert.equal((await call("GET", `${ROOT}/profiles`, undefined, graphToken)).status, 401, "a Graph token is for another audience");
      const noRole = await mint(s, { roles: [], audience: "mmd" });
      assert.equal((await call("GET", `${ROOT}/devices`, undefined, noRole)).status, 403);
      const reader = await mint(s, { user: "megan@allotdemo.onmicrosoft.com", scopes: ["MWaaSDevice.Read"], audience: "mmd" });
      assert.equal((await call("GET", `${ROOT}/devices`, undefined, reader)).status, 200);
      assert.equal((await call("GET", `${ROOT}/profiles`, undefined, reader)).status, 200);
      const denied = await reassign("Standard", "false", ["a110c0de-0000-4000-8000-000000000301"], reader);
      assert.deepEqual([denied.status, denied.body.errorCode], [403, "403"]);
      const other = await call("GET", "/support/odata/v1/tenants/00000000-0000-4000-8000-000000000000/devices");
      assert.equal(other.status, 403);
      assert.deepEqual(Object.keys(other.body), ["error"]);
      assert.equal((await call("GET", `${ROOT}/devices`, undefined, "garbage")).status, 401);
    });

    it("devices: list with $top/$skip/$searchText, groups and configurations empty in lists; get by name", async () => {
      const list = await call("GET", `${ROOT}/devices`);
      assert.equal(list.body["@odata.context"], `${CONTEXT}Devices`);
      assert.ok(list.body.value.length >= 5);
      assert.ok(list.body.value.every((d: any) => Array.isArray(d.groups) && d.groups.length === 0 && d.configurations.length === 0));
      const page = await call("GET", `${ROOT}/devices`, undefined, mmd, "?$top=2&$skip=1");
      assert.deepEqual(page.body.value.map((d: any) => d.name), list.body.value.slice(1, 3).map((d: any) => d.name));
      const search = await call("GET", `${ROOT}/devices`, undefined, mmd, "?$searchText=mmd-s");
      assert.deepEqual(search.body.value.map((d: any) => d.name).sort(), ["MMD-S1", "MMD-S2"]);
      const one = await call("GET", `${ROOT}/devices/MMD-S1`);
      assert.equal(one.body["@odata.context"], `${CONTEXT}Devices/$entity`);
      assert.ok(one.body.groups.length > 0 && one.body.groups.every((g: any) => "countMembers" in g));
      const missing = await call("GET", `${ROOT}/devices/NOPE`);
      assert.deepEqual([missing.status, missing.body], [404, { error: { code: "404", message: "This device does not exist." } }]);
      assert.equal((await call("GET", `${ROOT}/devices`, undefined, mmd, "?$top=x")).status, 400);
    });

    it("tickets: create with the required fields, list with $filter/$orderby/$top/$skip, get by key, addNote, notes", async () => {
      const base = { title: "Laptop won't boot", description: "Black screen", type: "Incident", category: "Devices", subcategory: "Hardware", severity: 2, contact: { givenName: "Adele", surname: "Vance", email: "adele@allotdemo.onmicrosoft.com", phoneNumber: "+1 555 0100" } };
      const created = await call("POST", "/support/odata/v1/tickets", base);
      assert.equal(created.status, 200);
      assert.match(created.body.id, /^MMD-\d{7}-[A-Z0-9]{5}$/);
      assert.deepEqual([created.body.state, created.body.severity, created.body.contact.givenName], ["active", 2, "Adele"]);
      await call("POST", "/support/odata/v1/tickets", { ...base, title: "Question", type: "RequestForInformation", severity: 4 });
      const { contact: _c, ...noContact } = base;
      const missing = await call("POST", "/support/odata/v1/tickets", noContact);
      assert.equal(missing.status, 400);
      assert.deepEqual(Object.keys(missing.body), ["error"]);
      assert.equal(missing.body.error.code, "400");
      const filtered = await call("GET", "/support/odata/v1/tickets", undefined, mmd, `?$filter=${encodeURIComponent("severity eq 4")}`);
      assert.deepEqual(filtered.body.value.map((t: any) => t.title), ["Question"]);
      const ordered = await call("GET", "/support/odata/v1/tickets", undefined, mmd, `?$skip=0&$top=50&$orderby=${encodeURIComponent("createdDateTime desc")}`);
      assert.deepEqual(ordered.body.value.map((t: any) => t.title), ["Question", "Laptop won't boot"]);
      const one = await call("GET", `/support/odata/v1/tickets('${created.body.id}')`);
      assert.equal(one.body.id, created.body.id);
      assert.equal((await call("POST", `/support/odata/v1/tickets('${created.body.id}')/addNote`, { text: "Tried a restart" })).status, 204);
      const notes = (await call("GET", `/support/odata/v1/tickets('${created.body.id}')/notes`)).body.value;
      assert.deepEqual(notes.map((n: any) => [n.id, n.type, n.renderType, n.text]), [[1, "post", "html", "Tried a restart"]]);
      assert.equal((await call("GET", "/support/odata/v1/tickets('MMD-0000000-XXXXX')")).status, 404);
      assert.equal((await call("POST", `/support/odata/v1/tickets('${created.body.id}')/addNote`, {})).status, 400);
    });

    it("elevation requests: create 201 (PascalCase body), 404 for an unknown device, 403 past the open limit; close 204, 400 twice, 404 unknown; list with $filter; details", async () => {
      await enroll("MMD-E1", "Microsoft365Managed_Standard");
      const body = { PartnerTicketId: "T-1", DeviceName: "MMD-E1", Title: "Install driver", Category: "Office", Subcategory: "Add-ins", PlanOfAction: "Install it" };
      const created = await call("POST", `${ROOT}/elevationRequests`, body);
      assert.equal(created.status, 201);
      assert.deepEqual([created.body.deviceName, created.body.category, created.body.ttl, created.body.eTag, created.body.isDeleted], ["MMD-E1", "Office", 7776000, null, false]);
      const unknownDevice = await call("POST", `${ROOT}/elevationRequests`, { ...body, DeviceName: "NOPE" });
      assert.deepEqual([unknownDevice.status, unknownDevice.body], [404, { error: { code: "404", message: "This device does not exist." } }]);
      await call("POST", `${ROOT}/elevationRequests`, body);
      await call("POST", `${ROOT}/elevationRequests`, body);
      const tooMany = await call("POST", `${ROOT}/elevationRequests`, body);
      assert.deepEqual([tooMany.status, tooMany.body.error.message], [403, "This device has too many open elevation requests."]);
      const details = await call("GET", `${ROOT}/devices/MMD-E1/elevationDetails`);
      assert.equal(details.status, 200);
      assert.deepEqual([details.body.deviceName, details.body.status, details.body.openedElevationRequestId !== undefined], ["MMD-E1", "PasswordSucceeded", true]);
      assert.equal((await call("GET", `${ROOT}/devices/MMD-E1/elevationDetails`)).body.password, details.body.password, "the same password until closed");
      assert.equal((await call("PATCH", `${ROOT}/elevationRequests/${created.body.id}`, { ActionsTaken: "Installed" })).status, 204);
      const again = await call("PATCH", `${ROOT}/elevationRequests/${created.body.id}`, { ActionsTaken: "Installed" });
      assert.deepEqual([again.status, again.body.error.message], [400, "This elevation request was already closed."]);
      const unknown = await call("PATCH", `${ROOT}/elevationRequests/00000000-0000-4000-8000-000000000000`, { ActionsTaken: "x" });
      assert.deepEqual([unknown.status, unknown.body.error.message], [404, "This elevation request does not exist."]);
      const byDevice = await call("GET", `${ROOT}/elevationRequests`, undefined, mmd, `?$filter=${encodeURIComponent("deviceName eq 'MMD-E1'")}`);
      assert.equal(byDevice.body.value.length, 3);
      const byCategory = await call("GET", `${ROOT}/elevationRequests`, undefined, mmd, `?$filter=${encodeURIComponent("contains(category,'Office')")}&$top=1`);
      assert.equal(byCategory.body.value.length, 1);
    });

    it("users: list; get by UPN answers a value array with the collection's context", async () => {
      const list = await call("GET", `${ROOT}/users`);
      assert.equal(list.body["@odata.context"], `${CONTEXT}Users`);
      assert.ok(list.body.value.some((u: any) => u.upn === "adele@allotdemo.onmicrosoft.com"));
      const one = await call("GET", `${ROOT}/users/adele@allotdemo.onmicrosoft.com`);
      assert.equal(one.body["@odata.context"], `${CONTEXT}Users`);
      assert.equal(one.body.value.length, 1);
      assert.equal(one.body.value[0].name, "Adele Vance");
      assert.ok(one.body.value[0].devices.some((d: any) => d.name === "MMD-S1"), "the devices Adele uses");
      assert.equal((await call("GET", `${ROOT}/users/nobody@allotdemo.onmicrosoft.com`)).status, 404);
    });
  });
}
