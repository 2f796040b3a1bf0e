import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, SignJWT, importJWK } from "jose";
import {
  createSigningKey,
  ensureSigningKey,
  publishedKeys,
  rotateSigningKey,
  type SigningKeyRecord,
  type SigningKeyRepository,
} from "../../src/identity/signingKeys.js";
import {
  AccessTokenRejected,
  issueAccessToken,
  verifyAccessToken,
  type AccessTokenClaims,
  type AccessTokenRejectionReason,
  type VerifyAccessTokenOptions,
} from "../../src/identity/accessTokens.js";
import {
  applicationNotFound,
  entraTimestamp,
  invalidClientSecret,
  invalidScope,
  invalidUserCredentials,
  missingParameter,
  parseTokenRequest,
  scopeAudience,
  scopeNotDefault,
  tenantNotFound,
  unsupportedGrantType,
  type EntraError,
} from "../../src/identity/entraErrors.js";
import { openidConfiguration, tokenIssuer } from "../../src/identity/openidConfiguration.js";

const BASE = "http://127.0.0.1:8787";
const TENANT = "11111111-2222-3333-4444-555555555555";
const APP = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const SP = "99999999-8888-7777-6666-555555555555";
const GRAPH = "https://graph.microsoft.com";
const NOW = new Date("2024-05-01T12:00:00Z");

class MemoryKeys implements SigningKeyRepository {
  readonly records: SigningKeyRecord[] = [];
  async listSigningKeys() {
    return [...this.records];
  }
  async insertSigningKey(key: SigningKeyRecord) {
    this.records.push(key);
  }
}

function claims(overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return {
    issuer: tokenIssuer(BASE, TENANT),
    audience: GRAPH,
    tenantId: TENANT,
    appId: APP,
    objectId: SP,
    roles: ["DeviceManagementConfiguration.ReadWrite.All"],
    lifetimeSeconds: 3600,
    now: NOW,
    ...overrides,
  };
}

function verifyOptions(keys: SigningKeyRecord[], overrides: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions {
  return { keys, audiences: [GRAPH], issuer: (tid) => tokenIssuer(BASE, tid), now: NOW, ...overrides };
}

async function rejectionOf(promise: Promise<unknown>): Promise<AccessTokenRejected> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AccessTokenRejected, `expected AccessTokenRejected, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the token to be rejected");
}

async function assertRejected(promise: Promise<unknown>, reason: AccessTokenRejectionReason, message?: RegExp) {
  const rejection = await rejectionOf(promise);
  assert.equal(rejection.reason, reason);
  if (message) assert.match(rejection.message, message);
}

/** Signs arbitrary claims with a stored key, for tokens issueAccessToken would never produce. */
async function signRaw(key: SigningKeyRecord, payload: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT", ...header })
    .sign(await importJWK(key.privateJwk, "RS256"));
}

describe("signing keys", () => {
  it("creates an RS256 key whose kid is the public key's thumbprint", async () => {
    const key = await createSigningKey(NOW);
    assert.equal(key.createdAt, NOW.toISOString());
    assert.match(key.kid, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(key.publicJwk.kty, "RSA");
    assert.equal(key.publicJwk.d, undefined);
    assert.ok(key.privateJwk.d);
  });

  it("ensureSigningKey creates a key once and then returns the newest", async () => {
    const repo = new MemoryKeys();
    const first = await ensureSigningKey(repo, NOW);
    const again = await ensureSigningKey(repo, new Date(NOW.getTime() + 1000));
    assert.equal(again.kid, first.kid);
    assert.equal(repo.records.length, 1);
    const rotated = await rotateSigningKey(repo, new Date(NOW.getTime() + 2000));
    assert.equal((await ensureSigningKey(repo, NOW)).kid, rotated.kid);
  });

  it("publishes only the current and previous keys, public parts only", async () => {
    const repo = new MemoryKeys();
    const k1 = await rotateSigningKey(repo, new Date("2024-01-01T00:00:00Z"));
    const k2 = await rotateSigningKey(repo, new Date("2024-02-01T00:00:00Z"));
    const k3 = await rotateSigningKey(repo, new Date("2024-03-01T00:00:00Z"));
    // Store order must not matter: newest is decided by createdAt.
    const jwks = publishedKeys([k3, k1, k2]);
    assert.deepEqual(jwks.keys.map((key) => key.kid), [k3.kid, k2.kid]);
    for (const key of jwks.keys) {
      assert.equal(key.use, "sig");
      assert.equal(key.alg, "RS256");
      assert.equal(key.kty, "RSA");
      assert.ok(key.n && key.e);
      assert.deepEqual(Object.keys(key).filter((name) => ["d", "p", "q", "dp", "dq", "qi"].includes(name)), []);
    }
  });
});

describe("access tokens", () => {
  let key: SigningKeyRecord;
  before(async () => {
    key = await createSigningKey(NOW);
  });

  it("issues an Entra-shaped app token that verifies", async () => {
    const issued = await issueAccessToken(key, claims());
    assert.equal(issued.expiresIn, 3600);
    const header = decodeProtectedHeader(issued.token);
    assert.deepEqual(header, { alg: "RS256", kid: key.kid, typ: "JWT" });
    const payload = decodeJwt(issued.token);
    const epoch = NOW.getTime() / 1000;
    assert.equal(payload.aud, GRAPH);
    assert.equal(payload.iss, `${BASE}/${TENANT}/v2.0`);
    assert.equal(payload.iat, epoch);
    assert.equal(payload.nbf, epoch);
    assert.equal(payload.exp, epoch + 3600);
    assert.equal(payload.tid, TENANT);
    assert.equal(payload.appid, APP);
    assert.equal(payload.azp, APP);
    assert.equal(payload.oid, SP);
    assert.equal(payload.sub, SP);
    assert.equal(payload.ver, "2.0");
    assert.equal(payload.idtyp, "app");
    assert.equal(typeof payload.uti, "string");
    assert.equal(payload.scp, undefined);
    assert.equal(payload.upn, undefined);

    const verified = await verifyAccessToken(issued.token, verifyOptions([key]));
    assert.equal(verified.tenantId, TENANT);
    assert.equal(verified.appId, APP);
    assert.equal(verified.objectId, SP);
    assert.deepEqual(verified.roles, ["DeviceManagementConfiguration.ReadWrite.All"]);
    assert.deepEqual(verified.scopes, []);
    assert.equal(verified.audience, GRAPH);
    assert.equal(verified.upn, undefined);
    assert.equal(verified.claims.uti, payload.uti);
  });

  it("issues a user token with scp, upn and name", async () => {
    const { token } = await issueAccessToken(
      key,
      claims({ roles: undefined, scp: "DeviceManagementManagedDevices.Read.All User.Read", upn: "adele@contoso.test", name: "Adele Vance" }),
    );
    const payload = decodeJwt(token);
    assert.equal(payload.idtyp, "user");
    assert.equal(payload.name, "Adele Vance");
    assert.equal(payload.roles, undefined);
    const verified = await verifyAccessToken(token, verifyOptions([key]));
    assert.deepEqual(verified.scopes, ["DeviceManagementManagedDevices.Read.All", "User.Read"]);
    assert.deepEqual(verified.roles, []);
    assert.equal(verified.upn, "adele@contoso.test");
  });

  it("gives every token a distinct uti", async () => {
    const a = decodeJwt((await issueAccessToken(key, claims())).token);
    const b = decodeJwt((await issueAccessToken(key, claims())).token);
    assert.notEqual(a.uti, b.uti);
  });

  it("accepts any of the configured audiences and reports which", async () => {
    const mmd = "https://mwaas-services-customerapi-prod.azurewebsites.net";
    const { token } = await issueAccessToken(key, claims({ audience: mmd }));
    const verified = await verifyAccessToken(token, verifyOptions([key], { audiences: [GRAPH, mmd] }));
    assert.equal(verified.audience, mmd);
  });

  it("rejects an expired token, allowing the clock tolerance", async () => {
    const { token } = await issueAccessToken(key, claims());
    const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
    await verifyAccessToken(token, verifyOptions([key], { now: at(3600 + 299) }));
    await assertRejected(verifyAccessToken(token, verifyOptions([key], { now: at(3600 + 301) })), "expired", /Lifetime validation failed, the token is expired/);
    await assertRejected(verifyAccessToken(token, verifyOptions([key], { now: at(3601), clockToleranceSeconds: 0 })), "expired");
  });

  it("rejects a token that is not yet valid", async () => {
    const { token } = await issueAccessToken(key, claims({ now: new Date(NOW.getTime() + 3600_000) }));
    await assertRejected(verifyAccessToken(token, verifyOptions([key])), "notYetValid", /not yet valid/);
  });

  it("rejects a token for another audience", async () => {
    const { token } = await issueAccessToken(key, claims({ audience: "https://management.azure.com" }));
    await assertRejected(verifyAccessToken(token, verifyOptions([key])), "wrongAudience", /Invalid audience/);
  });

  it("rejects a token from another issuer", async () => {
    const { token } = await issueAccessToken(key, claims({ issuer: `https://sts.windows.net/${TENANT}/` }));
    await assertRejected(verifyAccessToken(token, verifyOptions([key])), "wrongIssuer", /Invalid issuer/);
  });

  it("rejects a token whose issuer belongs to a different tenant than its tid", async () => {
    const { token } = await issueAccessToken(key, claims({ issuer: tokenIssuer(BASE, "00000000-0000-0000-0000-000000000000") }));
    await assertRejected(verifyAccessToken(token, verifyOptions([key])), "wrongIssuer");
  });

  it("rejects a tampered payload or signature", async () => {
    const { token } = await issueAccessToken(key, claims());
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const elevated = Buffer.from(
      JSON.stringify({ ...decodeJwt(token), roles: ["DeviceManagementRBAC.ReadWrite.All"] }),
    ).toString("base64url");
    await assertRejected(verifyAccessToken(`${header}.${elevated}.${signature}`, verifyOptions([key])), "badSignature", /Invalid signature/);
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    await assertRejected(verifyAccessToken(`${header}.${payload}.${flipped}`, verifyOptions([key])), "badSignature");
  });

  it("rejects a token signed by a key that is not ours but claims our kid", async () => {
    const stranger = await createSigningKey(NOW);
    const forged = await signRaw({ ...stranger, kid: key.kid }, decodeJwt((await issueAccessToken(key, claims())).token));
    await assertRejected(verifyAccessToken(forged, verifyOptions([key])), "badSignature");
  });

  it("rejects unsigned and HMAC tokens", async () => {
    const { token } = await issueAccessToken(key, claims());
    const [, payload] = token.split(".") as [string, string];
    const none = Buffer.from(JSON.stringify({ alg: "none", kid: key.kid, typ: "JWT" })).toString("base64url");
    await assertRejected(verifyAccessToken(`${none}.${payload}.`, verifyOptions([key])), "badSignature");
    const hmac = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ alg: "HS256", kid: key.kid })
      .sign(new TextEncoder().encode("a-shared-secret-a-shared-secret!!"));
    await assertRejected(verifyAccessToken(hmac, verifyOptions([key])), "badSignature");
  });

  it("rejects a token with an unknown or missing kid", async () => {
    const stranger = await createSigningKey(NOW);
    const { token } = await issueAccessToken(stranger, claims());
    await assertRejected(verifyAccessToken(token, verifyOptions([key])), "unknownKey", new RegExp(stranger.kid));
    const noKid = await new SignJWT(decodeJwt(token)).setProtectedHeader({ alg: "RS256" }).sign(await importJWK(key.privateJwk, "RS256"));
    await assertRejected(verifyAccessToken(noKid, verifyOptions([key])), "unknownKey");
  });

  it("rejects garbage as malformed", async () => {
    for (const garbage of ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "Bearer xyz"]) {
      await assertRejected(verifyAccessToken(garbage, verifyOptions([key])), "malformed", /^IDX14100/);
    }
  });

  it("rejects a token missing a required claim", async () => {
    const epoch = NOW.getTime() / 1000;
    const base = { aud: GRAPH, iss: tokenIssuer(BASE, TENANT), iat: epoch, nbf: epoch, exp: epoch + 600, tid: TENANT, oid: SP, appid: APP };
    const without = (name: string) => Object.fromEntries(Object.entries(base).filter(([claim]) => claim !== name));
    for (const claim of ["tid", "oid", "exp", "aud"]) {
      const token = await signRaw(key, without(claim));
      await assertRejected(verifyAccessToken(token, verifyOptions([key])), "missingClaim", new RegExp(`'${claim}'`));
    }
    await assertRejected(verifyAccessToken(await signRaw(key, without("appid")), verifyOptions([key])), "missingClaim", /'appid'/);
    // azp alone (a v2 token without appid) is enough.
    const azpOnly = await signRaw(key, { ...without("appid"), azp: APP });
    assert.equal((await verifyAccessToken(azpOnly, verifyOptions([key]))).appId, APP);
  });
});

describe("key rotation", () => {
  it("keeps tokens signed by the previous key valid, but not those from two rotations ago", async () => {
    const repo = new MemoryKeys();
    const oldest = await ensureSigningKey(repo, new Date("2024-01-01T00:00:00Z"));
    const fromOldest = (await issueAccessToken(oldest, claims())).token;
    const previous = await rotateSigningKey(repo, new Date("2024-02-01T00:00:00Z"));
    const fromPrevious = (await issueAccessToken(previous, claims())).token;

    assert.equal((await verifyAccessToken(fromOldest, verifyOptions(await repo.listSigningKeys()))).objectId, SP);

    const current = await rotateSigningKey(repo, new Date("2024-03-01T00:00:00Z"));
    const fromCurrent = (await issueAccessToken(current, claims())).token;
    const keys = await repo.listSigningKeys();

    assert.deepEqual(publishedKeys(keys).keys.map((key) => key.kid), [current.kid, previous.kid]);
    assert.equal((await verifyAccessToken(fromCurrent, verifyOptions(keys))).objectId, SP);
    assert.equal((await verifyAccessToken(fromPrevious, verifyOptions(keys))).objectId, SP);
    await assertRejected(verifyAccessToken(fromOldest, verifyOptions(keys)), "unknownKey");
  });
});

function assertEntraError(result: EntraError, status: number, error: string, code: number, description: RegExp) {
  assert.equal(result.status, status);
  const body = result.body;
  assert.deepEqual(Object.keys(body).sort(), ["correlation_id", "error", "error_codes", "error_description", "error_uri", "timestamp", "trace_id"]);
  assert.equal(body.error, error);
  assert.deepEqual(body.error_codes, [code]);
  assert.ok(body.error_description.startsWith(`AADSTS${code}: `), body.error_description);
  assert.match(body.error_description, description);
  assert.match(body.timestamp, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  assert.match(body.trace_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(body.correlation_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(body.error_uri, `https://login.microsoftonline.com/error?code=${code}`);
}

describe("Entra error bodies", () => {
  it("formats timestamps like Entra", () => {
    assert.equal(entraTimestamp(new Date("2024-01-02T03:04:05.678Z")), "2024-01-02 03:04:05Z");
  });

  it("uses the ids and clock passed in", () => {
    const context = { traceId: "0f0e0d0c-0b0a-0908-0706-050403020100", correlationId: "01234567-89ab-cdef-0123-456789abcdef", now: new Date("2024-01-02T03:04:05Z") };
    const { body } = invalidClientSecret(APP, context);
    assert.equal(body.trace_id, context.traceId);
    assert.equal(body.correlation_id, context.correlationId);
    assert.equal(body.timestamp, "2024-01-02 03:04:05Z");
    assert.equal(
      body.error_description,
      `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${APP}'. Trace ID: ${context.traceId} Correlation ID: ${context.correlationId} Timestamp: 2024-01-02 03:04:05Z`,
    );
  });

  it("generates distinct ids when none are given", () => {
    const a = tenantNotFound("contoso.test").body;
    const b = tenantNotFound("contoso.test").body;
    assert.notEqual(a.trace_id, b.trace_id);
    assert.notEqual(a.correlation_id, b.correlation_id);
  });

  it("builds each error with Entra's status, error and AADSTS code", () => {
    assertEntraError(invalidClientSecret(APP), 401, "invalid_client", 7000215, new RegExp(`app '${APP}'`));
    assertEntraError(applicationNotFound(APP, TENANT), 400, "unauthorized_client", 700016, new RegExp(`Application with identifier '${APP}' was not found in the directory '${TENANT}'`));
    assertEntraError(tenantNotFound("contoso.test"), 400, "invalid_request", 90002, /Tenant 'contoso.test' not found/);
    assertEntraError(missingParameter("grant_type"), 400, "invalid_request", 900144, /must contain the following parameter: 'grant_type'\./);
    assertEntraError(unsupportedGrantType("authorization_code"), 400, "unsupported_grant_type", 70003, /unsupported grant type/);
    assertEntraError(scopeNotDefault("User.Read"), 400, "invalid_scope", 1002012, /The provided value for scope User.Read is not valid/);
    assertEntraError(invalidScope("https://example.test/.default"), 400, "invalid_scope", 70011, /scope https:\/\/example.test\/.default is not valid/);
    assertEntraError(invalidUserCredentials(), 400, "invalid_grant", 50126, /invalid username or password/);
  });
});

describe("token requests", () => {
  const clientCredentials = {
    grant_type: "client_credentials",
    client_id: APP,
    client_secret: "s3cr3t~value",
    scope: "https://graph.microsoft.com/.default",
  };

  function expectError(form: Record<string, string>, code: number, status = 400): EntraError {
    const parsed = parseTokenRequest(form);
    assert.equal(parsed.ok, false, "expected an error");
    if (parsed.ok) throw new Error("unreachable");
    assert.deepEqual(parsed.error.body.error_codes, [code]);
    assert.equal(parsed.error.status, status);
    return parsed.error;
  }

  it("maps scopes to audiences", () => {
    assert.equal(scopeAudience("https://graph.microsoft.com/.default"), "https://graph.microsoft.com");
    assert.equal(
      scopeAudience("https://mwaas-services-customerapi-prod.azurewebsites.net/.default"),
      "https://mwaas-services-customerapi-prod.azurewebsites.net",
    );
    assert.equal(scopeAudience("openid  https://graph.microsoft.com/.default offline_access profile"), "https://graph.microsoft.com");
    assert.equal(scopeAudience("https://management.azure.com/.default"), undefined);
    assert.equal(scopeAudience("https://graph.microsoft.com/User.Read"), undefined);
    assert.equal(scopeAudience("User.Read"), undefined);
    assert.equal(scopeAudience("openid profile"), undefined);
    assert.equal(
      scopeAudience("https://graph.microsoft.com/.default https://mwaas-services-customerapi-prod.azurewebsites.net/.default"),
      undefined,
    );
  });

  it("parses a client credentials request", () => {
    const parsed = parseTokenRequest({ ...clientCredentials, scope: "https://graph.microsoft.com/.default offline_access" });
    assert.deepEqual(parsed, {
      ok: true,
      request: {
        grantType: "client_credentials",
        clientId: APP,
        clientSecret: "s3cr3t~value",
        scope: "https://graph.microsoft.com/.default offline_access",
        audience: GRAPH,
      },
    });
  });

  it("requires grant_type, client_id and scope", () => {
    const without = (name: string) => Object.fromEntries(Object.entries(clientCredentials).filter(([key]) => key !== name));
    for (const name of ["grant_type", "client_id", "scope"]) {
      const error = expectError(without(name), 900144);
      assert.equal(error.body.error, "invalid_request");
      assert.match(error.body.error_description, new RegExp(`'${name}'`));
    }
    expectError({ ...clientCredentials, client_id: "  " }, 900144);
  });

  it("requires a client secret for client credentials", () => {
    const { client_secret: _omitted, ...form } = clientCredentials;
    const error = expectError(form, 7000218, 401);
    assert.equal(error.body.error, "invalid_client");
  });

  it("rejects unsupported grant types", () => {
    assert.equal(expectError({ ...clientCredentials, grant_type: "authorization_code" }, 70003).body.error, "unsupported_grant_type");
  });

  it("rejects client credentials scopes that are not a single known .default", () => {
    assert.equal(expectError({ ...clientCredentials, scope: "https://graph.microsoft.com/User.Read" }, 1002012).body.error, "invalid_scope");
    expectError({ ...clientCredentials, scope: "openid profile" }, 1002012);
    expectError({ ...clientCredentials, scope: "https://management.azure.com/.default" }, 70011);
    expectError(
      { ...clientCredentials, scope: "https://graph.microsoft.com/.default https://mwaas-services-customerapi-prod.azurewebsites.net/.default" },
      70011,
    );
  });

  it("parses a password request for a public client", () => {
    const parsed = parseTokenRequest({
      grant_type: "password",
      client_id: APP,
      username: "adele@contoso.test",
      password: "P@ssw0rd",
      scope: "https://graph.microsoft.com/DeviceManagementConfiguration.Read.All User.Read openid profile offline_access",
    });
    assert.ok(parsed.ok);
    assert.equal(parsed.request.grantType, "password");
    if (parsed.request.grantType !== "password") return;
    assert.equal(parsed.request.clientSecret, undefined);
    assert.equal(parsed.request.username, "adele@contoso.test");
    assert.equal(parsed.request.password, "P@ssw0rd");
    assert.equal(parsed.request.audience, GRAPH);
    assert.deepEqual(parsed.request.permissions, ["DeviceManagementConfiguration.Read.All", "User.Read"]);
  });

  it("parses a password request for a confidential client with .default", () => {
    const parsed = parseTokenRequest({
      grant_type: "password",
      client_id: APP,
      client_secret: "s3cr3t",
      username: "adele@contoso.test",
      password: "P@ssw0rd",
      scope: "https://mwaas-services-customerapi-prod.azurewebsites.net/.default",
    });
    assert.ok(parsed.ok && parsed.request.grantType === "password");
    assert.equal(parsed.request.clientSecret, "s3cr3t");
    assert.equal(parsed.request.audience, "https://mwaas-services-customerapi-prod.azurewebsites.net");
    assert.deepEqual(parsed.request.permissions, []);
  });

  it("requires username, password and scope for the password grant", () => {
    const form = { grant_type: "password", client_id: APP, username: "adele@contoso.test", password: "P@ssw0rd", scope: "User.Read" };
    for (const name of ["username", "password", "scope"]) {
      const partial = Object.fromEntries(Object.entries(form).filter(([key]) => key !== name));
      assert.match(expectError(partial, 900144).body.error_description, new RegExp(`'${name}'`));
    }
  });

  it("rejects password grant scopes for unknown or mixed resources", () => {
    const form = { grant_type: "password", client_id: APP, username: "adele@contoso.test", password: "P@ssw0rd" };
    expectError({ ...form, scope: "https://management.azure.com/user_impersonation" }, 70011);
    expectError({ ...form, scope: "User.Read https://mwaas-services-customerapi-prod.azurewebsites.net/.default" }, 70011);
  });
});

describe("OpenID configuration", () => {
  it("points every endpoint at Allot", () => {
    const doc = openidConfiguration(`${BASE}/`, TENANT);
    assert.equal(doc.issuer, `${BASE}/${TENANT}/v2.0`);
    assert.equal(doc.issuer, tokenIssuer(BASE, TENANT));
    assert.equal(doc.token_endpoint, `${BASE}/${TENANT}/oauth2/v2.0/token`);
    assert.equal(doc.authorization_endpoint, `${BASE}/${TENANT}/oauth2/v2.0/authorize`);
    assert.equal(doc.device_authorization_endpoint, `${BASE}/${TENANT}/oauth2/v2.0/devicecode`);
    assert.equal(doc.jwks_uri, `${BASE}/${TENANT}/discovery/v2.0/keys`);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ["RS256"]);
    assert.ok(doc.token_endpoint_auth_methods_supported.includes("client_secret_post"));
    assert.ok(doc.scopes_supported.includes("openid"));
    assert.ok(doc.claims_supported.includes("tid"));
    assert.ok(doc.response_types_supported.includes("code"));
    assert.deepEqual(doc.subject_types_supported, ["pairwise"]);
    assert.equal(doc.tenant_region_scope, "NA");
    assert.equal(doc.cloud_instance_name, "microsoftonline.com");
    assert.equal(doc.msgraph_host, "127.0.0.1:8787");
  });

  it("uses the {tenantid} placeholder in the issuer for multi-tenant authorities", () => {
    const doc = openidConfiguration(BASE, "organizations");
    assert.equal(doc.issuer, `${BASE}/{tenantid}/v2.0`);
    assert.equal(doc.token_endpoint, `${BASE}/organizations/oauth2/v2.0/token`);
  });
});
