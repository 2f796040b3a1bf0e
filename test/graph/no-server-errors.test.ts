// "No request, however malformed, gets a 500": random paths, query strings, methods and bodies against a real
// server, each answered below 500 in the Graph envelope.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { startTestServer, type TestServer } from "../support/allotUnderTest.js";

const segments = fc.oneof(
  fc.constantFrom("users", "groups", "devices", "deviceManagement", "members", "memberOf", "$count", "$ref", "$metadata", "microsoft.graph.user", "checkMemberGroups", "a110c0de-0000-4000-8000-000000000101", "a110c0de-0000-4000-8000-000000000503", "users('x')", "('", "%", "%2F", "",
    "deviceConfigurations", "assignmentFilters", "assignments", "rootCertificate", "identityCertificate", "assign", "validateFilter", "getState", "enable",
    "getPlatformSupportedProperties(platform='windows10AndLater')", "getPlatformSupportedProperties(platform=1)", "microsoft.graph.iosScepCertificateProfile"),
  fc.string({ maxLength: 12 }),
);
const options = fc.oneof(
  fc.constantFrom("$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand", "$search", "$skiptoken", "$format", "filter", "$bogus"),
  fc.string({ maxLength: 8 }),
);
const values = fc.oneof(
  fc.constantFrom("displayName eq 'x'", "startswith(", "groupTypes/any(t:t eq 'a')", "1", "-1", "true", "displayName desc", "members($select=id)", '"displayName:a"', "(((((", "'", "''"),
  fc.string({ maxLength: 30 }),
);
const bodies = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  fc.string({ maxLength: 40 }),
  fc.constant('{"@odata.type":"#microsoft.graph.nothing"}'),
  fc.constantFrom(
    '{"@odata.type":"#microsoft.graph.iosScepCertificateProfile","displayName":"x","rootCertificate@odata.bind":"x"}',
    '{"assignments":[{"target":{"@odata.type":"microsoft.graph.groupAssignmentTarget","groupId":"a110c0de-0000-4000-8000-000000000503"}}],"deviceConfigurationGroupAssignments":[{}]}',
    '{"deviceAndAppManagementAssignmentFilter":{"rule":"(device.model -eq"}}',
    '{"displayName":"f","rule":"((((","platform":"windows10AndLater"}',
  ),
);

describe("malformed requests never produce a 500", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer("sqlite");
  });
  after(() => s.close());

  it("random requests are answered below 500 in the Graph envelope", async () => {
    const token = await s.token();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT"),
        fc.constantFrom("/beta/", "/v1.0/"),
        fc.array(segments, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(options, values), { maxLength: 3 }),
        bodies,
        async (method, version, path, query, body) => {
          const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
          const url = `${s.url}${version}${path.map((p) => p.replace(/[?#]/g, "")).join("/")}${qs ? `?${qs}` : ""}`;
          const res = await fetch(url, {
            method,
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: method === "GET" || method === "DELETE" || body === undefined ? undefined : body,
          });
          const text = await res.text();
          assert.ok(res.status < 500, `${method} ${url} ${body ?? ""} → ${res.status} ${text}`);
          if (res.status >= 400) assert.ok(JSON.parse(text).error.code, `${method} ${url} answers in the Graph envelope`);
        },
      ),
      { numRuns: 400 },
    );
  });
});
