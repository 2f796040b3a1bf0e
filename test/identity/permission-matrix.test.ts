// The permission matrix, generated from the model: for every operation the model routes — no token → 401;
// a token holding every permission except the operation's → 403; a token holding only one of its permissions
// (each one in turn, application and delegated) → neither; a token of another tenant → not found, and nothing
// of the first tenant changes.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { graphModel } from "../../src/graph/model/index.js";
import type { OperationPermissions, PermissionDecl } from "../../src/odata/model.js";
import type { EntityType } from "../../src/odata/compiledModel.js";
import { allPermissions } from "../../src/seed/fixture.js";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const OTHER_TENANT = "d0d0d0d0-0000-4000-8000-000000000001";
const ADELE = "a110c0de-0000-4000-8000-000000000101";
const STATIC_GROUP = "a110c0de-0000-4000-8000-000000000503";
let counter = 0;

/** What the test needs to call each collection: an existing id, and how to make a disposable entity. */
interface Sample {
  id(s: TestServer): Promise<string>;
  /** A valid body for POST, when the collection accepts POST. */
  body?: () => Record<string, unknown>;
  /** Makes an entity a write may change or delete. */
  disposable(s: TestServer): Promise<string>;
  patch: Record<string, unknown>;
}

const posted = (path: string, body: () => Record<string, unknown>) => async (s: TestServer) => {
  const res = await s.call("POST", path, body());
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
};
const enrolled = async (s: TestServer) => {
  const res = await s.call("POST", "/_allot/devices", { deviceName: `MATRIX-${++counter}` });
  assert.equal(res.status, 201);
  return res.body.managedDeviceId as string;
};
const userBody = () => ({ accountEnabled: true, displayName: `Matrix ${++counter}`, mailNickname: `m${counter}`, userPrincipalName: `m${counter}@allotdemo.onmicrosoft.com`, passwordProfile: { password: "Matrix-Pass-1" } });
const groupBody = () => ({ displayName: `Matrix ${++counter}`, mailEnabled: false, mailNickname: `g${++counter}`, securityEnabled: true });
const deviceBody = () => ({ accountEnabled: true, alternativeSecurityIds: [{ type: 2, key: "AAE=" }], deviceId: crypto.randomUUID(), displayName: `MATRIX-${++counter}`, operatingSystem: "Windows", operatingSystemVersion: "10.0.1" });
const identityBody = () => ({ serialNumber: `MX${++counter}`, manufacturer: "Microsoft Corporation", model: "Surface Laptop 5" });
const scriptBody = () => ({ displayName: `Matrix script ${++counter}` });
const detectedAppBody = () => ({ displayName: `Matrix app ${++counter}`, version: "1.0" });
const profileBody = () => ({ "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile", displayName: `Matrix profile ${++counter}` });
const configurationBody = () => ({ "@odata.type": "#microsoft.graph.windows10CustomConfiguration", displayName: `Matrix configuration ${++counter}` });
const filterBody = () => ({ displayName: `Matrix filter ${++counter}`, platform: "windows10AndLater", rule: '(device.deviceName -startsWith "MATRIX")' });
/** One enrolled device per server, for the reads and actions that need an existing device. */
const enrolledDevices = new WeakMap<TestServer, Promise<string>>();
const enrolledDevice = (s: TestServer) => {
  if (!enrolledDevices.has(s)) enrolledDevices.set(s, enrolled(s));
  return enrolledDevices.get(s)!;
};

/** Every collection the model routes must be here; the test fails for one that is not. */
const samples: Record<string, Sample> = {
  users: { id: async () => ADELE, body: userBody, disposable: posted("/users", userBody), patch: { jobTitle: "Tester" } },
  groups: { id: async () => STATIC_GROUP, body: groupBody, disposable: posted("/groups", groupBody), patch: { description: "changed" } },
  devices: { id: async () => "a110c0de-0000-4000-8000-000000000201", body: deviceBody, disposable: posted("/devices", deviceBody), patch: { displayName: "renamed" } },
  "deviceManagement/managedDevices": { id: enrolledDevice, disposable: enrolled, patch: { notes: "matrix" } },
  "deviceManagement/comanagedDevices": { id: enrolledDevice, disposable: enrolled, patch: { notes: "matrix" } },
  "deviceManagement/windowsAutopilotDeviceIdentities": {
    id: async (s) => posted("/deviceManagement/windowsAutopilotDeviceIdentities", identityBody)(s),
    body: identityBody,
    disposable: posted("/deviceManagement/windowsAutopilotDeviceIdentities", identityBody),
    patch: {},
  },
  "deviceManagement/windowsAutopilotDeploymentProfiles": {
    id: async (s) => posted("/deviceManagement/windowsAutopilotDeploymentProfiles", profileBody)(s),
    body: profileBody,
    disposable: posted("/deviceManagement/windowsAutopilotDeploymentProfiles", profileBody),
    patch: { description: "matrix" },
  },
  ...Object.fromEntries(
    ["deviceHealthScripts", "deviceManagementScripts", "deviceComplianceScripts"].map((set) => [
      `deviceManagement/${set}`,
      { id: posted(`/deviceManagement/${set}`, scriptBody), body: scriptBody, disposable: posted(`/deviceManagement/${set}`, scriptBody), patch: { description: "matrix" } },
    ]),
  ),
  "deviceManagement/detectedApps": { id: posted("/deviceManagement/detectedApps", detectedAppBody), body: detectedAppBody, disposable: posted("/deviceManagement/detectedApps", detectedAppBody), patch: { version: "2.0" } },
  "deviceManagement/deviceConfigurations": {
    id: async (s) => posted("/deviceManagement/deviceConfigurations", configurationBody)(s),
    body: configurationBody,
    disposable: posted("/deviceManagement/deviceConfigurations", configurationBody),
    patch: { description: "matrix" },
  },
  "deviceManagement/assignmentFilters": {
    id: async (s) => posted("/deviceManagement/assignmentFilters", filterBody)(s),
    body: filterBody,
    disposable: posted("/deviceManagement/assignmentFilters", filterBody),
    patch: { description: "matrix" },
  },
  "deviceManagement/auditEvents": {
    id: async (s) => (await s.call("GET", "/deviceManagement/auditEvents?$top=1")).body.value[0].id,
    disposable: async () => assert.fail("audit events are never written through Graph"),
    patch: {},
  },
};
/** Bodies by operation name, or by `bindingType.name` where two types bind operations of one name. */
const actionBodies: Record<string, Record<string, unknown>> = {
  "deviceConfiguration.assign": { assignments: [{ target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: STATIC_GROUP } }] },
  hasPayloadLinks: { payloadIds: [] },
  deleteDevices: { serialNumbers: [] },
  validateFilter: { deviceAndAppManagementAssignmentFilter: { platform: "windows10AndLater", rule: '(device.model -eq "x")' } },
  enable: { enable: true },
  checkMemberGroups: { groupIds: [STATIC_GROUP] },
  getMemberGroups: { securityEnabledOnly: false },
  wipe: { keepEnrollmentData: true },
  assign: { deviceIds: [] },
  assignUserToDevice: { userPrincipalName: "adele@allotdemo.onmicrosoft.com", addressableUserName: "Adele" },
  unassignUserFromDevice: {},
  updateDeviceProperties: { displayName: "matrix" },
  assignResourceAccountToDevice: { resourceAccountName: "room-1" },
  unassignResourceAccountFromDevice: {},
  allowNextEnrollment: {},
  retire: {},
  syncDevice: {},
  changeAssignments: { deviceAssignmentItems: [] },
};

/** Functions called with parameters in parentheses. */
const functionArguments: Record<string, string> = { getPlatformSupportedProperties: "(platform='windows10AndLater')" };

interface MatrixOperation {
  name: string;
  permission: PermissionDecl;
  /** Builds a fresh request (a write gets its own disposable target). */
  request(s: TestServer): Promise<{ method: string; path: string; body?: unknown }>;
  /** A single-valued navigation may have nothing to show (404): only authorization is checked then. */
  mayBeAbsent?: boolean;
}

interface Collection {
  path: string;
  type: EntityType;
  permissions: OperationPermissions;
  methods: string[];
}

function collectionsOfModel(): Collection[] {
  const all = ["GET", "POST", "PATCH", "DELETE"];
  return [
    ...[...graphModel.entitySets.values()].map((set) => ({ path: set.name, type: graphModel.entityType(set.entityType), permissions: set.permissions, methods: all })),
    ...[...graphModel.entityType("deviceManagement").navigation.values()].map((nav) => {
      const writable = nav.permissions!.write.application.length > 0;
      return { path: `deviceManagement/${nav.name}`, type: graphModel.entityType(nav.target), permissions: nav.permissions!, methods: nav.methods ?? (writable ? all : ["GET"]) };
    }),
  ];
}

function operationsOfModel(): MatrixOperation[] {
  const ops: MatrixOperation[] = [];
  for (const c of collectionsOfModel()) {
    const sample = samples[c.path];
    assert.ok(sample, `the matrix needs a sample for the collection '${c.path}'`);
    const { read, write } = c.permissions;
    const at = (id: string) => `/${c.path}/${id}`;
    ops.push({ name: `GET /${c.path}`, permission: read, request: async () => ({ method: "GET", path: `/${c.path}` }) });
    ops.push({ name: `GET /${c.path}/{id}`, permission: read, request: async (s) => ({ method: "GET", path: at(await sample.id(s)) }) });
    if (c.methods.includes("POST")) ops.push({ name: `POST /${c.path}`, permission: write, request: async () => ({ method: "POST", path: `/${c.path}`, body: sample.body!() }) });
    if (c.methods.includes("PATCH")) ops.push({ name: `PATCH /${c.path}/{id}`, permission: write, request: async (s) => ({ method: "PATCH", path: at(await sample.disposable(s)), body: sample.patch }) });
    if (c.methods.includes("DELETE")) ops.push({ name: `DELETE /${c.path}/{id}`, permission: write, request: async (s) => ({ method: "DELETE", path: at(await sample.disposable(s)) }) });
    for (const nav of c.type.navigation.values()) {
      const perms = nav.permissions ?? c.permissions;
      ops.push({ name: `GET /${c.path}/{id}/${nav.name}`, permission: perms.read, mayBeAbsent: !nav.collection, request: async (s) => ({ method: "GET", path: `${at(await sample.id(s))}/${nav.name}` }) });
      if (nav.references) {
        ops.push({
          name: `POST /${c.path}/{id}/${nav.name}/$ref`,
          permission: perms.write,
          request: async (s) => ({ method: "POST", path: `${at(await sample.disposable(s))}/${nav.name}/$ref`, body: { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` } }),
        });
        ops.push({
          name: `DELETE /${c.path}/{id}/${nav.name}/{member}/$ref`,
          permission: perms.write,
          request: async (s) => {
            const id = await sample.disposable(s);
            assert.equal((await s.call("POST", `${at(id)}/${nav.name}/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` })).status, 204);
            return { method: "DELETE", path: `${at(id)}/${nav.name}/${ADELE}/$ref` };
          },
        });
      }
    }
    for (const op of graphModel.allOperations()) {
      if (!graphModel.isAssignable(c.type, graphModel.entityType(op.bindingType))) continue;
      const segment = `${op.name}${functionArguments[op.name] ?? ""}`;
      const where = async (s: TestServer) => (op.bindingCollection ? `/${c.path}/${segment}` : `${at(await sample.id(s))}/${segment}`);
      const label = `${op.bindingCollection ? `/${c.path}` : `/${c.path}/{id}`}/${segment}`;
      if (op.kind === "function") {
        ops.push({ name: `GET ${label}`, permission: op.permissions, request: async (s) => ({ method: "GET", path: await where(s) }) });
        continue;
      }
      const body = actionBodies[`${op.bindingType}.${op.name}`] ?? actionBodies[op.name];
      assert.ok(body, `the matrix needs a body for action '${op.name}'`);
      ops.push({ name: `POST ${label}`, permission: op.permissions, request: async (s) => ({ method: "POST", path: await where(s), body }) });
    }
  }
  return ops;
}

const everything = allPermissions(graphModel);

for (const backend of await backendsToTest()) {
  describe(`permission matrix from the model (${backend})`, () => {
    let s: TestServer;
    const tokens = new Map<string, string>();
    const mint = async (body: Record<string, unknown>) => {
      const key = JSON.stringify(body);
      if (!tokens.has(key)) {
        const res = await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: key });
        assert.equal(res.status, 200);
        tokens.set(key, (await res.json()).access_token);
      }
      return tokens.get(key)!;
    };
    before(async () => {
      // Hundreds of requests by one app within seconds: Intune would throttle them (test/gate covers that).
      s = await startTestServer(backend, { throttle: "off" });
      const seeded = await s.call(
        "POST",
        "/_allot/seed",
        { tenants: [{ id: OTHER_TENANT, apps: [{ clientId: "d0d0d0d0-0000-4000-8000-0000000000a1", secrets: ["x-secret-x"], roles: ["*"] }] }] },
        { "x-allot-admin-key": DEFAULT_ADMIN_KEY },
      );
      assert.equal(seeded.status, 200);
    });
    after(() => s.close());

    for (const op of operationsOfModel()) {
      it(`${op.name}: 401 without a token, 403 without its permission, allowed with each of ${op.permission.application.join(" | ")}`, async () => {
        const send = async (token: string | undefined, r: { method: string; path: string; body?: unknown }) =>
          s.call(r.method, r.path, r.body, token ? { authorization: `Bearer ${token}` } : { authorization: "" });

        const none = await send(undefined, await op.request(s));
        assert.equal(none.status, 401, JSON.stringify(none.body));

        const withoutApp = await mint({ tenant: DEMO_TENANT_ID, roles: everything.application.filter((p) => !op.permission.application.includes(p)) });
        const denied = await send(withoutApp, await op.request(s));
        assert.equal(denied.status, 403, JSON.stringify(denied.body));
        assert.equal(denied.body.error.code, "Authorization_RequestDenied");

        for (const permission of op.permission.application) {
          const res = await send(await mint({ tenant: DEMO_TENANT_ID, roles: [permission] }), await op.request(s));
          assert.ok(res.status < 400 || (op.mayBeAbsent && res.status === 404), `${permission}: ${res.status} ${JSON.stringify(res.body)}`);
        }
        for (const scope of op.permission.delegated) {
          const res = await send(await mint({ tenant: DEMO_TENANT_ID, user: "megan@allotdemo.onmicrosoft.com", scopes: [scope] }), await op.request(s));
          assert.ok(res.status < 400 || (op.mayBeAbsent && res.status === 404), `delegated ${scope}: ${res.status} ${JSON.stringify(res.body)}`);
        }
        const withoutDelegated = await mint({ tenant: DEMO_TENANT_ID, user: "megan@allotdemo.onmicrosoft.com", scopes: everything.delegated.filter((p) => !op.permission.delegated.includes(p)) });
        assert.equal((await send(withoutDelegated, await op.request(s))).status, 403);
      });
    }

    it("a token of another tenant finds nothing of this tenant and changes nothing", async () => {
      const snapshot = async () => JSON.stringify(await Promise.all(["/users", "/groups", "/devices", `/groups/${STATIC_GROUP}/members`].map(async (p) => (await s.call("GET", p)).body.value)));
      const before = await snapshot();
      const foreign = await mint({ tenant: OTHER_TENANT, roles: everything.application });
      for (const op of operationsOfModel()) {
        const r = await op.request(s);
        if (!/\/[0-9a-f-]{36}/.test(r.path)) {
          if (r.method !== "GET") continue;
          const res = await s.call(r.method, r.path, r.body, { authorization: `Bearer ${foreign}` });
          if (res.body?.value) assert.ok(!JSON.stringify(res.body.value).includes("a110c0de-"), `${op.name} lists another tenant's objects`);
          continue;
        }
        const res = await s.call(r.method, r.path, r.body, { authorization: `Bearer ${foreign}` });
        assert.equal(res.status, 404, `${op.name}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      // The disposable objects the requests above created belong to the demo tenant; remove them before comparing.
      const after = JSON.parse(await snapshot()) as any[][];
      const was = JSON.parse(before) as any[][];
      for (let i = 0; i < was.length; i++) {
        const ids = new Set(was[i].map((x) => x.id));
        assert.deepEqual(after[i].filter((x) => ids.has(x.id)), was[i], "nothing of the first tenant changed");
      }
    });
  });
}
