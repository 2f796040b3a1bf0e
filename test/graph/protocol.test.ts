// The Graph protocol core over real HTTP, on both backends: URL resolution, query options, paging, writes,
// errors and headers, as spec §4 describes them.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVICE_1 = "a110c0de-0000-4000-8000-000000000201";
const USER_1 = "a110c0de-0000-4000-8000-000000000101";

const newUser = (n: string) => ({
  accountEnabled: true,
  displayName: `Proto ${n}`,
  mailNickname: `proto${n}`,
  userPrincipalName: `proto${n}@allotdemo.onmicrosoft.com`,
  passwordProfile: { password: "x-Pass-123" },
});

function assertGraphError(res: { status: number; body: any; headers: Headers }, status: number, code: string, message?: RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  if (message) assert.match(res.body.error.message, message);
  const inner = res.body.error.innerError;
  assert.match(inner.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, "innerError.date is UTC without fraction");
  assert.equal(inner["request-id"], res.headers.get("request-id"));
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
}

for (const backend of await backendsToTest()) {
  describe(`Graph protocol core (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    describe("headers and errors", () => {
      it("every response carries request-id and echoes client-request-id", async () => {
        const res = await s.call("GET", "/users", undefined, { "client-request-id": "abc-123" });
        assert.equal(res.status, 200);
        assert.match(res.headers.get("request-id")!, GUID);
        assert.equal(res.headers.get("client-request-id"), "abc-123");
        assert.ok(res.headers.get("x-ms-ags-diagnostic"));
      });
      it("client-request-id repeats the request id when the client sent none", async () => {
        const res = await s.call("GET", "/users");
        assert.equal(res.headers.get("client-request-id"), res.headers.get("request-id"));
      });
      it("a request without a token gets 401 InvalidAuthenticationToken in the Graph envelope", async () => {
        const res = await fetch(`${s.graph}/users`);
        const body = await res.json();
        assertGraphError({ status: res.status, body, headers: res.headers }, 401, "InvalidAuthenticationToken");
      });
      it("a forged token gets 401", async () => {
        const token = await s.token();
        const [h, p] = token.split(".");
        const res = await s.call("GET", "/users", undefined, { authorization: `Bearer ${h}.${p}.AAAA` });
        assertGraphError(res, 401, "InvalidAuthenticationToken");
      });
      it("an unknown segment gets 400 'Resource not found for the segment'", async () => {
        assertGraphError(await s.call("GET", "/usres"), 400, "BadRequest", /^Resource not found for the segment 'usres'\.$/);
        assertGraphError(await s.call("GET", `/users/${USER_1}/nonsense`), 400, "BadRequest", /segment 'nonsense'/);
      });
      it("a path without a version gets 404 'Invalid version'", async () => {
        const res = await s.call("GET", `${s.url}/deviceManagement/managedDevices`);
        assertGraphError(res, 404, "ResourceNotFound", /^Invalid version: devicemanagement$/);
      });
      it("a verb the path does not support gets the 'No OData route' error", async () => {
        const res = await s.call("PUT", `/users/${USER_1}`, { displayName: "x" });
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, "No method match route template");
        assert.match(res.body.error.message, /No OData route exists that match template ~\/entityset\/key with http verb PUT/);
        assertGraphError(await s.call("DELETE", "/users"), 400, "No method match route template", /~\/entityset with http verb DELETE/);
      });
      it("malformed JSON, a wrong content type and an oversized body get 400, 415 and 413", async () => {
        assertGraphError(await s.call("POST", "/users", "{not json"), 400, "BadRequest", /Unable to read JSON request payload/);
        assertGraphError(await s.call("POST", "/users", "a=b", { "content-type": "application/x-www-form-urlencoded" }), 415, "UnsupportedMediaType");
        const huge = JSON.stringify({ ...newUser("huge"), description: "x".repeat(5 * 1024 * 1024) });
        assertGraphError(await s.call("POST", "/users", huge), 413, "RequestEntityTooLarge");
      });
      it("garbage URLs never produce a 500", async () => {
        for (const path of ["/users('", "/users(')", "/%E0%A4%A", "/users?$filter=(((", "/users?$top=-1", "/users?$orderby=,", "/users?$select=a b", "/users?$expand=x(", "/users?$skiptoken=!!", "/users/$count/x", "/$metadata/x", "/users?$filter=displayName eq 'a' and"]) {
          const res = await s.call("GET", path);
          assert.ok(res.status >= 400 && res.status < 500, `${path} → ${res.status}`);
          assert.ok(res.body?.error?.code, `${path} answers in the Graph envelope`);
        }
      });
    });

    describe("reads", () => {
      it("GET by key, in both key syntaxes, with @odata.context …/$entity", async () => {
        const a = await s.call("GET", `/users/${USER_1}`);
        const b = await s.call("GET", `/users('${USER_1}')`);
        assert.equal(a.status, 200);
        assert.equal(a.body.id, USER_1);
        assert.equal(a.body["@odata.context"], `${s.graph}/$metadata#users/$entity`);
        assert.equal(b.body.displayName, a.body.displayName);
        assert.equal(a.body.passwordProfile, undefined, "write-only properties are never returned");
      });
      it("v1.0 serves the same state", async () => {
        const res = await s.call("GET", `/v1.0/users/${USER_1}`);
        assert.equal(res.status, 200);
        assert.equal(res.body["@odata.context"], `${s.url}/v1.0/$metadata#users/$entity`);
      });
      it("an id that does not exist is 404 Request_ResourceNotFound for directory objects", async () => {
        assertGraphError(await s.call("GET", "/users/00000000-0000-0000-0000-000000000000"), 404, "Request_ResourceNotFound");
      });
      it("$select returns only the selected properties and says so in @odata.context", async () => {
        const res = await s.call("GET", "/users?$select=displayName,mail");
        assert.equal(res.body["@odata.context"], `${s.graph}/$metadata#users(displayName,mail)`);
        for (const u of res.body.value) assert.deepEqual(Object.keys(u).sort(), ["displayName", "mail"]);
        assertGraphError(await s.call("GET", "/users?$select=nope"), 400, "BadRequest", /Could not find a property named 'nope'/);
      });
      it("on beta the $ prefix is optional; on v1.0 it is not", async () => {
        const beta = await s.call("GET", "/users?select=displayName&top=1");
        assert.deepEqual(Object.keys(beta.body.value[0]), ["displayName"]);
        assert.equal(beta.body.value.length, 1);
        const v1 = await s.call("GET", "/v1.0/users?top=1");
        assert.equal(v1.body.value.length, 3, "plain 'top' is an ordinary parameter on v1.0");
      });
      it("$filter covers comparison, logic, functions, in, lambdas, null and doubled quotes", async () => {
        const names = async (filter: string, set = "users") =>
          (await s.call("GET", `/${set}?$filter=${encodeURIComponent(filter)}&$select=displayName`)).body.value.map((v: any) => v.displayName).sort();
        assert.deepEqual(await names("displayName eq 'adele vance'"), ["Adele Vance"], "string eq is case-insensitive");
        assert.deepEqual(await names("startswith(displayName,'M') or endswith(displayName,'Wilke')"), ["Megan Bowen", "Nestor Wilke"]);
        assert.deepEqual(await names("contains(mail,'adele') and accountEnabled eq true"), ["Adele Vance"]);
        assert.deepEqual(await names("not (department eq 'Retail')"), ["Megan Bowen", "Nestor Wilke"]);
        assert.deepEqual(await names("department in ('Retail','Operations')"), ["Adele Vance", "Nestor Wilke"]);
        assert.deepEqual(await names("jobTitle eq null and (department ne 'Marketing')"), ["Adele Vance", "Nestor Wilke"]);
        assert.deepEqual(await names("displayName eq 'O''Brien'"), []);
        assert.deepEqual(await names("createdDateTime gt 2000-01-01T00:00:00Z"), ["Adele Vance", "Megan Bowen", "Nestor Wilke"]);
        assert.deepEqual(await names("devicePhysicalIds/any(p:p eq '[OrderID]:Microsoft365Managed_PowerUser')", "devices"), ["MMD-000000003"]);
        assert.deepEqual(await names("groupTypes/any(t:t eq 'DynamicMembership')", "groups"), ["All Windows devices", "Modern Workplace Device Profiles - Standard"]);
      });
      it("$filter errors: a non-filterable or unknown property, a type mismatch, a syntax error", async () => {
        assertGraphError(await s.call("GET", `/users?$filter=${encodeURIComponent("officeLocation eq 'x'")}`), 400, "BadRequest", /not supported/);
        assertGraphError(await s.call("GET", `/users?$filter=${encodeURIComponent("nope eq 'x'")}`), 400, "BadRequest", /nope/);
        assertGraphError(await s.call("GET", `/users?$filter=${encodeURIComponent("accountEnabled eq 'yes'")}`), 400, "BadRequest", /incompatible types/);
        assertGraphError(await s.call("GET", `/users?$filter=${encodeURIComponent("displayName eq")}`), 400, "BadRequest", /position/);
      });
      it("$orderby with several keys, asc and desc", async () => {
        const res = await s.call("GET", "/users?$orderby=department desc,displayName&$select=department");
        assert.deepEqual(res.body.value.map((u: any) => u.department), ["Retail", "Operations", "Marketing"]);
        assertGraphError(await s.call("GET", "/users?$orderby=businessPhones"), 400, "BadRequest", /Sorting on the property 'businessPhones'/);
      });
      it("$count=true adds @odata.count and /$count answers plain text", async () => {
        const res = await s.call("GET", "/users?$count=true&$top=1");
        assert.equal(res.body["@odata.count"], 3);
        assert.equal(res.body.value.length, 1);
        const count = await s.call("GET", "/users/$count");
        assert.equal(count.text, "3");
        assert.match(count.headers.get("content-type")!, /^text\/plain/);
      });
      it("$skip skips in the database", async () => {
        const all = (await s.call("GET", "/users?$orderby=displayName")).body.value.map((u: any) => u.id);
        const skipped = (await s.call("GET", "/users?$orderby=displayName&$skip=1")).body.value.map((u: any) => u.id);
        assert.deepEqual(skipped, all.slice(1));
      });
      it("$search needs ConsistencyLevel: eventual and matches the named property", async () => {
        assertGraphError(await s.call("GET", `/users?$search=${encodeURIComponent('"displayName:meg"')}`), 400, "Request_UnsupportedQuery", /ConsistencyLevel: eventual/);
        const res = await s.call("GET", `/users?$search=${encodeURIComponent('"displayName:meg"')}`, undefined, { consistencylevel: "eventual" });
        assert.deepEqual(res.body.value.map((u: any) => u.displayName), ["Megan Bowen"]);
        const anyProperty = await s.call("GET", `/users?$search=${encodeURIComponent('"bowen"')}`, undefined, { consistencylevel: "eventual" });
        assert.deepEqual(anyProperty.body.value.map((u: any) => u.displayName), ["Megan Bowen"], "a clause without a property searches them all");
      });
      it("$expand one level with a nested $select", async () => {
        const res = await s.call("GET", "/groups/a110c0de-0000-4000-8000-000000000503?$expand=members($select=displayName)");
        assert.deepEqual(res.body.members.map((m: any) => m.displayName).sort(), ["Adele Vance", "Megan Bowen"]);
        assert.equal(res.body.members[0]["@odata.type"], "#microsoft.graph.user");
        assertGraphError(await s.call("GET", "/groups?$expand=nothing"), 400, "BadRequest", /navigation property named 'nothing'/);
      });
      it("$metadata is CSDL generated from the model", async () => {
        const res = await fetch(`${s.graph}/$metadata`);
        const xml = await res.text();
        assert.match(res.headers.get("content-type")!, /xml/);
        assert.match(xml, /<EntityType Name="group" BaseType="microsoft.graph.directoryObject">/);
        assert.match(xml, /<NavigationProperty Name="members" Type="Collection\(microsoft.graph.directoryObject\)"\/>/);
        assert.match(xml, /<EntitySet Name="devices" EntityType="microsoft.graph.device"\/>/);
        assert.match(xml, /<Singleton Name="deviceManagement"/);
      });
    });

    describe("paging", () => {
      before(async () => {
        for (let i = 0; i < 25; i++) {
          const res = await s.call("POST", "/users", { ...newUser(`page${String(i).padStart(2, "0")}`), department: "Paging" });
          assert.equal(res.status, 201);
        }
      });
      const follow = async (first: string) => {
        const pages: any[] = [];
        let url: string | undefined = first;
        while (url) {
          const res = await s.call("GET", url);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          pages.push(res.body);
          url = res.body["@odata.nextLink"];
          if (url) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/beta\/users\?.*\$skiptoken=/, "nextLink is absolute");
        }
        return pages;
      };
      it("server-driven paging with $top as page size: every item exactly once, in insertion order", async () => {
        const pages = await follow(`/users?$filter=${encodeURIComponent("department eq 'Paging'")}&$top=10&$select=displayName`);
        assert.deepEqual(pages.map((p) => p.value.length), [10, 10, 5]);
        const names = pages.flatMap((p) => p.value.map((u: any) => u.displayName));
        assert.deepEqual(names, Array.from({ length: 25 }, (_, i) => `Proto page${String(i).padStart(2, "0")}`));
      });
      it("paging with $orderby descending", async () => {
        const pages = await follow(`/users?$filter=${encodeURIComponent("department eq 'Paging'")}&$top=7&$orderby=displayName desc&$select=displayName`);
        const names = pages.flatMap((p) => p.value.map((u: any) => u.displayName));
        assert.equal(names.length, 25);
        assert.deepEqual(names, [...names].sort().reverse());
      });
      it("the default page is the configured maximum", async () => {
        const small = await startTestServer(backend, { maxPageSize: 2 });
        try {
          const res = await small.call("GET", "/users");
          assert.equal(res.body.value.length, 2);
          assert.ok(res.body["@odata.nextLink"]);
          const more = await small.call("GET", "/users?$top=50");
          assert.equal(more.body.value.length, 2, "$top cannot exceed the maximum page size");
        } finally {
          await small.close();
        }
      });
      it("a skiptoken of another query is refused", async () => {
        const first = await s.call("GET", "/users?$top=1");
        const token = new URL(first.body["@odata.nextLink"]).searchParams.get("$skiptoken")!;
        assertGraphError(await s.call("GET", `/users?$top=1&$filter=${encodeURIComponent("department eq 'Paging'")}&$skiptoken=${token}`), 400, "BadRequest", /skiptoken/);
      });
    });

    describe("writes", () => {
      it("POST answers 201 with the entity; the server sets id and createdDateTime", async () => {
        const res = await s.call("POST", "/users", newUser("w1"));
        assert.equal(res.status, 201);
        assert.match(res.body.id, GUID);
        assert.ok(Date.parse(res.body.createdDateTime) > Date.now() - 60_000);
        assert.equal(res.body["@odata.context"], `${s.graph}/$metadata#users/$entity`);
        const read = await s.call("GET", `/users/${res.body.id}`);
        assert.equal(read.body.displayName, "Proto w1");
      });
      it("read-only properties in a body are ignored; unknown properties are 400", async () => {
        const res = await s.call("POST", "/users", { ...newUser("w2"), id: "my-own-id", createdDateTime: "2001-01-01T00:00:00Z" });
        assert.equal(res.status, 201);
        assert.notEqual(res.body.id, "my-own-id");
        assert.notEqual(res.body.createdDateTime, "2001-01-01T00:00:00.000Z");
        assertGraphError(await s.call("POST", "/users", { ...newUser("w3"), favouriteColour: "blue" }), 400, "BadRequest", /'favouriteColour' does not exist on type 'microsoft.graph.user'/);
      });
      it("type errors, missing required properties, lengths and a foreign @odata.type are 400 and change nothing", async () => {
        const before = (await s.call("GET", "/users/$count")).text;
        assertGraphError(await s.call("POST", "/users", { ...newUser("w4"), accountEnabled: "yes" }), 400, "BadRequest", /Edm.Boolean/);
        const { mailNickname: _m, ...missing } = newUser("w5");
        assertGraphError(await s.call("POST", "/users", missing), 400, "BadRequest", /'mailNickname' is required/);
        assertGraphError(await s.call("POST", "/users", { ...newUser("w6"), displayName: "x".repeat(257) }), 400, "BadRequest", /maximum length of 256/);
        assertGraphError(await s.call("POST", "/users", { ...newUser("w7"), "@odata.type": "#microsoft.graph.group" }), 400, "BadRequest", /not compatible/);
        assertGraphError(await s.call("POST", "/users", [newUser("w8")]), 400, "BadRequest", /JSON object/);
        assert.equal((await s.call("GET", "/users/$count")).text, before);
      });
      it("an abstract type cannot be created", async () => {
        assertGraphError(await s.call("POST", "/users", { ...newUser("w9"), "@odata.type": "#microsoft.graph.directoryObject" }), 400, "BadRequest");
      });
      it("PATCH is partial; directory objects answer 204", async () => {
        const created = (await s.call("POST", "/users", newUser("p1"))).body;
        const res = await s.call("PATCH", `/users/${created.id}`, { jobTitle: "Engineer" });
        assert.equal(res.status, 204);
        const read = (await s.call("GET", `/users/${created.id}`)).body;
        assert.equal(read.jobTitle, "Engineer");
        assert.equal(read.displayName, "Proto p1");
        assertGraphError(await s.call("PATCH", `/users/${created.id}`, { displayName: null }), 400, "BadRequest", /cannot be set to null/);
      });
      it("DELETE answers 204 and the entity is gone", async () => {
        const created = (await s.call("POST", "/users", newUser("d1"))).body;
        assert.equal((await s.call("DELETE", `/users/${created.id}`)).status, 204);
        assert.equal((await s.call("GET", `/users/${created.id}`)).status, 404);
        assert.equal((await s.call("DELETE", `/users/${created.id}`)).status, 404);
      });
      it("a duplicate userPrincipalName is refused", async () => {
        assertGraphError(await s.call("POST", "/users", { ...newUser("dup"), userPrincipalName: "ADELE@allotdemo.onmicrosoft.com" }), 400, "Request_BadRequest", /userPrincipalName already exists/);
      });
    });

    it("the device with a matching group tag is a dynamic member of the profile group", async () => {
      const res = await s.call("GET", "/groups/a110c0de-0000-4000-8000-000000000501/members");
      assert.deepEqual(res.body.value.map((m: any) => m.id), [DEVICE_1]);
    });
  });
}
