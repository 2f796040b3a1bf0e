// The directory that assignments point at: static members through $ref, dynamic groups recomputed when a
// device or a rule changes, memberOf, and cleanup when objects are deleted — on both backends.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const ADELE = "a110c0de-0000-4000-8000-000000000101";
const MEGAN = "a110c0de-0000-4000-8000-000000000102";

let serial = 0;
const newDevice = (name: string, extra: Record<string, unknown> = {}) => ({
  accountEnabled: true,
  alternativeSecurityIds: [{ type: 2, key: Buffer.from(name).toString("base64") }],
  deviceId: crypto.randomUUID(),
  displayName: name,
  operatingSystem: "Windows",
  operatingSystemVersion: "10.0.22631.1",
  devicePhysicalIds: [`[ZTDId]:${++serial}`],
  ...extra,
});
const newGroup = (name: string, extra: Record<string, unknown> = {}) => ({
  displayName: name,
  mailEnabled: false,
  mailNickname: name.replace(/\W/g, "").toLowerCase(),
  securityEnabled: true,
  ...extra,
});

for (const backend of await backendsToTest()) {
  describe(`directory (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const memberIds = async (groupId: string) =>
      (await s.call("GET", `/groups/${groupId}/members?$select=id`)).body.value.map((m: any) => m.id).sort();

    it("static members: POST members/$ref adds, GET members lists with @odata.type, DELETE …/$ref removes", async () => {
      const g = (await s.call("POST", "/groups", newGroup("Static one"))).body;
      const add = await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `https://graph.microsoft.com/v1.0/directoryObjects/${ADELE}` });
      assert.equal(add.status, 204);
      await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/users/${MEGAN}` });
      const members = (await s.call("GET", `/groups/${g.id}/members`)).body.value;
      assert.deepEqual(members.map((m: any) => [m["@odata.type"], m.id]).sort(), [["#microsoft.graph.user", ADELE], ["#microsoft.graph.user", MEGAN]]);
      assert.equal((await s.call("GET", `/groups/${g.id}/members/${ADELE}`)).body.displayName, "Adele Vance");
      const refs = (await s.call("GET", `/groups/${g.id}/members/$ref`)).body;
      assert.equal(refs.value.length, 2);
      assert.match(refs.value[0]["@odata.id"], /directoryObjects\//);
      assert.equal((await s.call("DELETE", `/groups/${g.id}/members/${ADELE}/$ref`)).status, 204);
      assert.deepEqual(await memberIds(g.id), [MEGAN]);
      assert.equal((await s.call("DELETE", `/groups/${g.id}/members/${ADELE}/$ref`)).status, 404);
    });

    it("adding a member twice, an unknown object, or a malformed reference is 400/404 and changes nothing", async () => {
      const g = (await s.call("POST", "/groups", newGroup("Static two"))).body;
      await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` });
      const twice = await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` });
      assert.equal(twice.status, 400);
      assert.match(twice.body.error.message, /already exist/);
      assert.equal((await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${crypto.randomUUID()}` })).status, 404);
      assert.equal((await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": "not a url" })).status, 400);
      assert.equal((await s.call("POST", `/groups/${g.id}/members/$ref`, { nothing: 1 })).status, 400);
      assert.deepEqual(await memberIds(g.id), [ADELE]);
    });

    it("members@odata.bind on create adds the members in the same request", async () => {
      const res = await s.call("POST", "/groups", { ...newGroup("Bound"), "members@odata.bind": [`${s.graph}/directoryObjects/${ADELE}`] });
      assert.equal(res.status, 201);
      assert.deepEqual(await memberIds(res.body.id), [ADELE]);
    });

    it("a dynamic device group picks up devices as they are created and changed, and drops them", async () => {
      const g = (
        await s.call("POST", "/groups", newGroup("Tagged", { groupTypes: ["DynamicMembership"], membershipRule: '(device.devicePhysicalIds -any (_ -eq "[OrderID]:Kiosk-Tag"))' }))
      ).body;
      assert.equal(g.membershipRuleProcessingState, "On");
      assert.deepEqual(await memberIds(g.id), []);
      const d1 = (await s.call("POST", "/devices", newDevice("KIOSK-1", { devicePhysicalIds: ["[OrderID]:Kiosk-Tag"] }))).body;
      const d2 = (await s.call("POST", "/devices", newDevice("KIOSK-2"))).body;
      assert.deepEqual(await memberIds(g.id), [d1.id]);
      assert.equal((await s.call("PATCH", `/devices/${d2.id}`, { devicePhysicalIds: ["[OrderID]:kiosk-tag"] })).status, 204);
      assert.deepEqual(await memberIds(g.id), [d1.id, d2.id].sort(), "rule values compare case-insensitively");
      await s.call("PATCH", `/devices/${d1.id}`, { devicePhysicalIds: ["[OrderID]:Other"] });
      assert.deepEqual(await memberIds(g.id), [d2.id]);
      const memberOf = (await s.call("GET", `/devices/${d2.id}/memberOf`)).body.value.map((x: any) => x.id);
      assert.ok(memberOf.includes(g.id));
      await s.call("DELETE", `/devices/${d2.id}`);
      assert.deepEqual(await memberIds(g.id), []);
    });

    it("changing a rule recomputes the group; a paused rule freezes the membership", async () => {
      const g = (await s.call("POST", "/groups", newGroup("Models", { groupTypes: ["DynamicMembership"], membershipRule: 'device.deviceModel -eq "Surface Pro 9"' }))).body;
      assert.deepEqual(await memberIds(g.id), ["a110c0de-0000-4000-8000-000000000202"]);
      await s.call("PATCH", `/groups/${g.id}`, { membershipRule: 'device.deviceModel -startsWith "Surface Laptop"' });
      assert.deepEqual(await memberIds(g.id), ["a110c0de-0000-4000-8000-000000000201", "a110c0de-0000-4000-8000-000000000203"]);
      await s.call("PATCH", `/groups/${g.id}`, { membershipRuleProcessingState: "Paused" });
      const laptop = (await s.call("POST", "/devices", newDevice("LAPTOP-NEW", { model: "Surface Laptop 6" }))).body;
      assert.deepEqual(await memberIds(g.id), ["a110c0de-0000-4000-8000-000000000201", "a110c0de-0000-4000-8000-000000000203"], "paused: no one joins");
      await s.call("PATCH", `/groups/${g.id}`, { membershipRuleProcessingState: "On" });
      assert.ok((await memberIds(g.id)).includes(laptop.id), "resumed: the group catches up");
    });

    it("dynamic user groups follow user properties", async () => {
      const g = (await s.call("POST", "/groups", newGroup("Retail people", { groupTypes: ["DynamicMembership"], membershipRule: 'user.department -eq "Retail"' }))).body;
      assert.deepEqual(await memberIds(g.id), [ADELE]);
      await s.call("PATCH", `/users/${MEGAN}`, { department: "retail" });
      assert.deepEqual(await memberIds(g.id), [ADELE, MEGAN]);
      await s.call("PATCH", `/users/${MEGAN}`, { department: "Marketing" });
      assert.deepEqual(await memberIds(g.id), [ADELE]);
    });

    it("invalid rules and static members of dynamic groups are refused", async () => {
      const bad = await s.call("POST", "/groups", newGroup("Bad rule", { groupTypes: ["DynamicMembership"], membershipRule: 'device.deviceModel -eq' }));
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /membershipRule.*position/);
      const noRule = await s.call("POST", "/groups", newGroup("No rule", { groupTypes: ["DynamicMembership"] }));
      assert.equal(noRule.status, 400);
      const ruleOnStatic = await s.call("POST", "/groups", newGroup("Rule on static", { membershipRule: 'device.deviceModel -eq "x"' }));
      assert.equal(ruleOnStatic.status, 400);
      const dyn = (await s.call("POST", "/groups", newGroup("Dyn", { groupTypes: ["DynamicMembership"], membershipRule: 'user.city -eq "Nowhere"' }))).body;
      const add = await s.call("POST", `/groups/${dyn.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` });
      assert.equal(add.status, 400);
      assert.deepEqual(await memberIds(dyn.id), []);
    });

    it("a type-cast segment narrows members to one type: members/microsoft.graph.user", async () => {
      const g = (await s.call("POST", "/groups", newGroup("Mixed"))).body;
      await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` });
      await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/a110c0de-0000-4000-8000-000000000201` });
      const users = (await s.call("GET", `/groups/${g.id}/members/microsoft.graph.user?$count=true`)).body;
      assert.deepEqual(users.value.map((m: any) => m.id), [ADELE]);
      assert.equal(users["@odata.count"], 1);
      assert.match(users["@odata.context"], /members\/microsoft\.graph\.user$/);
      assert.equal((await s.call("GET", `/groups/${g.id}/members/microsoft.graph.device/$count`)).text, "1");
      assert.equal((await s.call("GET", `/groups/${g.id}/members/microsoft.graph.nothing`)).status, 400);
    });

    it("checkMemberGroups and getMemberGroups answer from the memberships", async () => {
      const g = (await s.call("POST", "/groups", newGroup("Checked"))).body;
      const nonSecurity = (await s.call("POST", "/groups", newGroup("Not security", { securityEnabled: false }))).body;
      for (const group of [g, nonSecurity]) await s.call("POST", `/groups/${group.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${MEGAN}` });
      const check = await s.call("POST", `/users/${MEGAN}/checkMemberGroups`, { groupIds: [g.id, "a110c0de-0000-4000-8000-000000000501"] });
      assert.equal(check.status, 200);
      assert.deepEqual(check.body.value, [g.id]);
      const all = (await s.call("POST", `/users/${MEGAN}/getMemberGroups`, { securityEnabledOnly: false })).body.value;
      assert.ok(all.includes(g.id) && all.includes(nonSecurity.id));
      const security = (await s.call("POST", `/users/${MEGAN}/microsoft.graph.getMemberGroups`, { securityEnabledOnly: true })).body.value;
      assert.ok(security.includes(g.id) && !security.includes(nonSecurity.id));
      assert.equal((await s.call("POST", `/users/${MEGAN}/checkMemberGroups`, { groupIds: "x" })).status, 400);
      assert.equal((await s.call("POST", `/users/${MEGAN}/checkMemberGroups`, {})).status, 400);
      assert.equal((await s.call("GET", `/users/${MEGAN}/checkMemberGroups`)).status, 400, "an action is POST only");
    });

    it("deleting a group or a member removes its membership rows", async () => {
      const g = (await s.call("POST", "/groups", newGroup("Temp"))).body;
      const u = (
        await s.call("POST", "/users", { accountEnabled: true, displayName: "Temp User", mailNickname: "temp", userPrincipalName: "temp@allotdemo.onmicrosoft.com", passwordProfile: { password: "x-Pass-1" } })
      ).body;
      await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${u.id}` });
      assert.equal((await s.call("GET", `/users/${u.id}/memberOf/$count`)).text, "1");
      await s.call("DELETE", `/users/${u.id}`);
      assert.deepEqual(await memberIds(g.id), []);
      await s.call("DELETE", `/groups/${g.id}`);
      assert.equal((await s.call("GET", `/groups/${g.id}/members`)).status, 404);
    });
  });
}
