// Allot as an Entra-compatible issuer, over HTTP: discovery, JWKS, client credentials and password grants,
// app registrations managed through the control plane, least privilege, token lifetimes and key rotation.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decodeJwt } from "jose";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { backendsToTest, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const admin = { "x-allot-admin-key": DEFAULT_ADMIN_KEY };
const ADELE_UPN = "adele@allotdemo.onmicrosoft.com";
const ADELE_PASSWORD = "Allot-demo-1!";

async function tokenRequest(s: TestServer, form: Record<string, string>, tenant = DEMO_TENANT_ID) {
  const res = await fetch(`${s.url}/${tenant}/oauth2/v2.0/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as any };
}

const graphAs = (s: TestServer, token: string, method: string, path: string, body?: unknown) => s.call(method, path, body, { authorization: `Bearer ${token}` });

for (const backend of await backendsToTest()) {
  describe(`identity endpoints (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    it("publishes OpenID discovery and a JWKS that verifies its tokens", async () => {
      const doc = await (await fetch(`${s.url}/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`)).json();
      assert.equal(doc.issuer, `${s.url}/${DEMO_TENANT_ID}/v2.0`);
      assert.equal(doc.token_endpoint, `${s.url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`);
      const jwks = await (await fetch(doc.jwks_uri)).json();
      const token = await s.token();
      const { kid } = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
      assert.ok(jwks.keys.some((k: any) => k.kid === kid && k.kty === "RSA" && !("d" in k)), "the JWKS holds the public signing key only");
      const claims = decodeJwt(token);
      assert.equal(claims.tid, DEMO_TENANT_ID);
      assert.equal(claims.appid, DEMO_CLIENT_ID);
      assert.equal(claims.aud, "https://graph.microsoft.com");
      assert.equal(claims.iss, doc.issuer);
      assert.ok((claims.roles as string[]).includes("User.ReadWrite.All"));
      assert.ok(!(claims.roles as string[]).includes("MmdSupport.ReadWrite"), "MMD roles go only into MMD tokens");
    });

    it("the domain name works in place of the tenant id, as in Entra", async () => {
      const res = await tokenRequest(s, { grant_type: "client_credentials", client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET, scope: "https://graph.microsoft.com/.default" }, "allotdemo.onmicrosoft.com");
      assert.equal(res.status, 200);
    });

    it("client credentials failures answer in Entra's error shape", async () => {
      const base = { grant_type: "client_credentials", client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET, scope: "https://graph.microsoft.com/.default" };
      const wrong = await tokenRequest(s, { ...base, client_secret: "nope" });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, "invalid_client");
      assert.deepEqual(wrong.body.error_codes, [7000215]);
      assert.match(wrong.body.error_description, /^AADSTS7000215: /);
      const app = await tokenRequest(s, { ...base, client_id: "00000000-0000-4000-8000-000000000000" });
      assert.deepEqual([app.status, app.body.error, app.body.error_codes[0]], [400, "unauthorized_client", 700016]);
      const tenant = await tokenRequest(s, base, "00000000-0000-4000-8000-00000000dead");
      assert.deepEqual([tenant.status, tenant.body.error_codes[0]], [400, 90002]);
      const scope = await tokenRequest(s, { ...base, scope: "https://example.com/.default" });
      assert.deepEqual([scope.status, scope.body.error], [400, "invalid_scope"]);
      const grant = await tokenRequest(s, { ...base, grant_type: "authorization_code" });
      assert.deepEqual([grant.status, grant.body.error], [400, "unsupported_grant_type"]);
    });

    it("password grant: a seeded user gets a delegated token with scp, which Graph honours", async () => {
      const res = await tokenRequest(s, { grant_type: "password", client_id: DEMO_CLIENT_ID, username: ADELE_UPN, password: ADELE_PASSWORD, scope: "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/Group.Read.All openid" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const claims = decodeJwt(res.body.access_token);
      assert.equal(claims.upn, ADELE_UPN);
      assert.equal(claims.scp, "Group.Read.All User.Read.All");
      assert.equal(claims.oid, "a110c0de-0000-4000-8000-000000000101");
      assert.equal((await graphAs(s, res.body.access_token, "GET", "/users")).status, 200);
      const write = await graphAs(s, res.body.access_token, "PATCH", "/users/a110c0de-0000-4000-8000-000000000101", { jobTitle: "x" });
      assert.equal(write.status, 403, "a Read.All scope cannot write");
      assert.equal(write.body.error.code, "Authorization_RequestDenied");
    });

    it("password grant failures: wrong password, unknown user, disabled user, unconsented scope", async () => {
      const form = { grant_type: "password", client_id: DEMO_CLIENT_ID, username: ADELE_UPN, password: ADELE_PASSWORD, scope: "https://graph.microsoft.com/.default" };
      assert.equal((await tokenRequest(s, { ...form, password: "wrong" })).body.error_codes[0], 50126);
      assert.equal((await tokenRequest(s, { ...form, username: "nobody@allotdemo.onmicrosoft.com" })).body.error_codes[0], 50126);
      await s.call("PATCH", "/users/a110c0de-0000-4000-8000-000000000103", { accountEnabled: false });
      assert.equal((await tokenRequest(s, { ...form, username: "nestor@allotdemo.onmicrosoft.com" })).body.error_codes[0], 50057);
      const unconsented = await tokenRequest(s, { ...form, scope: "https://graph.microsoft.com/Mail.Send" });
      assert.deepEqual([unconsented.status, unconsented.body.error_codes[0]], [400, 65001]);
      const defaults = await tokenRequest(s, form);
      assert.equal(defaults.status, 200);
      assert.ok(String(decodeJwt(defaults.body.access_token).scp).split(" ").includes("Group.ReadWrite.All"), ".default grants every consented scope");
    });

    it("a user's password set through Graph is hashed and works for sign-in", async () => {
      const created = await s.call("POST", "/users", { accountEnabled: true, displayName: "Pat", mailNickname: "pat", userPrincipalName: "pat@allotdemo.onmicrosoft.com", passwordProfile: { password: "Pat-Secret-9" } });
      assert.equal(created.status, 201);
      assert.equal(created.body.passwordProfile, undefined);
      const ok = await tokenRequest(s, { grant_type: "password", client_id: DEMO_CLIENT_ID, username: "pat@allotdemo.onmicrosoft.com", password: "Pat-Secret-9", scope: "https://graph.microsoft.com/.default" });
      assert.equal(ok.status, 200);
      await s.call("PATCH", `/users/${created.body.id}`, { passwordProfile: { password: "Pat-Secret-10" } });
      const old = await tokenRequest(s, { grant_type: "password", client_id: DEMO_CLIENT_ID, username: "pat@allotdemo.onmicrosoft.com", password: "Pat-Secret-9", scope: "https://graph.microsoft.com/.default" });
      assert.equal(old.status, 400);
    });

    it("apps registered through the control plane get exactly their grants (least privilege)", async () => {
      const created = await fetch(`${s.url}/_allot/tenants/${DEMO_TENANT_ID}/apps`, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify({ displayName: "Reader", roles: ["Group.Read.All"] }) });
      assert.equal(created.status, 201);
      const reader = await created.json();
      assert.ok(reader.secretText);
      const token = (await tokenRequest(s, { grant_type: "client_credentials", client_id: reader.clientId, client_secret: reader.secretText, scope: "https://graph.microsoft.com/.default" })).body.access_token;
      assert.deepEqual(decodeJwt(token).roles, ["Group.Read.All"]);
      assert.equal((await graphAs(s, token, "GET", "/groups")).status, 200);
      assert.equal((await graphAs(s, token, "POST", "/groups", { displayName: "x", mailEnabled: false, mailNickname: "x", securityEnabled: true })).status, 403);
      assert.equal((await graphAs(s, token, "GET", "/users")).status, 403);
      const unknownRole = await fetch(`${s.url}/_allot/tenants/${DEMO_TENANT_ID}/apps`, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify({ roles: ["Group.Read.Al"] }) });
      assert.equal(unknownRole.status, 400);
      // A second secret, then the first one removed.
      const second = await (await fetch(`${s.url}/_allot/tenants/${DEMO_TENANT_ID}/apps/${reader.clientId}/secrets`, { method: "POST", headers: admin })).json();
      assert.equal((await fetch(`${s.url}/_allot/tenants/${DEMO_TENANT_ID}/apps/${reader.clientId}/secrets/${reader.secrets[0].keyId}`, { method: "DELETE", headers: admin })).status, 204);
      assert.equal((await tokenRequest(s, { grant_type: "client_credentials", client_id: reader.clientId, client_secret: reader.secretText, scope: "https://graph.microsoft.com/.default" })).status, 401);
      assert.equal((await tokenRequest(s, { grant_type: "client_credentials", client_id: reader.clientId, client_secret: second.secretText, scope: "https://graph.microsoft.com/.default" })).status, 200);
      const listed = await (await fetch(`${s.url}/_allot/tenants/${DEMO_TENANT_ID}/apps`, { headers: admin })).json();
      assert.ok(!JSON.stringify(listed).includes(second.secretText), "secrets are never listed");
      assert.equal((await fetch(`${s.url}/_allot/tenants/${DEMO_TENANT_ID}/apps`)).status, 401);
    });

    it("expired, not-yet-valid and wrong-audience tokens get 401", async () => {
      const mint = async (body: Record<string, unknown>) =>
        (await (await fetch(`${s.url}/_allot/tokens`, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify({ tenant: DEMO_TENANT_ID, roles: ["User.Read.All"], ...body }) })).json()).access_token as string;
      const expired = await graphAs(s, await mint({ issuedAt: new Date(Date.now() - 7200_000).toISOString(), lifetimeSeconds: 60 }), "GET", "/users");
      assert.equal(expired.status, 401);
      assert.match(expired.body.error.message, /expired/i);
      assert.equal((await graphAs(s, await mint({ issuedAt: new Date(Date.now() + 3600_000).toISOString() }), "GET", "/users")).status, 401);
      const mmd = await graphAs(s, await mint({ audience: "mmd" }), "GET", "/users");
      assert.equal(mmd.status, 401);
      assert.match(mmd.body.error.message, /audience/i);
      assert.equal((await graphAs(s, await mint({}), "GET", "/users")).status, 200);
      assert.equal((await graphAs(s, await mint({ roles: [] }), "GET", "/users")).status, 403);
    });

    it("key rotation: the previous key still verifies, the one before it does not", async () => {
      const before = await s.token();
      const rotate = () => fetch(`${s.url}/_allot/keys/rotate`, { method: "POST", headers: admin }).then((r) => r.json());
      const first = await rotate();
      assert.equal(first.published.length, 2);
      assert.equal((await graphAs(s, before, "GET", "/users")).status, 200);
      const fresh = (await tokenRequest(s, { grant_type: "client_credentials", client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET, scope: "https://graph.microsoft.com/.default" })).body.access_token;
      assert.equal(JSON.parse(Buffer.from(fresh.split(".")[0], "base64url").toString()).kid, first.kid, "new tokens use the new key");
      await rotate();
      assert.equal((await graphAs(s, before, "GET", "/users")).status, 401);
      assert.equal((await graphAs(s, fresh, "GET", "/users")).status, 200);
      assert.equal((await fetch(`${s.url}/_allot/keys/rotate`, { method: "POST" })).status, 403);
    });
  });
}
