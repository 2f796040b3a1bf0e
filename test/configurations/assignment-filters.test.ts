// Assignment filters over HTTP, on both backends (spec §2.9): CRUD, the rule checked by the filter language for
// its platform, the limits, validateFilter, getState/enable, the supported-properties functions, the `payloads`
// reverse index kept current by every kind of assignment change, and the documented refusal to delete a filter in use.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const CONFIGS = "/deviceManagement/deviceConfigurations";
const FILTERS = "/deviceManagement/assignmentFilters";
const GROUP = "a110c0de-0000-4000-8000-000000000501";
const OTHER_GROUP = "a110c0de-0000-4000-8000-000000000503";
const ALL_DEVICES = "acacacac-9df4-4c7d-9d50-4ef0226f57a9";
const NS = "#microsoft.graph.";
const RULE = '(device.manufacturer -eq "Microsoft Corporation") and (device.operatingSystemVersion -ge 10.0.22000)';
const IN_USE =
  "Unable to delete assignment filter – An assignment filter is associated with existing assignments. Delete all the assignments for the filter and try again.";

let n = 0;
const filterBody = (extra: Record<string, unknown> = {}) => ({ displayName: `Filter ${++n}`, platform: "windows10AndLater", rule: RULE, ...extra });
async function createFilter(s: TestServer, extra: Record<string, unknown> = {}) {
  const res = await s.call("POST", FILTERS, filterBody(extra));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Record<string, any>;
}
async function createConfig(s: TestServer) {
  const res = await s.call("POST", CONFIGS, { "@odata.type": `${NS}windows10CustomConfiguration`, displayName: `Config ${++n}` });
  assert.equal(res.status, 201);
  return res.body as Record<string, any>;
}
const filtered = (groupId: string, filterId: string, type = "include") => ({
  target: { "@odata.type": `${NS}groupAssignmentTarget`, groupId, deviceAndAppManagementAssignmentFilterId: filterId, deviceAndAppManagementAssignmentFilterType: type },
});
const allDevices = (filterId: string, type = "exclude") => ({
  target: { "@odata.type": `${NS}allDevicesAssignmentTarget`, deviceAndAppManagementAssignmentFilterId: filterId, deviceAndAppManagementAssignmentFilterType: type },
});
const payloadsOf = async (s: TestServer, id: string) => {
  const res = await s.call("GET", `${FILTERS}/${id}`);
  assert.equal(res.status, 200);
  return (res.body.payloads as Record<string, unknown>[]).map((p) => `${p.payloadId}|${p.groupId}|${p.assignmentFilterType}`).sort();
};
const entry = (configId: string, groupId: string, type = "include") => `${configId}|${groupId}|${type}`;

for (const backend of await backendsToTest()) {
  describe(`assignment filters (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    describe("CRUD and the rule", () => {
      it("create 201 with defaults, list, get, PATCH 200 with the entity, DELETE 204", async () => {
        const f = await createFilter(s, { payloads: [{ payloadId: "forged" }], description: "Surface devices" });
        assert.deepEqual([f.platform, f.assignmentFilterManagementType, f.payloads, f.roleScopeTags, f.rule], ["windows10AndLater", "devices", [], ["0"], RULE]);
        assert.ok(f.createdDateTime && f.lastModifiedDateTime);
        assert.equal(f["@odata.context"], `${s.graph}/$metadata#deviceManagement/assignmentFilters/$entity`);
        const listed = await s.call("GET", `${FILTERS}?$filter=displayName eq '${f.displayName}'`);
        assert.deepEqual(listed.body.value.map((x: any) => x.id), [f.id]);
        const patched = await s.call("PATCH", `${FILTERS}/${f.id}`, { rule: '(device.deviceName -startsWith "KIOSK")', createdDateTime: "2001-01-01T00:00:00Z" });
        assert.equal(patched.status, 200);
        assert.deepEqual([patched.body.id, patched.body.rule, patched.body.createdDateTime], [f.id, '(device.deviceName -startsWith "KIOSK")', f.createdDateTime]);
        assert.equal((await s.call("DELETE", `${FILTERS}/${f.id}`)).status, 204);
        assert.equal((await s.call("GET", `${FILTERS}/${f.id}`)).status, 404);
      });

      it("a rule with a syntax error is 400 naming the position and what was expected; nothing is created or changed", async () => {
        const before = (await s.call("GET", FILTERS)).body.value.length;
        const bad = await s.call("POST", FILTERS, filterBody({ rule: '(device.manufacturer -eq "Microsoft"' }));
        assert.equal(bad.status, 400);
        assert.match(bad.body.error.message, /position \d+: expected .* but found/);
        const unknownOperator = await s.call("POST", FILTERS, filterBody({ rule: '(device.manufacturer -like "M*")' }));
        assert.equal(unknownOperator.status, 400);
        assert.match(unknownOperator.body.error.message, /position 21/);
        assert.equal((await s.call("GET", FILTERS)).body.value.length, before);
        const f = await createFilter(s);
        const patch = await s.call("PATCH", `${FILTERS}/${f.id}`, { rule: "(device.model -eq)" });
        assert.equal(patch.status, 400);
        assert.equal((await s.call("GET", `${FILTERS}/${f.id}`)).body.rule, RULE);
      });

      it("the platform decides the supported properties: an app property on a device platform, or a platform change that breaks the rule, is 400", async () => {
        const app = await s.call("POST", FILTERS, filterBody({ rule: '(app.appVersion -eq "1.0")' }));
        assert.equal(app.status, 400);
        const onApps = await s.call("POST", FILTERS, filterBody({ platform: "androidMobileApplicationManagement", assignmentFilterManagementType: "apps", rule: '(app.appVersion -eq "1.0")' }));
        assert.equal(onApps.status, 201, JSON.stringify(onApps.body));
        const f = await createFilter(s);
        const moved = await s.call("PATCH", `${FILTERS}/${f.id}`, { platform: "iOSMobileApplicationManagement" });
        assert.equal(moved.status, 400);
        assert.equal((await s.call("GET", `${FILTERS}/${f.id}`)).body.platform, "windows10AndLater");
        assert.equal((await s.call("POST", FILTERS, filterBody({ platform: "windows11" }))).status, 400);
        assert.equal((await s.call("POST", FILTERS, { displayName: "no rule", platform: "windows10AndLater" })).status, 400);
      });

      it("a rule of 3,072 characters is accepted and one of 3,073 is refused", async () => {
        const clause = '(device.deviceName -eq "X")';
        const build = (length: number) => {
          let rule = clause;
          const tail = (k: number) => ` and (device.model -eq "${"Y".repeat(k)}")`;
          while (rule.length + clause.length + 5 + tail(1).length <= length) rule += ` and ${clause}`;
          return rule + tail(length - rule.length - tail(0).length);
        };
        const exact = build(3072);
        assert.equal(exact.length, 3072);
        assert.equal((await s.call("POST", FILTERS, filterBody({ rule: exact }))).status, 201);
        const over = await s.call("POST", FILTERS, filterBody({ rule: build(3073) }));
        assert.equal(over.status, 400);
        assert.match(over.body.error.message, /3072/);
      });
    });

    describe("operations", () => {
      it("validateFilter answers 200 with an assignmentFilterValidationResult, for a valid and an invalid rule", async () => {
        const ok = await s.call("POST", `${FILTERS}/validateFilter`, { deviceAndAppManagementAssignmentFilter: { platform: "windows10AndLater", rule: RULE } });
        assert.equal(ok.status, 200);
        assert.deepEqual(ok.body.value, { "@odata.type": "microsoft.graph.assignmentFilterValidationResult", isValidRule: true });
        const bad = await s.call("POST", `${FILTERS}/validateFilter`, { deviceAndAppManagementAssignmentFilter: { displayName: "x", platform: "windows10AndLater", rule: "(device.model -eq" } });
        assert.equal(bad.status, 200);
        assert.equal(bad.body.value.isValidRule, false);
        const wrongPlatform = await s.call("POST", `${FILTERS}/validateFilter`, { deviceAndAppManagementAssignmentFilter: { platform: "iOS", rule: '(device.operatingSystemSKU -eq "Enterprise")' } });
        assert.equal(wrongPlatform.body.value.isValidRule, false, "operatingSystemSKU is a Windows property");
        assert.equal((await s.call("POST", `${FILTERS}/validateFilter`, {})).status, 400);
        assert.equal((await s.call("POST", `${FILTERS}/validateFilter`, { deviceAndAppManagementAssignmentFilter: { rule: 5 } })).status, 400);
        assert.equal((await s.call("GET", `${FILTERS}/validateFilter`)).status, 400);
      });

      it("getState answers {value:{enabled}}; enable answers 204 and switches the tenant's state", async () => {
        const state = async () => {
          const res = await s.call("GET", `${FILTERS}/getState`);
          assert.equal(res.status, 200);
          return res.body.value;
        };
        assert.deepEqual(await state(), { enabled: true });
        const off = await s.call("POST", `${FILTERS}/enable`, { enable: false });
        assert.equal(off.status, 204);
        assert.deepEqual(await state(), { enabled: false });
        assert.equal((await s.call("POST", `${FILTERS}/enable`, { enable: "yes" })).status, 400);
        assert.equal((await s.call("POST", `${FILTERS}/enable`, {})).status, 400);
        assert.deepEqual(await state(), { enabled: false });
        assert.equal((await s.call("POST", `${FILTERS}/enable`, { enable: true })).status, 204);
        assert.deepEqual(await state(), { enabled: true });
      });

      it("getPlatformSupportedProperties(platform='windows10AndLater') and an instance's getSupportedProperties list assignmentFilterSupportedProperty", async () => {
        const res = await s.call("GET", `${FILTERS}/getPlatformSupportedProperties(platform='windows10AndLater')`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body["@odata.context"], `${s.graph}/$metadata#Collection(microsoft.graph.assignmentFilterSupportedProperty)`);
        const names = res.body.value.map((p: any) => p.name);
        assert.ok(names.includes("operatingSystemSKU") && names.includes("deviceName"), names.join());
        const version = res.body.value.find((p: any) => p.name === "operatingSystemVersion");
        assert.ok(version.supportedOperators.includes("greaterThanOrEquals"));
        assert.deepEqual(Object.keys(version).sort(), ["dataType", "isCollection", "name", "propertyRegexConstraint", "supportedOperators", "supportedValues"]);
        const ios = await s.call("GET", `${FILTERS}/getPlatformSupportedProperties(platform='iOS')`);
        assert.ok(!ios.body.value.some((p: any) => p.name === "operatingSystemSKU"));
        assert.equal((await s.call("GET", `${FILTERS}/getPlatformSupportedProperties(platform='windows11')`)).status, 400);
        assert.equal((await s.call("GET", `${FILTERS}/getPlatformSupportedProperties()`)).status, 400);
        const f = await createFilter(s);
        const own = await s.call("GET", `${FILTERS}/${f.id}/getSupportedProperties`);
        assert.equal(own.status, 200);
        assert.deepEqual(own.body.value, res.body.value);
      });
    });

    describe("payloads, the reverse index of the assignments using a filter", () => {
      it("is kept current when assignments are created, PATCHed, deleted, replaced by assign, and when the configuration is deleted", async () => {
        const f1 = await createFilter(s);
        const f2 = await createFilter(s);
        const c1 = await createConfig(s);
        const c2 = await createConfig(s);
        const a = await s.call("POST", `${CONFIGS}/${c1.id}/assignments`, filtered(GROUP, f1.id));
        assert.equal(a.status, 201);
        await s.call("POST", `${CONFIGS}/${c2.id}/assignments`, allDevices(f1.id));
        assert.deepEqual(await payloadsOf(s, f1.id), [entry(c1.id, GROUP), entry(c2.id, ALL_DEVICES, "exclude")].sort());
        const full = (await s.call("GET", `${FILTERS}/${f1.id}`)).body.payloads.find((p: any) => p.payloadId === c1.id);
        assert.deepEqual(full, { payloadId: c1.id, payloadType: "deviceConfigurationAndCompliance", groupId: GROUP, assignmentFilterType: "include" });

        // PATCH moves the assignment to another filter.
        assert.equal((await s.call("PATCH", `${CONFIGS}/${c1.id}/assignments/${a.body.id}`, filtered(GROUP, f2.id, "exclude"))).status, 200);
        assert.deepEqual(await payloadsOf(s, f1.id), [entry(c2.id, ALL_DEVICES, "exclude")]);
        assert.deepEqual(await payloadsOf(s, f2.id), [entry(c1.id, GROUP, "exclude")]);

        // assign replaces the set: the index follows.
        const assigned = await s.call("POST", `${CONFIGS}/${c1.id}/assign`, { assignments: [filtered(OTHER_GROUP, f1.id), filtered(GROUP, f1.id, "exclude")] });
        assert.equal(assigned.status, 200);
        assert.deepEqual(await payloadsOf(s, f2.id), []);
        assert.deepEqual(await payloadsOf(s, f1.id), [entry(c1.id, OTHER_GROUP), entry(c1.id, GROUP, "exclude"), entry(c2.id, ALL_DEVICES, "exclude")].sort());

        // A refused assign changes nothing.
        assert.equal((await s.call("POST", `${CONFIGS}/${c1.id}/assign`, { assignments: [filtered(GROUP, "0bad0bad-0000-4000-8000-000000000000")] })).status, 400);
        assert.equal((await payloadsOf(s, f1.id)).length, 3);

        // Deleting an assignment, then the configuration, removes their entries.
        const [first] = assigned.body.value;
        assert.equal((await s.call("DELETE", `${CONFIGS}/${c1.id}/assignments/${first.id}`)).status, 204);
        assert.deepEqual(await payloadsOf(s, f1.id), [entry(c1.id, GROUP, "exclude"), entry(c2.id, ALL_DEVICES, "exclude")].sort());
        assert.equal((await s.call("DELETE", `${CONFIGS}/${c1.id}`)).status, 204);
        assert.deepEqual(await payloadsOf(s, f1.id), [entry(c2.id, ALL_DEVICES, "exclude")]);
        assert.equal((await s.call("POST", `${CONFIGS}/${c2.id}/assign`, { assignments: [] })).status, 200);
        assert.deepEqual(await payloadsOf(s, f1.id), []);
      });

      it("deleting a filter in use is 400 with the documented message and the filter stays; once unused it deletes", async () => {
        const f = await createFilter(s);
        const c = await createConfig(s);
        const a = await s.call("POST", `${CONFIGS}/${c.id}/assignments`, filtered(GROUP, f.id));
        const refused = await s.call("DELETE", `${FILTERS}/${f.id}`);
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error.message, IN_USE);
        assert.equal((await s.call("GET", `${FILTERS}/${f.id}`)).status, 200);
        assert.equal((await s.call("DELETE", `${CONFIGS}/${c.id}/assignments/${a.body.id}`)).status, 204);
        assert.equal((await s.call("DELETE", `${FILTERS}/${f.id}`)).status, 204);
      });
    });

    describe("limits", () => {
      it("a tenant holds at most 200 filters: the 201st is 400 and not created", async () => {
        const existing = (await s.call("GET", `${FILTERS}?$count=true&$top=1`)).body["@odata.count"] as number;
        for (let i = existing; i < 200; i++) await createFilter(s);
        const over = await s.call("POST", FILTERS, filterBody());
        assert.equal(over.status, 400);
        assert.match(over.body.error.message, /at most 200 assignment filters/);
        assert.equal((await s.call("GET", `${FILTERS}?$count=true&$top=1`)).body["@odata.count"], 200);
      });
    });
  });
}
