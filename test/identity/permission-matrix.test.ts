// The permission matrix, generated from the model: for every operation the model routes — no token → 401;
// a token holding every permission except the operation's → 403; a token holding only one of its permissions
// (each one in turn, application and delegated) → neither; a token of another tenant → not found, and nothing
// of the first tenant changes.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { graphModel } from "../../src/graph/model/index.js";
import type { PermissionDecl } from "../../src/odata/model.js";
import { allPermissions } from "../../src/seed/fixture.js";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const OTHER_TENANT = "d0d0d0d0-0000-4000-8000-000000000001";
const ADELE = "a110c0de-0000-4000-8000-000000000101";
const STATIC_GROUP = "a110c0de-0000-4000-8000-000000000503";
let counter = 0;

/** What the test needs to call each entity set: a seeded id and a valid new body. Every set must be here. */
const samples: Record<string, { id: string; body: () => Record<string, unknown> }> = {
  users: {
    id: ADELE,
    body: () => ({ accountEnabled: true, displayName: `Matrix ${++counter}`, mailNickname: `m${counter}`, userPrincipalName: `m${counter}@allotdemo.onmicrosoft.com`, passwordProfile: { password: "Matrix-Pass-1" } }),
  },
  groups: { id: STATIC_GROUP, body: () => ({ displayName: `Matrix ${++counter}`, mailEnabled: false, mailNickname: `g${++counter}`, securityEnabled: true }) },
  devices: {
    id: "a110c0de-0000-4000-8000-000000000201",
    body: () => ({ accountEnabled: true, alternativeSecurityIds: [{ type: 2, key: "AAE=" }], deviceId: crypto.randomUUID(), displayName: `MATRIX-${++counter}`, operatingSystem: "Windows", operatingSystemVersion: "10.0.1" }),
  },
};
const actionBodies: Record<string, Record<string, unknown>> = {
  checkMemberGroups: { groupIds: [STATIC_GROUP] },
  getMemberGroups: { securityEnabledOnly: false },
};

interface MatrixOperation {
  name: string;
  permission: PermissionDecl;
  /** Builds a fresh request (a write gets its own disposable target). */
  request(s: TestServer, token: string): Promise<{ method: string; path: string; body?: unknown }>;
}

async function disposable(s: TestServer, set: string): Promise<string> {
  const res = await s.call("POST", `/${set}`, samples[set].body());
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

function operationsOfModel(): MatrixOperation[] {
  const ops: MatrixOperation[] = [];
  for (const set of graphModel.entitySets.values()) {
    const sample = samples[set.name];
    assert.ok(sample, `the matrix needs a sample for entity set '${set.name}'`);
    const { read, write } = set.permissions;
    ops.push({ name: `GET /${set.name}`, permission: read, request: async () => ({ method: "GET", path: `/${set.name}` }) });
    ops.push({ name: `GET /${set.name}/{id}`, permission: read, request: async () => ({ method: "GET", path: `/${set.name}/${sample.id}` }) });
    ops.push({ name: `POST /${set.name}`, permission: write, request: async () => ({ method: "POST", path: `/${set.name}`, body: sample.body() }) });
    ops.push({ name: `PATCH /${set.name}/{id}`, permission: write, request: async (s) => ({ method: "PATCH", path: `/${set.name}/${await disposable(s, set.name)}`, body: { displayName: `Patched ${++counter}` } }) });
    ops.push({ name: `DELETE /${set.name}/{id}`, permission: write, request: async (s) => ({ method: "DELETE", path: `/${set.name}/${await disposable(s, set.name)}` }) });
    const type = graphModel.entityType(set.entityType);
    for (const nav of type.navigation.values()) {
      const perms = nav.permissions ?? set.permissions;
      ops.push({ name: `GET /${set.name}/{id}/${nav.name}`, permission: perms.read, request: async () => ({ method: "GET", path: `/${set.name}/${sample.id}/${nav.name}` }) });
      if (nav.references) {
        ops.push({
          name: `POST /${set.name}/{id}/${nav.name}/$ref`,
          permission: perms.write,
          request: async (s) => ({ method: "POST", path: `/${set.name}/${await disposable(s, set.name)}/${nav.name}/$ref`, body: { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` } }),
        });
        ops.push({
          name: `DELETE /${set.name}/{id}/${nav.name}/{member}/$ref`,
          permission: perms.write,
          request: async (s) => {
            const id = await disposable(s, set.name);
            assert.equal((await s.call("POST", `/${set.name}/${id}/${nav.name}/$ref`, { "@odata.id": `${s.graph}/directoryObjects/${ADELE}` })).status, 204);
            return { method: "DELETE", path: `/${set.name}/${id}/${nav.name}/${ADELE}/$ref` };
          },
        });
      }
    }
    for (const op of graphModel.allOperations()) {
      if (!graphModel.isAssignable(type, graphModel.entityType(op.bindingType)) || op.bindingCollection) continue;
      assert.ok(actionBodies[op.name], `the matrix needs a body for action '${op.name}'`);
      ops.push({ name: `POST /${set.name}/{id}/${op.name}`, permission: op.permissions, request: async () => ({ method: "POST", path: `/${set.name}/${sample.id}/${op.name}`, body: actionBodies[op.name] }) });
    }
  }
  for (const [name, nav] of graphModel.entityType("deviceManagement").navigation) {
    ops.push({ name: `GET /deviceManagement/${name}`, permission: nav.permissions!.read, request: async () => ({ method: "GET", path: `/deviceManagement/${name}` }) });
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
      s = await startTestServer(backend);
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
        const demoToken = await s.token();
        const send = async (token: string | undefined, r: { method: string; path: string; body?: unknown }) =>
          s.call(r.method, r.path, r.body, token ? { authorization: `Bearer ${token}` } : { authorization: "" });

        const none = await send(undefined, await op.request(s, demoToken));
        assert.equal(none.status, 401, JSON.stringify(none.body));

        const withoutApp = await mint({ tenant: DEMO_TENANT_ID, roles: everything.application.filter((p) => !op.permission.application.includes(p)) });
        const denied = await send(withoutApp, await op.request(s, demoToken));
        assert.equal(denied.status, 403, JSON.stringify(denied.body));
        assert.equal(denied.body.error.code, "Authorization_RequestDenied");

        for (const permission of op.permission.application) {
          const res = await send(await mint({ tenant: DEMO_TENANT_ID, roles: [permission] }), await op.request(s, demoToken));
          assert.ok(res.status < 400, `${permission}: ${res.status} ${JSON.stringify(res.body)}`);
        }
        for (const scope of op.permission.delegated) {
          const res = await send(await mint({ tenant: DEMO_TENANT_ID, user: "megan@allotdemo.onmicrosoft.com", scopes: [scope] }), await op.request(s, demoToken));
          assert.ok(res.status < 400, `delegated ${scope}: ${res.status} ${JSON.stringify(res.body)}`);
        }
        const withoutDelegated = await mint({ tenant: DEMO_TENANT_ID, user: "megan@allotdemo.onmicrosoft.com", scopes: everything.delegated.filter((p) => !op.permission.delegated.includes(p)) });
        assert.equal((await send(withoutDelegated, await op.request(s, demoToken))).status, 403);
      });
    }

    it("a token of another tenant finds nothing of this tenant and changes nothing", async () => {
      const snapshot = async () => JSON.stringify(await Promise.all(["/users", "/groups", "/devices", `/groups/${STATIC_GROUP}/members`].map(async (p) => (await s.call("GET", p)).body.value)));
      const before = await snapshot();
      const foreign = await mint({ tenant: OTHER_TENANT, roles: everything.application });
      for (const op of operationsOfModel()) {
        const r = await op.request(s, await s.token());
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
