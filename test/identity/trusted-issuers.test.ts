// --trust-issuer: tokens of another OIDC issuer are accepted, verified against its JWKS (fetched, cached, fetched
// again for an unknown key id), with the audience checked and the tenant taken from the tid claim. The other
// issuer here is a second, independent Allot installation.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const OTHER = "c0c0c0c0-0000-4000-8000-000000000001";

const mint = async (issuer: TestServer, body: Record<string, unknown>) =>
  (
    await (
      await fetch(`${issuer.url}/_allot/tokens`, {
        method: "POST",
        headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" },
        body: JSON.stringify({ tenant: DEMO_TENANT_ID, roles: ["User.Read.All"], ...body }),
      })
    ).json()
  ).access_token as string;

describe("trusted external issuers", () => {
  let issuer: TestServer;
  let untrusted: TestServer;
  let relying: TestServer;
  before(async () => {
    issuer = await startTestServer("sqlite");
    untrusted = await startTestServer("sqlite");
    await fetch(`${issuer.url}/_allot/tenants/${OTHER}`, { method: "PUT", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY, "content-type": "application/json" }, body: "{}" });
    relying = await startTestServer("sqlite", { trustIssuers: [`${issuer.url}/${DEMO_TENANT_ID}/v2.0`, `${issuer.url}/${OTHER}/v2.0/`], trustRefetchCooldownMs: 0 });
  });
  after(async () => {
    await relying.close();
    await issuer.close();
    await untrusted.close();
  });

  const callWith = (token: string) => relying.call("GET", "/users/$count", undefined, { authorization: `Bearer ${token}` });

  it("a token of the trusted issuer is accepted, with its roles, for the tenant in tid", async () => {
    const res = await callWith(await mint(issuer, {}));
    assert.equal(res.status, 200);
    assert.equal(res.text, "3");
    assert.equal((await relying.call("POST", "/groups", { displayName: "x" }, { authorization: `Bearer ${await mint(issuer, {})}` })).status, 403, "its roles decide");
  });

  it("a token of an issuer that is not trusted is refused", async () => {
    assert.equal((await callWith(await mint(untrusted, {}))).status, 401);
  });

  it("the audience is checked", async () => {
    const res = await callWith(await mint(issuer, { audience: "mmd" }));
    assert.equal(res.status, 401);
    assert.match(res.body.error.message, /audience/i);
  });

  it("an expired token of the trusted issuer is refused", async () => {
    assert.equal((await callWith(await mint(issuer, { issuedAt: new Date(Date.now() - 7200_000).toISOString(), lifetimeSeconds: 60 }))).status, 401);
  });

  it("after the issuer rotates its key, the new key id is fetched and accepted", async () => {
    assert.equal((await callWith(await mint(issuer, {}))).status, 200);
    const rotated = await (await fetch(`${issuer.url}/_allot/keys/rotate`, { method: "POST", headers: { "x-allot-admin-key": DEFAULT_ADMIN_KEY } })).json();
    const token = await mint(issuer, {});
    assert.equal(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid, rotated.kid);
    assert.equal((await callWith(token)).status, 200);
  });

  it("a tenant that does not exist in the relying installation is refused", async () => {
    const res = await callWith(await mint(issuer, { tenant: OTHER }));
    assert.equal(res.status, 401);
    assert.match(res.body.error.message, /tenant does not exist/);
  });
});
