// Device configurations over HTTP, on both backends (spec §2.6–2.8; seed 004): the polymorphic family under its
// abstract base, version, OMA settings, assignments with every target, intent and filter, the assign action,
// $expand=assignments, the certificate links and all ten PATCH paths of seed 004.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const CONFIGS = "/deviceManagement/deviceConfigurations";
const FILTERS = "/deviceManagement/assignmentFilters";
const GROUP = "a110c0de-0000-4000-8000-000000000501";
const OTHER_GROUP = "a110c0de-0000-4000-8000-000000000503";
const ADELE = "a110c0de-0000-4000-8000-000000000101";
const MISSING = "0bad0bad-0000-4000-8000-000000000000";
const NS = "#microsoft.graph.";

const group = (groupId: string, extra: Record<string, unknown> = {}) => ({ target: { "@odata.type": `${NS}groupAssignmentTarget`, groupId, ...extra } });
let n = 0;

async function create(s: TestServer, type: string, extra: Record<string, unknown> = {}) {
  const res = await s.call("POST", CONFIGS, { "@odata.type": `${NS}${type}`, displayName: `${type} ${++n}`, ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Record<string, any>;
}
async function assign(s: TestServer, configId: string, body: Record<string, unknown>) {
  const res = await s.call("POST", `${CONFIGS}/${configId}/assignments`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Record<string, any>;
}
async function filter(s: TestServer, extra: Record<string, unknown> = {}) {
  const res = await s.call("POST", FILTERS, { displayName: `Filter ${++n}`, platform: "windows10AndLater", rule: '(device.manufacturer -eq "Microsoft Corporation")', ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Record<string, any>;
}
const list = async (s: TestServer, path: string) => {
  const res = await s.call("GET", path);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.value as Record<string, any>[];
};
const bind = (id: string) => `https://graph.microsoft.com/beta/deviceManagement/deviceConfigurations/${id}`;

for (const backend of await backendsToTest()) {
  describe(`device configurations (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    describe("the polymorphic collection", () => {
      it("the abstract base, an abstract intermediate type and an unknown derived type are refused with 400; nothing is created", async () => {
        const count = (await list(s, CONFIGS)).length;
        const none = await s.call("POST", CONFIGS, { displayName: "no type" });
        assert.equal(none.status, 400);
        assert.match(none.body.error.message, /abstract type 'microsoft\.graph\.deviceConfiguration'/);
        const base = await s.call("POST", CONFIGS, { "@odata.type": `${NS}deviceConfiguration`, displayName: "base" });
        assert.equal(base.status, 400);
        const intermediate = await s.call("POST", CONFIGS, { "@odata.type": `${NS}iosCertificateProfileBase`, displayName: "abstract" });
        assert.equal(intermediate.status, 400);
        const unknown = await s.call("POST", CONFIGS, { "@odata.type": `${NS}androidWorkProfileGeneralDeviceConfiguration`, displayName: "unknown" });
        assert.equal(unknown.status, 400);
        assert.match(unknown.body.error.message, /could not be resolved by the model/);
        const foreign = await s.call("POST", CONFIGS, { "@odata.type": `${NS}user`, displayName: "not a configuration" });
        assert.equal(foreign.status, 400);
        assert.equal((await list(s, CONFIGS)).length, count);
      });

      it("windows10CustomConfiguration keeps its polymorphic omaSettings, emitted with '#'; server-set properties are set by the server", async () => {
        const settings = [
          { "@odata.type": "microsoft.graph.omaSettingString", displayName: "s", omaUri: "./Vendor/MSFT/A", value: "text" },
          { "@odata.type": `${NS}omaSettingInteger`, displayName: "i", omaUri: "./Vendor/MSFT/B", value: 7, isReadOnly: false },
          { "@odata.type": `${NS}omaSettingBoolean`, displayName: "b", omaUri: "./Vendor/MSFT/C", value: true },
          { "@odata.type": `${NS}omaSettingBase64`, displayName: "64", omaUri: "./Vendor/MSFT/D", fileName: "a.bin", value: "AAE=" },
          { "@odata.type": `${NS}omaSettingDateTime`, displayName: "d", omaUri: "./Vendor/MSFT/E", value: "2026-01-02T03:04:05Z" },
          { "@odata.type": `${NS}omaSettingFloatingPoint`, displayName: "f", omaUri: "./Vendor/MSFT/F", value: 1.5 },
          { "@odata.type": `${NS}omaSettingStringXml`, displayName: "x", omaUri: "./Vendor/MSFT/G", fileName: "a.xml", value: "PGEvPg==" },
        ];
        const c = await create(s, "windows10CustomConfiguration", { omaSettings: settings, supportsScopeTags: false, version: 99, createdDateTime: "2001-01-01T00:00:00Z" });
        assert.equal(c["@odata.type"], `${NS}windows10CustomConfiguration`);
        assert.equal(c.version, 1, "version starts at 1 whatever the body says");
        assert.equal(c.supportsScopeTags, true, "supportsScopeTags is read-only");
        assert.deepEqual(c.roleScopeTagIds, ["0"]);
        assert.notEqual(c.createdDateTime, "2001-01-01T00:00:00.000Z");
        assert.deepEqual(c.omaSettings.map((o: any) => o["@odata.type"]), settings.map((o) => `${NS}${o["@odata.type"].replace(/^#?microsoft\.graph\./, "")}`));
        assert.equal(c.omaSettings[4].value, "2026-01-02T03:04:05.000Z");
        const got = await s.call("GET", `${CONFIGS}/${c.id}`);
        assert.equal(got.status, 200);
        assert.deepEqual(got.body.omaSettings, c.omaSettings);
        assert.equal(got.body["@odata.context"], `${s.graph}/$metadata#deviceManagement/deviceConfigurations/$entity`);
      });

      it("a bad OMA setting (abstract, wrong value type) and more than 1000 settings are 400 and change nothing", async () => {
        const c = await create(s, "windows10CustomConfiguration", { omaSettings: [] });
        const abstract = await s.call("PATCH", `${CONFIGS}/${c.id}`, { omaSettings: [{ displayName: "x", omaUri: "./x", value: "v" }] });
        assert.equal(abstract.status, 400);
        const wrong = await s.call("PATCH", `${CONFIGS}/${c.id}`, { omaSettings: [{ "@odata.type": `${NS}omaSettingInteger`, displayName: "x", omaUri: "./x", value: "seven" }] });
        assert.equal(wrong.status, 400);
        const many = Array.from({ length: 1001 }, (_, i) => ({ "@odata.type": `${NS}omaSettingString`, displayName: `s${i}`, omaUri: `./x/${i}`, value: "v" }));
        const tooMany = await s.call("PATCH", `${CONFIGS}/${c.id}`, { omaSettings: many });
        assert.equal(tooMany.status, 400);
        assert.match(tooMany.body.error.message, /at most 1000 OMA settings/);
        const created = await s.call("POST", CONFIGS, { "@odata.type": `${NS}windows10CustomConfiguration`, displayName: "too many", omaSettings: many });
        assert.equal(created.status, 400);
        assert.equal((await list(s, `${CONFIGS}?$filter=displayName eq 'too many'`)).length, 0);
        const after = (await s.call("GET", `${CONFIGS}/${c.id}`)).body;
        assert.deepEqual([after.version, after.omaSettings], [1, []]);
        const exactly = await s.call("PATCH", `${CONFIGS}/${c.id}`, { omaSettings: many.slice(0, 1000) });
        assert.equal(exactly.status, 200);
        assert.equal(exactly.body.omaSettings.length, 1000);
      });

      it("PATCH answers 200 with the entity, and version increases on every update", async () => {
        const c = await create(s, "windows10GeneralConfiguration", { passwordRequired: true, passwordMinimumLength: 8 });
        const first = await s.call("PATCH", `${CONFIGS}/${c.id}`, { description: "one" });
        assert.equal(first.status, 200);
        assert.deepEqual([first.body.version, first.body.description, first.body.passwordMinimumLength], [2, "one", 8]);
        const second = await s.call("PATCH", `${CONFIGS}/${c.id}`, { cameraBlocked: true, version: 1 });
        assert.equal(second.body.version, 3);
        assert.ok(second.body.lastModifiedDateTime >= first.body.lastModifiedDateTime);
        const typeChange = await s.call("PATCH", `${CONFIGS}/${c.id}`, { "@odata.type": `${NS}windows10CustomConfiguration` });
        assert.equal(typeChange.status, 400);
        const unknownProperty = await s.call("PATCH", `${CONFIGS}/${c.id}`, { omaSettings: [] });
        assert.equal(unknownProperty.status, 400, "a property of another derived type is unknown here");
        assert.equal((await s.call("GET", `${CONFIGS}/${c.id}`)).body.version, 3, "refused PATCHes do not count");
      });

      it("windows10EndpointProtectionConfiguration, the applicability rules, $filter and $orderby on displayName, and type casts", async () => {
        const c = await create(s, "windows10EndpointProtectionConfiguration", {
          displayName: "zz endpoint",
          firewallBlockStatefulFTP: true,
          defenderCloudBlockLevel: "high",
          deviceManagementApplicabilityRuleOsEdition: { osEditionTypes: ["windows10Enterprise", "windows10Education"], name: "ent", ruleType: "include" },
          deviceManagementApplicabilityRuleOsVersion: { minOSVersion: "10.0.19041", maxOSVersion: "10.0.99999", name: "v", ruleType: "exclude" },
          deviceManagementApplicabilityRuleDeviceMode: { deviceMode: "sModeConfiguration", name: "s", ruleType: "include" },
        });
        assert.equal(c.deviceManagementApplicabilityRuleOsEdition.osEditionTypes.length, 2);
        const badRule = await s.call("POST", CONFIGS, { "@odata.type": `${NS}windows10EndpointProtectionConfiguration`, displayName: "bad", deviceManagementApplicabilityRuleDeviceMode: { deviceMode: "kioskMode" } });
        assert.equal(badRule.status, 400);
        const filtered = await list(s, `${CONFIGS}?$filter=displayName eq 'zz endpoint'`);
        assert.deepEqual(filtered.map((x) => x.id), [c.id]);
        const ordered = await list(s, `${CONFIGS}?$orderby=displayName desc&$top=1`);
        assert.equal(ordered[0].id, c.id);
        const cast = await list(s, `${CONFIGS}/microsoft.graph.windows10EndpointProtectionConfiguration`);
        const all = await list(s, CONFIGS);
        const expected = all.filter((x) => x["@odata.type"] === `${NS}windows10EndpointProtectionConfiguration`).map((x) => x.id);
        assert.deepEqual(cast.map((x) => x.id), expected);
        assert.ok(expected.includes(c.id) && all.length > expected.length);
        assert.equal((await s.call("GET", `${CONFIGS}/${c.id}/microsoft.graph.windows10CustomConfiguration`)).status, 404);
      });

      it("deleting a configuration answers 204 and takes its assignments with it", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const a = await assign(s, c.id, group(GROUP));
        assert.equal((await s.call("DELETE", `${CONFIGS}/${c.id}`)).status, 204);
        assert.equal((await s.call("GET", `${CONFIGS}/${c.id}`)).status, 404);
        assert.equal((await s.call("GET", `${CONFIGS}/${c.id}/assignments/${a.id}`)).status, 404);
      });
    });

    describe("deviceConfigurationAssignment", () => {
      it("create 201, list, get, PATCH 200 with the entity, DELETE 204; intent defaults to apply; source is read-only and direct", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const a = await assign(s, c.id, { target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: GROUP }, source: "policySets", sourceId: "forged" });
        assert.equal(a["@odata.type"], undefined, "the assignment type has no derived types");
        assert.deepEqual([a.intent, a.source, a.sourceId], ["apply", "direct", null]);
        assert.deepEqual(a.target, { "@odata.type": `${NS}groupAssignmentTarget`, deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none", groupId: GROUP });
        assert.deepEqual((await list(s, `${CONFIGS}/${c.id}/assignments`)).map((x) => x.id), [a.id]);
        const got = await s.call("GET", `${CONFIGS}/${c.id}/assignments/${a.id}`);
        assert.equal(got.status, 200);
        assert.deepEqual(got.body.target, a.target);
        const patched = await s.call("PATCH", `${CONFIGS}/${c.id}/assignments/${a.id}`, { "@odata.type": `${NS}deviceConfigurationAssignment`, intent: "remove", source: "policySets" });
        assert.equal(patched.status, 200);
        assert.deepEqual([patched.body.id, patched.body.intent, patched.body.source], [a.id, "remove", "direct"]);
        assert.equal((await s.call("PATCH", `${CONFIGS}/${c.id}/assignments/${a.id}`, { intent: "uninstall" })).status, 400);
        assert.equal((await s.call("DELETE", `${CONFIGS}/${c.id}/assignments/${a.id}`)).status, 204);
        assert.deepEqual(await list(s, `${CONFIGS}/${c.id}/assignments`), []);
        assert.equal((await s.call("GET", `${CONFIGS}/${c.id}/assignments/${a.id}`)).status, 404);
      });

      it("every target type of §2.8 is accepted, with its filter id and type, and read back with '#'", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const f = await filter(s);
        const targets = [
          { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: GROUP, deviceAndAppManagementAssignmentFilterId: f.id, deviceAndAppManagementAssignmentFilterType: "include" },
          { "@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget", groupId: OTHER_GROUP },
          { "@odata.type": "microsoft.graph.allDevicesAssignmentTarget", deviceAndAppManagementAssignmentFilterId: f.id, deviceAndAppManagementAssignmentFilterType: "exclude" },
          { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" },
          { "@odata.type": "#microsoft.graph.configurationManagerCollectionAssignmentTarget", collectionId: "SMS00001" },
          { "@odata.type": "#microsoft.graph.scopeTagGroupAssignmentTarget", targetType: "user", entraObjectId: ADELE },
          { "@odata.type": "#microsoft.graph.androidFotaDeploymentAssignmentTarget", groupId: OTHER_GROUP },
          { "@odata.type": "#microsoft.graph.organizationalUnitAssignmentTarget", organizationalUnitId: "OU=Devices,DC=contoso" },
        ];
        for (const target of targets) {
          const a = await assign(s, c.id, { target });
          assert.equal(a.target["@odata.type"], `#${target["@odata.type"].replace(/^#/, "")}`);
          for (const [k, v] of Object.entries(target)) if (k !== "@odata.type") assert.equal(a.target[k], v, `${target["@odata.type"]}.${k}`);
        }
        assert.equal((await list(s, `${CONFIGS}/${c.id}/assignments`)).length, targets.length);
      });

      it("a target naming a group, an Entra object or a filter that does not exist is 400 and nothing changes", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const kept = await assign(s, c.id, group(GROUP));
        const bad = [
          group(MISSING),
          { target: { "@odata.type": `${NS}exclusionGroupAssignmentTarget`, groupId: MISSING } },
          { target: { "@odata.type": `${NS}scopeTagGroupAssignmentTarget`, targetType: "user", entraObjectId: MISSING } },
          group(OTHER_GROUP, { deviceAndAppManagementAssignmentFilterId: MISSING, deviceAndAppManagementAssignmentFilterType: "include" }),
          { target: { "@odata.type": `${NS}deviceAndAppManagementAssignmentTarget` } },
          { target: { "@odata.type": `${NS}noSuchAssignmentTarget` } },
          { intent: "apply" },
        ];
        for (const body of bad) {
          const res = await s.call("POST", `${CONFIGS}/${c.id}/assignments`, body);
          assert.equal(res.status, 400, JSON.stringify(body));
        }
        const patch = await s.call("PATCH", `${CONFIGS}/${c.id}/assignments/${kept.id}`, group(MISSING));
        assert.equal(patch.status, 400);
        assert.match(patch.body.error.message, /group '0bad0bad-.*' does not exist/);
        const now = await list(s, `${CONFIGS}/${c.id}/assignments`);
        assert.deepEqual(now, [{ ...kept, "@odata.context": undefined }].map(({ "@odata.context": _, ...rest }) => rest));
      });

      it("filter type include/exclude without a filter id, and a filter id with type none, are 400 (docs/decisions.md)", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const f = await filter(s);
        const noId = await s.call("POST", `${CONFIGS}/${c.id}/assignments`, group(GROUP, { deviceAndAppManagementAssignmentFilterType: "include" }));
        assert.equal(noId.status, 400);
        assert.match(noId.body.error.message, /needs a deviceAndAppManagementAssignmentFilterId/);
        const noneType = await s.call("POST", `${CONFIGS}/${c.id}/assignments`, group(GROUP, { deviceAndAppManagementAssignmentFilterId: f.id }));
        assert.equal(noneType.status, 400);
        assert.match(noneType.body.error.message, /'include' or 'exclude'/);
        assert.deepEqual(await list(s, `${CONFIGS}/${c.id}/assignments`), []);
      });

      it("a second assignment for an already-assigned target is refused on create", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        await assign(s, c.id, group(GROUP));
        const dup = await s.call("POST", `${CONFIGS}/${c.id}/assignments`, group(GROUP.toUpperCase(), { deviceAndAppManagementAssignmentFilterType: "none" }));
        assert.ok(dup.status === 400, JSON.stringify(dup.body));
        assert.equal((await list(s, `${CONFIGS}/${c.id}/assignments`)).length, 1);
      });

      it("the legacy groupAssignments navigation: create, list, a missing group is 400", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const ga = await s.call("POST", `${CONFIGS}/${c.id}/groupAssignments`, { targetGroupId: GROUP, excludeGroup: true });
        assert.equal(ga.status, 201);
        assert.deepEqual([ga.body.targetGroupId, ga.body.excludeGroup], [GROUP, true]);
        assert.equal((await s.call("POST", `${CONFIGS}/${c.id}/groupAssignments`, { targetGroupId: MISSING })).status, 400);
        assert.equal((await list(s, `${CONFIGS}/${c.id}/groupAssignments`)).length, 1);
      });
    });

    describe("the assign action", () => {
      it("replaces the whole set, collapses duplicate targets keeping the first, generates ids, answers 200 with value", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const old = await assign(s, c.id, group(OTHER_GROUP));
        const res = await s.call("POST", `${CONFIGS}/${c.id}/assign`, {
          assignments: [
            { "@odata.type": "#microsoft.graph.deviceConfigurationAssignment", intent: "apply", target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: GROUP } },
            { id: "keep-this-id", target: { "@odata.type": "microsoft.graph.allDevicesAssignmentTarget" } },
            { intent: "remove", target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: GROUP } },
          ],
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body["@odata.context"], `${s.graph}/$metadata#Collection(microsoft.graph.deviceConfigurationAssignment)`);
        assert.equal(res.body.value.length, 2, "the duplicate target collapsed");
        assert.equal(res.body.value[0].intent, "apply", "the first of the duplicates is kept");
        assert.match(res.body.value[0].id, /^[0-9a-f-]{36}$/);
        assert.equal(res.body.value[1].id, "keep-this-id");
        const now = await list(s, `${CONFIGS}/${c.id}/assignments`);
        assert.deepEqual(now.map((a) => a.id).sort(), res.body.value.map((a: any) => a.id).sort());
        assert.ok(!now.some((a) => a.id === old.id), "the old set is gone");
      });

      it("an empty list unassigns everything; the legacy deviceConfigurationGroupAssignments are replaced too", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        await assign(s, c.id, group(GROUP));
        const legacy = await s.call("POST", `${CONFIGS}/${c.id}/assign`, { assignments: [group(OTHER_GROUP)], deviceConfigurationGroupAssignments: [{ targetGroupId: GROUP, excludeGroup: false }] });
        assert.equal(legacy.status, 200);
        assert.equal((await list(s, `${CONFIGS}/${c.id}/groupAssignments`)).length, 1);
        const empty = await s.call("POST", `${CONFIGS}/${c.id}/assign`, { assignments: [] });
        assert.equal(empty.status, 200);
        assert.deepEqual(empty.body.value, []);
        assert.deepEqual(await list(s, `${CONFIGS}/${c.id}/assignments`), []);
        assert.deepEqual(await list(s, `${CONFIGS}/${c.id}/groupAssignments`), []);
      });

      it("a validation failure anywhere in the list is 400 and the old set stays", async () => {
        const c = await create(s, "windows10CustomConfiguration");
        const old = await assign(s, c.id, group(GROUP));
        const bodies = [
          { assignments: [group(OTHER_GROUP), group(MISSING)] },
          { assignments: [group(OTHER_GROUP), { target: { "@odata.type": `${NS}groupAssignmentTarget` } }] },
          { assignments: [group(OTHER_GROUP)], deviceConfigurationGroupAssignments: [{ targetGroupId: MISSING }] },
          { assignments: [group(OTHER_GROUP)], unexpected: true },
          { assignments: "all" },
          { assignments: [{ id: "same", ...group(GROUP) }, { id: "same", ...group(OTHER_GROUP) }] },
        ];
        for (const body of bodies) {
          const res = await s.call("POST", `${CONFIGS}/${c.id}/assign`, body);
          assert.equal(res.status, 400, JSON.stringify(body));
        }
        assert.deepEqual((await list(s, `${CONFIGS}/${c.id}/assignments`)).map((a) => a.id), [old.id]);
        assert.equal((await s.call("POST", `${CONFIGS}/${MISSING}/assign`, { assignments: [] })).status, 404);
      });
    });

    describe("$expand=assignments", () => {
      it("works on list and get, and $select keeps the expansion", async () => {
        const c = await create(s, "windows10CustomConfiguration", { displayName: "expand me" });
        const a = await assign(s, c.id, group(GROUP));
        const one = await s.call("GET", `${CONFIGS}/${c.id}?$expand=assignments`);
        assert.equal(one.status, 200);
        assert.deepEqual(one.body.assignments.map((x: any) => x.id), [a.id]);
        const many = await list(s, `${CONFIGS}?$expand=assignments&$filter=displayName eq 'expand me'`);
        assert.deepEqual(many.map((x) => x.assignments.map((y: any) => y.target.groupId)), [[GROUP]]);
        const selected = await s.call("GET", `${CONFIGS}/${c.id}?$select=id,displayName&$expand=assignments`);
        assert.deepEqual(Object.keys(selected.body).filter((k) => !k.startsWith("@")).sort(), ["assignments", "displayName", "id"]);
        assert.equal((await s.call("GET", `${CONFIGS}/${c.id}?$expand=nothing`)).status, 400);
      });
    });

    describe("certificate links and seed 004's ten PATCH paths", () => {
      /** Every configuration of the ten paths, linked as the paths walk them, each with one assignment. */
      let w: Record<string, { id: string; assignment: string }>;
      before(async () => {
        w = {};
        const make = async (key: string, type: string, links: Record<string, string | string[]> = {}) => {
          const body: Record<string, unknown> = {};
          for (const [nav, target] of Object.entries(links)) body[`${nav}@odata.bind`] = Array.isArray(target) ? target.map((k) => bind(w[k].id)) : bind(w[target].id);
          const c = await create(s, type, body);
          const a = await assign(s, c.id, group(GROUP));
          w[key] = { id: c.id, assignment: a.id };
        };
        await make("iosRoot", "iosTrustedRootCertificate", {});
        await make("iosScep", "iosScepCertificateProfile", { rootCertificate: "iosRoot" });
        await make("wpRoot", "windowsPhone81TrustedRootCertificate");
        await make("wpScep", "windowsPhone81SCEPCertificateProfile", { rootCertificate: "wpRoot" });
        await make("vpn", "windowsPhone81VpnConfiguration", { identityCertificate: "wpScep" });
        await make("macRoot", "macOSTrustedRootCertificate");
        await make("macScep", "macOSScepCertificateProfile", { rootCertificate: "macRoot" });
        await make("wired", "macOSWiredNetworkConfiguration", { rootCertificateForServerValidation: "macRoot", identityCertificateForClientAuthentication: "macScep" });
        await make("w81Root1", "windows81TrustedRootCertificate");
        await make("w81Root2", "windows81TrustedRootCertificate");
        await make("w81Scep", "windows81SCEPCertificateProfile", { rootCertificate: "w81Root1" });
        await make("wifi", "windowsWifiEnterpriseEAPConfiguration", { rootCertificatesForServerValidation: ["w81Root1", "w81Root2"], identityCertificateForClientAuthentication: "w81Scep" });
      });

      const paths: [string, (w: Record<string, { id: string; assignment: string }>) => [string, string]][] = [
        ["/deviceConfigurations/{id}/assignments/{aid}", (w) => [`${CONFIGS}/${w.iosScep.id}/assignments/${w.iosScep.assignment}`, "iosScep"]],
        ["/{id}/rootCertificate/assignments/{aid}", (w) => [`${CONFIGS}/${w.iosScep.id}/rootCertificate/assignments/${w.iosRoot.assignment}`, "iosRoot"]],
        ["/{id}/identityCertificate/assignments/{aid}", (w) => [`${CONFIGS}/${w.vpn.id}/identityCertificate/assignments/${w.wpScep.assignment}`, "wpScep"]],
        ["/{id}/identityCertificate/rootCertificate/assignments/{aid}", (w) => [`${CONFIGS}/${w.vpn.id}/identityCertificate/rootCertificate/assignments/${w.wpRoot.assignment}`, "wpRoot"]],
        ["/{id}/microsoft.graph.iosScepCertificateProfile/rootCertificate/assignments/{aid}", (w) => [`${CONFIGS}/${w.iosScep.id}/microsoft.graph.iosScepCertificateProfile/rootCertificate/assignments/${w.iosRoot.assignment}`, "iosRoot"]],
        ["/{id}/microsoft.graph.windowsPhone81VpnConfiguration/identityCertificate/assignments/{aid}", (w) => [`${CONFIGS}/${w.vpn.id}/microsoft.graph.windowsPhone81VpnConfiguration/identityCertificate/assignments/${w.wpScep.assignment}`, "wpScep"]],
        ["/{id}/microsoft.graph.macOSWiredNetworkConfiguration/rootCertificateForServerValidation/assignments/{aid}", (w) => [`${CONFIGS}/${w.wired.id}/microsoft.graph.macOSWiredNetworkConfiguration/rootCertificateForServerValidation/assignments/${w.macRoot.assignment}`, "macRoot"]],
        ["/{id}/microsoft.graph.macOSWiredNetworkConfiguration/identityCertificateForClientAuthentication/assignments/{aid}", (w) => [`${CONFIGS}/${w.wired.id}/microsoft.graph.macOSWiredNetworkConfiguration/identityCertificateForClientAuthentication/assignments/${w.macScep.assignment}`, "macScep"]],
        ["/{id}/microsoft.graph.windowsWifiEnterpriseEAPConfiguration/identityCertificateForClientAuthentication/assignments/{aid}", (w) => [`${CONFIGS}/${w.wifi.id}/microsoft.graph.windowsWifiEnterpriseEAPConfiguration/identityCertificateForClientAuthentication/assignments/${w.w81Scep.assignment}`, "w81Scep"]],
        ["/{id}/microsoft.graph.windowsWifiEnterpriseEAPConfiguration/rootCertificatesForServerValidation/{rootId}/assignments/{aid}", (w) => [`${CONFIGS}/${w.wifi.id}/microsoft.graph.windowsWifiEnterpriseEAPConfiguration/rootCertificatesForServerValidation/${w.w81Root2.id}/assignments/${w.w81Root2.assignment}`, "w81Root2"]],
      ];
      for (const [template, build] of paths) {
        it(`PATCH ${template} updates the assignment of the configuration the path reaches (200 + entity)`, async () => {
          const [path, owner] = build(w);
          const f = await filter(s);
          const res = await s.call("PATCH", path, {
            "@odata.type": "#microsoft.graph.deviceConfigurationAssignment",
            target: { "@odata.type": "microsoft.graph.scopeTagGroupAssignmentTarget", deviceAndAppManagementAssignmentFilterId: f.id, deviceAndAppManagementAssignmentFilterType: "include", targetType: "user", entraObjectId: ADELE },
            source: "policySets",
            sourceId: "Source Id value",
            intent: "remove",
          });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepEqual([res.body.id, res.body.intent, res.body.source, res.body.target["@odata.type"]], [w[owner].assignment, "remove", "direct", `${NS}scopeTagGroupAssignmentTarget`]);
          const direct = await s.call("GET", `${CONFIGS}/${w[owner].id}/assignments/${w[owner].assignment}`);
          assert.deepEqual(direct.body.target, res.body.target, "the owner's own assignment changed");
          assert.equal((await s.call("GET", path)).body.intent, "remove");
          const payloads = (await s.call("GET", `${FILTERS}/${f.id}`)).body.payloads;
          assert.deepEqual(payloads, [{ payloadId: w[owner].id, payloadType: "deviceConfigurationAndCompliance", groupId: ADELE, assignmentFilterType: "include" }]);
          // Put the assignment back so the filter can go.
          assert.equal((await s.call("PATCH", path, group(GROUP))).status, 200);
          assert.equal((await s.call("DELETE", `${FILTERS}/${f.id}`)).status, 204);
        });
      }

      it("the links read back as entities; a navigation the entity's type does not have, or an assignment of another configuration, is 404", async () => {
        const root = await s.call("GET", `${CONFIGS}/${w.iosScep.id}/rootCertificate`);
        assert.equal(root.status, 200);
        assert.deepEqual([root.body.id, root.body["@odata.type"]], [w.iosRoot.id, `${NS}iosTrustedRootCertificate`]);
        const roots = await list(s, `${CONFIGS}/${w.wifi.id}/microsoft.graph.windowsWifiEnterpriseEAPConfiguration/rootCertificatesForServerValidation`);
        assert.deepEqual(roots.map((r) => r.id), [w.w81Root1.id, w.w81Root2.id]);
        const custom = await create(s, "windows10CustomConfiguration");
        const noNav = await s.call("GET", `${CONFIGS}/${custom.id}/rootCertificate/assignments`);
        assert.equal(noNav.status, 404);
        assert.match(noNav.body.error.message, /has no navigation property 'rootCertificate'/);
        assert.equal((await s.call("GET", `${CONFIGS}/${custom.id}/microsoft.graph.iosScepCertificateProfile/rootCertificate`)).status, 404);
        assert.equal((await s.call("PATCH", `${CONFIGS}/${w.iosScep.id}/rootCertificate/assignments/${w.iosScep.assignment}`, { intent: "remove" })).status, 404);
        assert.equal((await s.call("GET", `${CONFIGS}/${w.wifi.id}/microsoft.graph.windowsWifiEnterpriseEAPConfiguration/rootCertificatesForServerValidation/${w.iosRoot.id}`)).status, 404);
        const unlinked = await create(s, "iosScepCertificateProfile");
        assert.equal((await s.call("GET", `${CONFIGS}/${unlinked.id}/rootCertificate`)).status, 404);
        assert.equal((await s.call("GET", `${CONFIGS}/${w.iosScep.id}/noSuchThing`)).status, 400);
      });

      it("a link to a missing configuration, to one of the wrong type, or to itself is 400 and nothing is created or changed", async () => {
        const count = (await list(s, CONFIGS)).length;
        const missing = await s.call("POST", CONFIGS, { "@odata.type": `${NS}iosScepCertificateProfile`, displayName: "x", "rootCertificate@odata.bind": bind(MISSING) });
        assert.equal(missing.status, 400);
        const wrongType = await s.call("POST", CONFIGS, { "@odata.type": `${NS}iosScepCertificateProfile`, displayName: "x", "rootCertificate@odata.bind": bind(w.macRoot.id) });
        assert.equal(wrongType.status, 400);
        assert.match(wrongType.body.error.message, /must be a microsoft\.graph\.iosTrustedRootCertificate/);
        assert.equal((await list(s, CONFIGS)).length, count);
        const self = await s.call("PATCH", `${CONFIGS}/${w.w81Scep.id}`, { "rootCertificate@odata.bind": bind(w.w81Scep.id) });
        assert.equal(self.status, 400);
        const notOnType = await s.call("PATCH", `${CONFIGS}/${w.w81Root1.id}`, { "rootCertificate@odata.bind": bind(w.w81Root2.id) });
        assert.equal(notOnType.status, 400);
        assert.equal((await s.call("GET", `${CONFIGS}/${w.w81Scep.id}/rootCertificate`)).body.id, w.w81Root1.id);
      });

      it("PATCH with nav@odata.bind replaces the link, and $ref adds to and removes from a collection link", async () => {
        const scep = await create(s, "windows81SCEPCertificateProfile", { "rootCertificate@odata.bind": bind(w.w81Root1.id) });
        const moved = await s.call("PATCH", `${CONFIGS}/${scep.id}`, { "rootCertificate@odata.bind": bind(w.w81Root2.id) });
        assert.equal(moved.status, 200);
        assert.equal(moved.body.version, 2);
        assert.equal((await s.call("GET", `${CONFIGS}/${scep.id}/rootCertificate`)).body.id, w.w81Root2.id);
        const wifi = await create(s, "windowsWifiEnterpriseEAPConfiguration", { "rootCertificatesForServerValidation@odata.bind": [bind(w.w81Root1.id)] });
        const nav = `${CONFIGS}/${wifi.id}/microsoft.graph.windowsWifiEnterpriseEAPConfiguration/rootCertificatesForServerValidation`;
        assert.equal((await s.call("POST", `${nav}/$ref`, { "@odata.id": bind(w.w81Root2.id) })).status, 204);
        assert.deepEqual((await list(s, nav)).map((r) => r.id), [w.w81Root1.id, w.w81Root2.id]);
        assert.equal((await s.call("DELETE", `${nav}/${w.w81Root1.id}/$ref`)).status, 204);
        assert.deepEqual((await list(s, nav)).map((r) => r.id), [w.w81Root2.id]);
        assert.equal((await s.call("POST", `${nav}/$ref`, { "@odata.id": bind(w.iosRoot.id) })).status, 400);
      });
    });

    describe("model-wide", () => {
      it("GET /beta/$metadata describes the configuration and filter types, their navigations and operations", async () => {
        const res = await fetch(`${s.graph}/$metadata`);
        const xml = await res.text();
        for (const needle of [
          '<EntityType Name="deviceConfiguration" BaseType="microsoft.graph.entity" Abstract="true">',
          '<EntityType Name="windows10CustomConfiguration" BaseType="microsoft.graph.deviceConfiguration">',
          '<ComplexType Name="omaSettingInteger" BaseType="microsoft.graph.omaSetting">',
          '<NavigationProperty Name="rootCertificatesForServerValidation" Type="Collection(microsoft.graph.windows81TrustedRootCertificate)"/>',
          '<EntityType Name="deviceAndAppManagementAssignmentFilter" BaseType="microsoft.graph.entity">',
          '<Function Name="getPlatformSupportedProperties" IsBound="true">',
          '<Member Name="remove" Value="1"/>',
          '<ComplexType Name="androidFotaDeploymentAssignmentTarget" BaseType="microsoft.graph.deviceAndAppManagementAssignmentTarget">',
        ]) assert.ok(xml.includes(needle), needle);
      });

      it("fixtures seed filters and configurations with assignments through the same rules; the demo tenant has one of each", async () => {
        const demo = await s.call("GET", `${CONFIGS}/a110c0de-0000-4000-8000-000000000601`);
        assert.equal(demo.status, 200);
        assert.equal(demo.body.omaSettings[0].value, 0);
        assert.equal((await s.call("GET", `${FILTERS}/a110c0de-0000-4000-8000-000000000701`)).body.platform, "windows10AndLater");
        const tenant = "c0c0c0c0-0000-4000-8000-000000000001";
        const groupId = "c0c0c0c0-0000-4000-8000-000000000501";
        const filterId = "c0c0c0c0-0000-4000-8000-000000000701";
        const fixture = (rule: string) => ({
          tenants: [
            {
              id: tenant,
              groups: [{ id: groupId, displayName: "Pilot", mailEnabled: false, mailNickname: "pilot", securityEnabled: true }],
              assignmentFilters: [{ id: filterId, displayName: "Surface", platform: "windows10AndLater", rule }],
              deviceConfigurations: [
                {
                  id: "c0c0c0c0-0000-4000-8000-000000000601",
                  "@odata.type": `${NS}windows10GeneralConfiguration`,
                  displayName: "Pilot baseline",
                  assignments: [group(groupId, { deviceAndAppManagementAssignmentFilterId: filterId, deviceAndAppManagementAssignmentFilterType: "include" })],
                },
              ],
            },
          ],
        });
        const admin = { "x-allot-admin-key": DEFAULT_ADMIN_KEY };
        assert.equal((await s.call("POST", "/_allot/seed", fixture("(device.model -eq"), admin)).status, 400, "a bad rule refuses the whole fixture");
        assert.equal((await s.call("POST", "/_allot/seed", fixture('(device.model -startsWith "Surface")'), admin)).status, 200);
        const res = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify({ tenant, roles: ["DeviceManagementConfiguration.Read.All"] }) });
        const auth = { authorization: `Bearer ${(await res.json()).access_token}` };
        const seeded = await s.call("GET", `${CONFIGS}?$expand=assignments`, undefined, auth);
        assert.deepEqual(seeded.body.value.map((c: any) => [c.displayName, c.assignments.length]), [["Pilot baseline", 1]]);
        const f = await s.call("GET", `${FILTERS}/${filterId}`, undefined, auth);
        assert.deepEqual(f.body.payloads, [{ payloadId: "c0c0c0c0-0000-4000-8000-000000000601", payloadType: "deviceConfigurationAndCompliance", groupId, assignmentFilterType: "include" }]);
      });

      it("writes are audited under the DeviceConfiguration category", async () => {
        const c = await create(s, "windows10CustomConfiguration", { displayName: "audited" });
        const events = await list(s, `/deviceManagement/auditEvents?$filter=${encodeURIComponent("category eq 'DeviceConfiguration'")}`);
        assert.ok(events.some((e) => e.activityType === "Create windows10CustomConfiguration" && JSON.stringify(e.resources).includes(c.id)), JSON.stringify(events.at(-1)));
        assert.equal((await s.call("POST", `${CONFIGS}/${c.id}/assign`, { assignments: [group(GROUP)] })).status, 200);
        const f = await filter(s);
        const after = await list(s, `/deviceManagement/auditEvents?$filter=${encodeURIComponent("category eq 'DeviceConfiguration' or category eq 'AssignmentFilter'")}`);
        assert.ok(after.some((e) => e.activityType === "assign" && e.category === "DeviceConfiguration" && JSON.stringify(e.resources).includes(c.id)));
        assert.ok(after.some((e) => e.activityType === "Create deviceAndAppManagementAssignmentFilter" && e.category === "AssignmentFilter" && JSON.stringify(e.resources).includes(f.id)));
      });

      it("reads need DeviceManagementConfiguration.Read.All or ReadWrite.All; writes need ReadWrite.All", async () => {
        const mint = async (roles: string[]) => {
          const res = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: JSON.stringify({ tenant: "a110c0de-0000-4000-8000-000000000001", roles }) });
          return `Bearer ${(await res.json()).access_token}`;
        };
        const reader = await mint(["DeviceManagementConfiguration.Read.All"]);
        assert.equal((await s.call("GET", CONFIGS, undefined, { authorization: reader })).status, 200);
        assert.equal((await s.call("GET", FILTERS, undefined, { authorization: reader })).status, 200);
        const denied = await s.call("POST", CONFIGS, { "@odata.type": `${NS}windows10CustomConfiguration`, displayName: "denied" }, { authorization: reader });
        assert.equal(denied.status, 403);
        const other = await mint(["DeviceManagementServiceConfig.ReadWrite.All"]);
        assert.equal((await s.call("GET", CONFIGS, undefined, { authorization: other })).status, 403);
      });
    });
  });
}
