// Every write leaves an audit event (who, what, when, request id), readable as deviceManagement/auditEvents.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_CLIENT_ID, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

for (const backend of await backendsToTest()) {
  describe(`audit events (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const events = async (filter?: string) =>
      (await s.call("GET", `/deviceManagement/auditEvents${filter ? `?$filter=${encodeURIComponent(filter)}` : ""}`)).body;

    it("the seed writes nothing to the audit log", async () => {
      const res = await events();
      assert.deepEqual(res.value, []);
      assert.equal(res["@odata.context"], `${s.graph}/$metadata#deviceManagement/auditEvents`);
    });

    it("create, patch, member changes and delete are each recorded with actor, resource, changes and request id", async () => {
      const created = await s.call("POST", "/groups", { displayName: "Audited", mailEnabled: false, mailNickname: "audited", securityEnabled: true }, { "client-request-id": "c1" });
      const createRequestId = created.headers.get("request-id")!;
      await s.call("PATCH", `/groups/${created.body.id}`, { description: "now described" });
      await s.call("POST", `/groups/${created.body.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/a110c0de-0000-4000-8000-000000000101` });
      await s.call("DELETE", `/groups/${created.body.id}`);
      const all = (await events()).value;
      assert.deepEqual(all.map((e: any) => e.activityType), ["Create group", "Patch group", "Add member to group", "Delete group"]);
      const create = all[0];
      assert.equal(create.correlationId, createRequestId);
      assert.equal(create.activityOperationType, "Create");
      assert.equal(create.activityResult, "Success");
      assert.equal(create.category, "Directory");
      assert.equal(create.actor.applicationId, DEMO_CLIENT_ID);
      assert.equal(create.resources[0].resourceId, created.body.id);
      assert.equal(create.resources[0].auditResourceType, "microsoft.graph.group");
      assert.ok(create.resources[0].modifiedProperties.some((m: any) => m.displayName === "displayName" && m.newValue === "Audited"));
      const patch = all[1];
      assert.deepEqual(patch.resources[0].modifiedProperties, [{ displayName: "description", oldValue: "", newValue: "now described" }]);
      assert.deepEqual(all[2].resources[0].modifiedProperties, [{ displayName: "members", oldValue: "", newValue: "a110c0de-0000-4000-8000-000000000101" }]);
      assert.ok(Date.parse(create.activityDateTime) <= Date.parse(all[3].activityDateTime));
    });

    it("a refused write leaves no audit event; reads and read-only actions leave none either", async () => {
      const before = (await events()).value.length;
      assert.equal((await s.call("POST", "/groups", { displayName: "x" })).status, 400);
      await s.call("GET", "/groups");
      await s.call("POST", "/users/a110c0de-0000-4000-8000-000000000101/checkMemberGroups", { groupIds: [] });
      assert.equal((await events()).value.length, before);
    });

    it("a user's write names the user; passwords never appear", async () => {
      const token = (
        await (
          await fetch(`${s.url}/_allot/tokens`, {
            method: "POST",
            headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" },
            body: JSON.stringify({ tenant: DEMO_TENANT_ID, user: "megan@allotdemo.onmicrosoft.com", scopes: ["User.ReadWrite.All"] }),
          })
        ).json()
      ).access_token;
      const res = await s.call("POST", "/users", { accountEnabled: true, displayName: "By Megan", mailNickname: "bymegan", userPrincipalName: "bymegan@allotdemo.onmicrosoft.com", passwordProfile: { password: "Very-Secret-1" } }, { authorization: `Bearer ${token}` });
      assert.equal(res.status, 201);
      const [event] = (await events(`activityType eq 'Create user'`)).value;
      assert.equal(event.actor.userPrincipalName, "megan@allotdemo.onmicrosoft.com");
      assert.equal(event.actor.userId, "a110c0de-0000-4000-8000-000000000102");
      assert.ok(!JSON.stringify(event).includes("Very-Secret-1"));
      assert.ok(!event.resources[0].modifiedProperties.some((m: any) => m.displayName === "passwordProfile"));
    });

    it("filters on activityDateTime, category, componentName and activityType; get by id; writes have no route", async () => {
      const since = new Date(Date.now() - 60_000).toISOString();
      const filtered = await events(`activityDateTime ge ${since} and category eq 'Directory' and componentName eq 'Directory' and startswith(activityType,'Create')`);
      assert.ok(filtered.value.length >= 2);
      assert.ok(filtered.value.every((e: any) => e.activityType.startsWith("Create")));
      const one = await s.call("GET", `/deviceManagement/auditEvents/${filtered.value[0].id}`);
      assert.equal(one.body.id, filtered.value[0].id);
      assert.equal((await s.call("POST", "/deviceManagement/auditEvents", { displayName: "forged" })).status, 400);
      assert.equal((await s.call("DELETE", `/deviceManagement/auditEvents/${one.body.id}`)).status, 400);
      const noPermission = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify({ tenant: DEMO_TENANT_ID, roles: ["User.Read.All"] }) });
      const t = (await noPermission.json()).access_token;
      assert.equal((await s.call("GET", "/deviceManagement/auditEvents", undefined, { authorization: `Bearer ${t}` })).status, 403);
    });
  });
}
