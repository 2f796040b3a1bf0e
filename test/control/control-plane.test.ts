// The /_allot control plane and tenant isolation, on both backends.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, startTestServer, tokenFor, type TestServer } from "../support/allotUnderTest.js";

const OTHER_TENANT = "b0b0b0b0-0000-4000-8000-000000000001";
const OTHER_APP = "b0b0b0b0-0000-4000-8000-0000000000a1";
const ADELE = "a110c0de-0000-4000-8000-000000000101";

const otherFixture = (extraUsers: Record<string, unknown>[] = []) => ({
  tenants: [
    {
      id: OTHER_TENANT,
      displayName: "Other",
      domain: "other.onmicrosoft.com",
      apps: [{ clientId: OTHER_APP, secrets: ["other-secret"], roles: ["User.ReadWrite.All", "Group.ReadWrite.All"] }],
      users: [
        { id: "b0b0b0b0-0000-4000-8000-000000000101", accountEnabled: true, displayName: "Olga", mailNickname: "olga", userPrincipalName: "olga@other.onmicrosoft.com", passwordProfile: { password: "p-Ass-1" } },
        ...extraUsers,
      ],
    },
  ],
});

for (const backend of await backendsToTest()) {
  describe(`control plane and tenant isolation (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());
    const admin = { "x-allot-admin-key": DEFAULT_ADMIN_KEY };

    it("GET /_allot/health needs no token", async () => {
      const res = await fetch(`${s.url}/_allot/health`);
      const body = await res.json();
      assert.equal(res.status, 200);
      assert.equal(body.status, "ok");
      assert.equal(body.store, backend);
    });

    it("seeding needs the admin key; a bad fixture is refused whole", async () => {
      assert.equal((await s.call("POST", "/_allot/seed", otherFixture())).status, 403);
      const dup = otherFixture([{ accountEnabled: true, displayName: "Dup", mailNickname: "dup", userPrincipalName: "OLGA@other.onmicrosoft.com", passwordProfile: { password: "p-Ass-1" } }]);
      const bad = await s.call("POST", "/_allot/seed", dup, admin);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /userPrincipalName already exists/);
      const token = await fetch(`${s.url}/${OTHER_TENANT}/oauth2/v2.0/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: OTHER_APP, client_secret: "other-secret", scope: "https://graph.microsoft.com/.default" }),
      });
      assert.equal(token.status, 400, "the tenant of the refused fixture does not exist");
      assert.equal((await token.json()).error_codes[0], 90002);
    });

    it("a seeded tenant works, and tenants cannot see each other", async () => {
      const res = await s.call("POST", "/_allot/seed", otherFixture(), admin);
      assert.equal(res.status, 200);
      const other = await tokenFor(s.url, OTHER_TENANT, OTHER_APP, "other-secret");
      const h = { authorization: `Bearer ${other}` };
      const list = await s.call("GET", "/users", undefined, h);
      assert.deepEqual(list.body.value.map((u: any) => u.displayName), ["Olga"]);
      assert.equal((await s.call("GET", "/users/$count", undefined, h)).text, "1");
      const foreign = await s.call("GET", `/users/${ADELE}`, undefined, h);
      const missing = await s.call("GET", "/users/a110c0de-0000-4000-8000-00000000ffff", undefined, h);
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error.code, missing.body.error.code);
      assert.equal(foreign.body.error.message.replace(ADELE, "X"), missing.body.error.message.replace("a110c0de-0000-4000-8000-00000000ffff", "X"), "another tenant's id answers like an id that does not exist");
      assert.equal((await s.call("PATCH", `/users/${ADELE}`, { jobTitle: "hacked" }, h)).status, 404);
      assert.equal((await s.call("DELETE", `/users/${ADELE}`, undefined, h)).status, 404);
      assert.equal((await s.call("GET", `/users/${ADELE}`)).body.jobTitle, null, "nothing changed in the demo tenant");
      const g = (await s.call("POST", "/groups", { displayName: "Theirs", mailEnabled: false, mailNickname: "theirs", securityEnabled: true }, h)).body;
      assert.equal((await s.call("POST", `/groups/${g.id}/members/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` }, h)).status, 404);
    });

    it("a token without the permission gets 403 and changes nothing", async () => {
      const other = await tokenFor(s.url, OTHER_TENANT, OTHER_APP, "other-secret");
      const res = await s.call("POST", "/devices", { displayName: "x" }, { authorization: `Bearer ${other}` });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, "Authorization_RequestDenied");
      assert.equal((await s.call("GET", "/devices", undefined, { authorization: `Bearer ${other}` })).status, 403);
    });

    it("reset of one tenant returns it to its seed; its identity stays", async () => {
      const created = await s.call("POST", "/users", { accountEnabled: true, displayName: "Ephemeral", mailNickname: "eph", userPrincipalName: "eph@allotdemo.onmicrosoft.com", passwordProfile: { password: "p-Ass-1" } });
      assert.equal(created.status, 201);
      const res = await s.call("POST", "/_allot/reset", {});
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.reset, ["a110c0de-0000-4000-8000-000000000001"]);
      assert.equal((await s.call("GET", `/users/${created.body.id}`)).status, 404);
      assert.equal((await s.call("GET", "/users/$count")).text, "3");
      assert.equal((await s.call("GET", "/groups/a110c0de-0000-4000-8000-000000000501/members/$count")).text, "1", "dynamic memberships are back");
      const other = await tokenFor(s.url, OTHER_TENANT, OTHER_APP, "other-secret");
      assert.equal((await s.call("GET", "/users/$count", undefined, { authorization: `Bearer ${other}` })).text, "1", "the other tenant is untouched");
    });

    it("a token may not reset another tenant, and resetting everything needs the admin key", async () => {
      assert.equal((await s.call("POST", "/_allot/reset", { tenant: OTHER_TENANT })).status, 403);
      assert.equal((await s.call("POST", "/_allot/reset", { all: true })).status, 403);
      const all = await s.call("POST", "/_allot/reset", { all: true }, admin);
      assert.equal(all.status, 200);
      assert.equal(all.body.reseeded, true);
      const gone = await fetch(`${s.url}/${OTHER_TENANT}/oauth2/v2.0/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: OTHER_APP, client_secret: "other-secret", scope: "https://graph.microsoft.com/.default" }),
      });
      assert.equal(gone.status, 400, "tenants not in the startup seed are gone");
      assert.equal((await s.call("GET", "/users/$count")).text, "3");
    });
  });
}
