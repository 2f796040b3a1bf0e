// JSON batching over real HTTP, on both backends (spec §4.7; decisions: docs/decisions.md, "$batch"): the batch
// checked as a whole (limit, ids, dependsOn, write bodies), then every item through the same pipeline as a request
// of its own — its own token or the batch's, its own permission check, request-id and error envelope — with 424 for
// the dependents of a failed item, and no half-applied writes.

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ADELE = "a110c0de-0000-4000-8000-000000000101";
const JSON_ODATA = /^application\/json;odata\.metadata=minimal/;

interface BatchItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: any;
}

const groupBody = (displayName: string, extra: Record<string, unknown> = {}) => ({
  displayName,
  mailEnabled: false,
  mailNickname: displayName.replace(/\W/g, "").toLowerCase().slice(0, 60),
  securityEnabled: true,
  ...extra,
});
const uniqueName = (what: string) => `batch ${what} ${randomBytes(4).toString("hex")}`;
const base64 = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");

/** Every error body is Graph's envelope, carrying the item's own request-id. */
function assertItemError(item: BatchItemResponse | undefined, status: number, code: string | RegExp, message?: RegExp) {
  assert.ok(item, "no response for the item");
  assert.equal(item.status, status, JSON.stringify(item.body));
  if (typeof code === "string") assert.equal(item.body.error.code, code);
  else assert.match(item.body.error.code, code);
  if (message) assert.match(item.body.error.message, message);
  assert.match(item.headers["Content-Type"] ?? "", /^application\/json/);
  assert.equal(item.body.error.innerError["request-id"], item.headers["request-id"]);
  assert.match(item.body.error.innerError.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
}

function assertBatchError(res: { status: number; body: any; headers: Headers }, message: RegExp) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, "BadRequest");
  assert.match(res.body.error.message, message);
  assert.equal(res.body.error.innerError["request-id"], res.headers.get("request-id"));
  assert.equal(res.body.responses, undefined);
}

for (const backend of await backendsToTest()) {
  describe(`JSON batching (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const mint = async (roles: string[]) => {
      const res = await fetch(`${s.url}/_allot/tokens`, {
        method: "POST",
        headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" },
        body: JSON.stringify({ tenant: DEMO_TENANT_ID, roles }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const batch = async (requests: unknown[], options: { version?: "beta" | "v1.0"; headers?: Record<string, string> } = {}) =>
      s.call("POST", `/${options.version ?? "beta"}/$batch`, { requests }, options.headers);
    /** A batch that must answer 200: its responses by id. */
    const run = async (requests: unknown[], options: { version?: "beta" | "v1.0"; headers?: Record<string, string> } = {}) => {
      const res = await batch(requests, options);
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      const responses = res.body.responses as BatchItemResponse[];
      assert.equal(responses.length, requests.length);
      return { res, responses, byId: new Map(responses.map((r) => [r.id, r])) };
    };
    const groupsNamed = async (name: string) => {
      const res = await s.call("GET", `/groups?$filter=displayName eq '${name}'&$select=id,displayName`);
      assert.equal(res.status, 200);
      return res.body.value as Array<{ id: string }>;
    };

    describe("a mixed batch", () => {
      it("runs creates, reads and a dependent PATCH, each with its own status, headers, body and request-id", async () => {
        const name = uniqueName("mixed");
        const jobTitle = `Batch ${randomBytes(3).toString("hex")}`;
        const { res, responses, byId } = await run([
          { id: "create", method: "POST", url: "/groups", headers: { "Content-Type": "application/json" }, body: groupBody(name) },
          { id: "read", method: "GET", url: `/users/${ADELE}?$select=id,jobTitle` },
          { id: "patch", method: "PATCH", url: `/users/${ADELE}`, dependsOn: ["read"], headers: { "Content-Type": "application/json" }, body: { jobTitle } },
          { id: "reread", method: "GET", url: `users/${ADELE}?$select=id,jobTitle`, dependsOn: ["patch"] },
          { id: "missing", method: "GET", url: `/groups/${randomUUID()}` },
        ]);
        // Responses come in request order.
        assert.deepEqual(responses.map((r) => r.id), ["create", "read", "patch", "reread", "missing"]);

        const created = byId.get("create")!;
        assert.equal(created.status, 201);
        assert.match(created.body.id, GUID);
        assert.equal(created.body.displayName, name);
        assert.equal(created.body["@odata.context"], `${s.graph}/$metadata#groups/$entity`);
        assert.equal(created.headers.Location, `${s.graph}/groups/${created.body.id}`);
        assert.match(created.headers["Content-Type"]!, JSON_ODATA);

        const read = byId.get("read")!;
        assert.equal(read.status, 200);
        assert.equal(read.body.id, ADELE);
        assert.equal(read.headers["OData-Version"], "4.0");

        const patched = byId.get("patch")!;
        assert.equal(patched.status, 204);
        assert.equal(patched.body, undefined);
        assert.equal(patched.headers["Content-Type"], undefined);
        assert.equal(byId.get("reread")!.body.jobTitle, jobTitle);

        assertItemError(byId.get("missing"), 404, "Request_ResourceNotFound");

        // Each item has its own request-id, none of them the batch's.
        const ids = responses.map((r) => r.headers["request-id"]);
        for (const id of ids) assert.match(id ?? "", GUID);
        assert.equal(new Set(ids).size, ids.length);
        assert.ok(!ids.includes(res.headers.get("request-id")!));

        // The writes are there for ordinary requests.
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).body.displayName, name);
        assert.equal((await s.call("GET", `/users/${ADELE}?$select=jobTitle`)).body.jobTitle, jobTitle);
      });

      it("an item's client-request-id is its own header, else the batch's, echoed in its error envelope", async () => {
        const outer = randomUUID();
        const own = randomUUID();
        const { byId } = await run(
          [
            { id: "a", method: "GET", url: `/groups/${randomUUID()}`, headers: { "client-request-id": own } },
            { id: "b", method: "GET", url: `/groups/${randomUUID()}` },
          ],
          { headers: { "client-request-id": outer } },
        );
        assert.equal(byId.get("a")!.headers["client-request-id"], own);
        assert.equal(byId.get("a")!.body.error.innerError["client-request-id"], own);
        assert.equal(byId.get("b")!.headers["client-request-id"], outer);
        assert.equal(byId.get("b")!.body.error.innerError["client-request-id"], outer);
      });

      it("$count answers its text as a string; ConsistencyLevel and $search work per item", async () => {
        const direct = await s.call("GET", "/users/$count");
        const { byId } = await run([
          { id: "count", method: "GET", url: "/users/$count" },
          { id: "search", method: "GET", url: '/users?$search="displayName:Adele"&$count=true&$select=id', headers: { ConsistencyLevel: "eventual" } },
          { id: "nosearch", method: "GET", url: '/users?$search="displayName:Adele"' },
        ]);
        const count = byId.get("count")!;
        assert.equal(count.status, 200);
        assert.equal(typeof count.body, "string");
        assert.equal(count.body, direct.text);
        assert.match(count.headers["Content-Type"]!, /^text\/plain/);
        const search = byId.get("search")!;
        assert.equal(search.status, 200, JSON.stringify(search.body));
        assert.deepEqual(search.body.value.map((u: { id: string }) => u.id), [ADELE]);
        assert.equal(search.body["@odata.count"], 1);
        assert.equal(byId.get("nosearch")!.status, 400);
      });

      it("URLs: with or without a leading slash, absolute on this server, or with the version segment (the v3 client's form)", async () => {
        const { byId } = await run([
          { id: "slash", method: "GET", url: `/users/${ADELE}?$select=id` },
          { id: "bare", method: "GET", url: `users/${ADELE}?$select=id` },
          { id: "absolute", method: "GET", url: `${s.graph}/users/${ADELE}?$select=id` },
          { id: "versioned", method: "GET", url: `/beta/users/${ADELE}?$select=id` },
          { id: "elsewhere", method: "GET", url: `https://graph.microsoft.com/beta/users/${ADELE}` },
          { id: "unknown", method: "GET", url: "/usres" },
        ]);
        for (const id of ["slash", "bare", "absolute", "versioned"]) {
          assert.equal(byId.get(id)!.status, 200, id);
          assert.equal(byId.get(id)!.body.id, ADELE, id);
          assert.equal(byId.get(id)!.body["@odata.context"], `${s.graph}/$metadata#users(id)/$entity`, id);
        }
        assertItemError(byId.get("elsewhere"), 400, "BadRequest", /Invalid request URL/);
        assertItemError(byId.get("unknown"), 400, "BadRequest", /^Resource not found for the segment 'usres'\.$/);
      });

      it("v1.0 batches run against v1.0; an item URL naming a version keeps it", async () => {
        const { byId } = await run(
          [
            { id: "1", method: "GET", url: `/users/${ADELE}?$select=id` },
            { id: "2", method: "GET", url: `/v1.0/groups?$top=1&$select=id` },
            { id: "3", method: "GET", url: `/beta/users/${ADELE}?$select=id` },
            { id: "4", method: "GET", url: "/users?top=1&$select=id" },
          ],
          { version: "v1.0" },
        );
        assert.equal(byId.get("1")!.body["@odata.context"], `${s.url}/v1.0/$metadata#users(id)/$entity`);
        assert.equal(byId.get("2")!.body["@odata.context"], `${s.url}/v1.0/$metadata#groups(id)`);
        assert.ok(byId.get("2")!.body["@odata.nextLink"].startsWith(`${s.url}/v1.0/groups?`));
        assert.equal(byId.get("3")!.body["@odata.context"], `${s.graph}/$metadata#users(id)/$entity`);
        // On v1.0 `top=` without `$` is an ordinary parameter, as outside a batch.
        assert.ok(byId.get("4")!.body.value.length > 1);
      });
    });

    describe("the batch as a whole", () => {
      it("more than 20 requests is a 400 for the whole batch, and none of them runs; 20 are fine", async () => {
        const name = uniqueName("limit");
        const requests = [
          { id: "0", method: "POST", url: "/groups", headers: { "content-type": "application/json" }, body: groupBody(name) },
          ...Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), method: "GET", url: `/users/${ADELE}?$select=id` })),
        ];
        assertBatchError(await batch(requests), /^Number of requests inside batch exceeds the limit\.$/);
        assert.deepEqual(await groupsNamed(name), []);
        const { responses } = await run(requests.slice(0, 20));
        assert.deepEqual(responses.map((r) => r.status), [201, ...Array.from({ length: 19 }, () => 200)]);
      });

      it("ids are unique without regard to case: duplicates are a 400 for the whole batch", async () => {
        const name = uniqueName("dup");
        const res = await batch([
          { id: "Item", method: "POST", url: "/groups", headers: { "content-type": "application/json" }, body: groupBody(name) },
          { id: "item", method: "GET", url: "/users" },
        ]);
        assertBatchError(res, /^Request Id item has to be unique in a batch\.$/);
        assert.deepEqual(await groupsNamed(name), []);
      });

      it("dependsOn must name requests of the batch, not itself, and form no cycle; it ignores case", async () => {
        assertBatchError(await batch([{ id: "1", method: "GET", url: "/users", dependsOn: ["2"] }]), /depends on '2', which is not a request of this batch/);
        assertBatchError(await batch([{ id: "1", method: "GET", url: "/users", dependsOn: ["1"] }]), /cannot depend on itself/);
        assertBatchError(
          await batch([
            { id: "a", method: "GET", url: "/users", dependsOn: ["b"] },
            { id: "b", method: "GET", url: "/users", dependsOn: ["a"] },
          ]),
          /form a cycle/,
        );
        const { byId } = await run([
          { id: "First", method: "GET", url: "/users?$top=1" },
          { id: "second", method: "GET", url: "/groups?$top=1", dependsOn: ["first"] },
        ]);
        assert.equal(byId.get("second")!.status, 200);
      });

      it("a malformed batch is a 400: not JSON, no requests array, an empty one, an item of the wrong shape", async () => {
        assertBatchError(await s.call("POST", "/$batch", "{not json"), /Unable to read JSON request payload/);
        assertBatchError(await s.call("POST", "/$batch", { value: [] }), /'requests' array/);
        assertBatchError(await s.call("POST", "/$batch", { requests: {} }), /'requests' array/);
        assertBatchError(await batch([]), /empty/);
        assertBatchError(await batch(["GET /users"]), /index 0: each request is a JSON object/);
        assertBatchError(await batch([{ method: "GET", url: "/users" }]), /index 0: 'id' is required/);
        assertBatchError(await batch([{ id: 1, method: "GET", url: "/users" }]), /index 0: 'id' is required/);
        assertBatchError(await batch([{ id: "1", url: "/users" }]), /index 0: 'method' is required/);
        assertBatchError(await batch([{ id: "1", method: "GET", url: "/users" }, { id: "2", method: "HEAD", url: "/users" }]), /index 1: 'method'/);
        assertBatchError(await batch([{ id: "1", method: "GET" }]), /index 0: 'url' is required/);
        assertBatchError(await batch([{ id: "1", method: "GET", url: "/users", headers: ["x"] }]), /'headers'/);
        assertBatchError(await batch([{ id: "1", method: "GET", url: "/users", dependsOn: "0" }]), /'dependsOn'/);
      });

      it("the batch itself needs a valid token (401 for the whole batch)", async () => {
        const res = await batch([{ id: "1", method: "GET", url: "/users" }], { headers: { authorization: "" } });
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, "InvalidAuthenticationToken");
      });

      it("method names are case-insensitive; a GET item answers like the same GET outside a batch", async () => {
        const direct = await s.call("GET", `/users/${ADELE}`);
        const { byId } = await run([{ id: "1", method: "get", url: `/users/${ADELE}` }]);
        assert.deepEqual(byId.get("1")!.body, direct.body);
      });
    });

    describe("dependencies", () => {
      it("a dependent of a failed item answers 424 FailedDependency without running, transitively; independent items run", async () => {
        const name = uniqueName("424");
        const before = (await s.call("GET", `/users/${ADELE}?$select=officeLocation`)).body.officeLocation;
        const { byId } = await run([
          { id: "fails", method: "GET", url: `/users/${randomUUID()}` },
          { id: "patch", method: "PATCH", url: `/users/${ADELE}`, dependsOn: ["fails"], headers: { "content-type": "application/json" }, body: { officeLocation: "never" } },
          { id: "create", method: "POST", url: "/groups", dependsOn: ["patch"], headers: { "content-type": "application/json" }, body: groupBody(name) },
          { id: "free", method: "GET", url: `/users/${ADELE}?$select=id` },
        ]);
        assertItemError(byId.get("fails"), 404, "Request_ResourceNotFound");
        assertItemError(byId.get("patch"), 424, "FailedDependency", /'fails'/);
        assertItemError(byId.get("create"), 424, "FailedDependency", /'patch'/);
        assert.equal(byId.get("free")!.status, 200);
        assert.equal((await s.call("GET", `/users/${ADELE}?$select=officeLocation`)).body.officeLocation, before);
        assert.deepEqual(await groupsNamed(name), []);
      });

      it("a dependent runs after what it depends on (a delete after a read of the same group)", async () => {
        const group = (await s.call("POST", "/groups", groupBody(uniqueName("order")))).body;
        const { byId } = await run([
          { id: "read", method: "GET", url: `/groups/${group.id}?$select=id` },
          { id: "delete", method: "DELETE", url: `/groups/${group.id}`, dependsOn: ["read"] },
          { id: "gone", method: "GET", url: `/groups/${group.id}`, dependsOn: ["delete"] },
        ]);
        assert.equal(byId.get("read")!.status, 200);
        assert.equal(byId.get("delete")!.status, 204);
        assertItemError(byId.get("gone"), 404, "Request_ResourceNotFound");
      });
    });

    describe("authentication and permissions per item", () => {
      it("an item the batch's token may not do answers its own 403; the others succeed", async () => {
        const readUsers = await mint(["User.Read.All"]);
        const name = uniqueName("denied");
        const { byId } = await run(
          [
            { id: "users", method: "GET", url: "/users?$select=id" },
            { id: "groups", method: "GET", url: "/groups" },
            { id: "create", method: "POST", url: "/groups", headers: { "content-type": "application/json" }, body: groupBody(name) },
            { id: "adele", method: "GET", url: `/users/${ADELE}?$select=id` },
          ],
          { headers: { authorization: `Bearer ${readUsers}` } },
        );
        assert.equal(byId.get("users")!.status, 200);
        assert.equal(byId.get("adele")!.status, 200);
        assertItemError(byId.get("groups"), 403, "Authorization_RequestDenied", /Group\.Read\.All/);
        assertItemError(byId.get("create"), 403, "Authorization_RequestDenied", /Group\.ReadWrite\.All/);
        assert.deepEqual(await groupsNamed(name), []);
      });

      it("an item with its own Authorization header is authenticated with it instead of the batch's", async () => {
        const readUsers = await mint(["User.Read.All"]);
        const readGroups = await mint(["Group.Read.All"]);
        const { byId } = await run(
          [
            { id: "own", method: "GET", url: "/groups?$top=1&$select=id", headers: { Authorization: `Bearer ${readGroups}` } },
            { id: "ownCannot", method: "GET", url: "/users?$top=1", headers: { authorization: `Bearer ${readGroups}` } },
            { id: "outer", method: "GET", url: "/users?$top=1&$select=id" },
            { id: "forged", method: "GET", url: "/users?$top=1", headers: { authorization: `Bearer ${readUsers.slice(0, -4)}AAAA` } },
            { id: "empty", method: "GET", url: "/users?$top=1", headers: { authorization: "Basic dXNlcjpwYXNz" } },
          ],
          { headers: { authorization: `Bearer ${readUsers}` } },
        );
        assert.equal(byId.get("own")!.status, 200);
        assertItemError(byId.get("ownCannot"), 403, "Authorization_RequestDenied");
        assert.equal(byId.get("outer")!.status, 200);
        assertItemError(byId.get("forged"), 401, "InvalidAuthenticationToken");
        assertItemError(byId.get("empty"), 401, "InvalidAuthenticationToken");
      });
    });

    describe("bodies", () => {
      it("a write needs a body and a Content-Type header: otherwise the whole batch is a 400 and nothing runs", async () => {
        const name = uniqueName("noct");
        const first = { id: "ok", method: "POST", url: "/groups", headers: { "content-type": "application/json" }, body: groupBody(name) };
        assertBatchError(await batch([first, { id: "x", method: "POST", url: "/groups", body: groupBody(uniqueName("x")) }]), /^Write request id : x does not contain Content-Type header or body\.$/);
        assertBatchError(await batch([first, { id: "y", method: "PATCH", url: `/users/${ADELE}`, headers: { "content-type": "application/json" } }]), /Write request id : y does not contain/);
        assertBatchError(await batch([first, { id: "z", method: "POST", url: "/groups", body: "bm90IGpzb24=" }]), /Write request id : z does not contain/);
        assert.deepEqual(await groupsNamed(name), []);
        // GET and DELETE need neither.
        const { byId } = await run([{ id: "get", method: "GET", url: "/users?$top=1", body: { ignored: true } }]);
        assert.equal(byId.get("get")!.status, 200);
      });

      it("a base64 body without Content-Type that decodes to JSON is taken as JSON (Kiota's core sends writes so)", async () => {
        const name = uniqueName("b64");
        const jobTitle = `b64 ${randomBytes(3).toString("hex")}`;
        const { byId } = await run([
          { id: "create", method: "POST", url: "/groups", body: base64(groupBody(name)) },
          { id: "patch", method: "PATCH", url: `/users/${ADELE}`, body: Buffer.from(JSON.stringify({ jobTitle })).toString("base64url") },
        ]);
        assert.equal(byId.get("create")!.status, 201, JSON.stringify(byId.get("create")!.body));
        assert.equal(byId.get("create")!.body.displayName, name);
        assert.equal(byId.get("patch")!.status, 204);
        assert.equal((await groupsNamed(name)).length, 1);
        assert.equal((await s.call("GET", `/users/${ADELE}?$select=jobTitle`)).body.jobTitle, jobTitle);
      });

      it("with Content-Type application/json a string body is JSON text; other content types are the item's 415", async () => {
        const name = uniqueName("text");
        const { byId } = await run([
          { id: "text", method: "POST", url: "/groups", headers: { "Content-Type": "application/json" }, body: JSON.stringify(groupBody(name)) },
          { id: "broken", method: "POST", url: "/groups", headers: { "Content-Type": "application/json" }, body: "{not json" },
          { id: "plain", method: "POST", url: "/groups", headers: { "Content-Type": "text/plain" }, body: "hello" },
          { id: "binary", method: "POST", url: "/groups", headers: { "Content-Type": "image/png" }, body: "iVBORw0KGgo=" },
        ]);
        assert.equal(byId.get("text")!.status, 201);
        assert.equal(byId.get("text")!.body.displayName, name);
        assertItemError(byId.get("broken"), 400, "BadRequest", /Unable to read JSON request payload/);
        assertItemError(byId.get("plain"), 415, "UnsupportedMediaType");
        assertItemError(byId.get("binary"), 415, "UnsupportedMediaType");
      });

      it("a write that fails validation leaves nothing behind, while the other items commit", async () => {
        const bad = uniqueName("invalid");
        const badRule = uniqueName("badrule");
        const good = uniqueName("valid");
        const audits = async () => (await s.call("GET", "/deviceManagement/auditEvents/$count")).text;
        const auditsBefore = await audits();
        const { byId } = await run([
          { id: "unknown", method: "POST", url: "/groups", headers: { "content-type": "application/json" }, body: groupBody(bad, { color: "red" }) },
          {
            id: "rule",
            method: "POST",
            url: "/groups",
            headers: { "content-type": "application/json" },
            body: groupBody(badRule, { groupTypes: ["DynamicMembership"], membershipRule: "(device.displayName -eq", membershipRuleProcessingState: "On" }),
          },
          { id: "patch", method: "PATCH", url: `/users/${ADELE}`, headers: { "content-type": "application/json" }, body: { displayName: "x".repeat(300) } },
          { id: "good", method: "POST", url: "/groups", headers: { "content-type": "application/json" }, body: groupBody(good) },
        ]);
        // Directory objects answer Request_BadRequest, as outside a batch.
        assertItemError(byId.get("unknown"), 400, /BadRequest$/);
        assertItemError(byId.get("rule"), 400, /BadRequest$/);
        assertItemError(byId.get("patch"), 400, /BadRequest$/);
        assert.equal(byId.get("good")!.status, 201);
        assert.deepEqual(await groupsNamed(bad), []);
        assert.deepEqual(await groupsNamed(badRule), []);
        assert.equal((await s.call("GET", `/users/${ADELE}?$select=displayName`)).body.displayName, "Adele Vance");
        assert.equal((await groupsNamed(good)).length, 1);
        // One audit event: the good create's, correlated with that item's request-id.
        assert.equal(Number(await audits()), Number(auditsBefore) + 1);
        const events = await s.call("GET", `/deviceManagement/auditEvents?$filter=correlationId eq ${byId.get("good")!.headers["request-id"]}`);
        assert.equal(events.status, 200, events.text);
        assert.equal(events.body.value.length, 1);
        assert.equal(events.body.value[0].activity, "Create group");
      });
    });
  });
}
