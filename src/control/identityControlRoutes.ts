// Managing identity through the control plane: tenants, app registrations with their secrets and grants,
// signing-key rotation, and minting tokens of any shape for tests (expired, without a permission, a user's).

import { randomBytes, randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { issueAccessToken } from "../identity/accessTokens.js";
import { GRAPH_AUDIENCES, MMD_AUDIENCE } from "../identity/authenticate.js";
import { tokenIssuer } from "../identity/openidConfiguration.js";
import { currentSigningKey, publishedKeys, rotateSigningKey } from "../identity/signingKeys.js";
import { jsonBody } from "../graph/graphRoutes.js";
import { badRequest, GraphError } from "../odata/errors.js";
import type { CompiledModel } from "../odata/compiledModel.js";
import { allPermissions } from "../seed/fixture.js";
import { reassignablePersona } from "../mmd/personas.js";
import { hashSecret, type AppRegistration } from "../store/identityStore.js";
import type { SignInUser } from "../identity/identityRoutes.js";
import { authorizedTenant, requireAdminKey, type ControlAuthority } from "./controlAuthorization.js";

export interface IdentityControlDeps extends ControlAuthority {
  model: CompiledModel;
  findUser(tenantId: string, userPrincipalName: string): Promise<SignInUser | undefined>;
  wipeTenant(tenantId: string): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const newSecret = () => `${randomBytes(3).toString("base64url")}~${randomBytes(27).toString("base64url")}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const stringList = (v: unknown, name: string): string[] | undefined => {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw badRequest(`'${name}' must be an array of strings.`);
  return v as string[];
};

/** The app as the control plane shows it: never a secret's value or hash. */
const publicApp = (a: AppRegistration) => ({
  clientId: a.appId,
  displayName: a.displayName,
  servicePrincipalId: a.objectId,
  roles: a.roles,
  delegatedScopes: a.delegatedScopes,
  publicClient: a.publicClient,
  secrets: a.secrets.map((s) => ({ keyId: s.keyId, hint: s.hint })),
});

export function audienceOf(name: unknown): string {
  if (name === undefined || name === "graph") return GRAPH_AUDIENCES[0];
  if (name === "mmd") return MMD_AUDIENCE;
  if (typeof name === "string" && name !== "") return name;
  throw badRequest("'audience' is 'graph', 'mmd' or an audience URI.");
}

export function registerIdentityControlRoutes(app: FastifyInstance, deps: IdentityControlDeps) {
  const known = allPermissions(deps.model);
  const grants = (values: string[] | undefined, kind: "application" | "delegated") => {
    if (values === undefined) return undefined;
    if (values.includes("*")) return known[kind];
    const unknown = values.filter((v) => !known[kind].includes(v));
    if (unknown.length) throw badRequest(`Unknown ${kind} permission(s): ${unknown.join(", ")}.`);
    return values;
  };
  const tenantOf = async (request: Parameters<typeof authorizedTenant>[1], what: string) => {
    const { tenantId } = request.params as { tenantId: string };
    const t = (await authorizedTenant(deps, request, tenantId, what))!;
    if (!(await deps.identity.getTenant(t))) throw new GraphError(404, "ResourceNotFound", `No tenant '${t}' exists.`);
    return t;
  };
  const appOf = async (tenantId: string, appId: string) => {
    const a = await deps.identity.getApp(tenantId, appId);
    if (!a) throw new GraphError(404, "ResourceNotFound", `No app '${appId}' exists in tenant '${tenantId}'.`);
    return a;
  };

  app.get("/_allot/tenants", async (request) => {
    requireAdminKey(deps, request, "Listing tenants");
    return { value: await deps.identity.listTenants() };
  });

  app.put("/_allot/tenants/:tenantId", async (request, reply) => {
    requireAdminKey(deps, request, "Creating a tenant");
    const { tenantId } = request.params as { tenantId: string };
    if (!GUID.test(tenantId)) throw badRequest("A tenant id is a GUID.");
    const body = jsonBody(request) ?? {};
    if (!isObject(body)) throw badRequest("The body must be a JSON object.");
    const id = tenantId.toLowerCase();
    const existing = await deps.identity.getTenant(id);
    const personas = stringList(body.mmdEnabledPersonas, "mmdEnabledPersonas");
    for (const p of personas ?? []) if (!reassignablePersona(p)) throw badRequest(`'${p}' is not a Managed Desktop persona that can be enabled.`);
    const tenant = {
      id,
      displayName: typeof body.displayName === "string" ? body.displayName : (existing?.displayName ?? "Allot tenant"),
      domain: typeof body.domain === "string" ? body.domain : (existing?.domain ?? `${id.slice(0, 8)}.onmicrosoft.com`),
      mmdEnabledPersonas: personas?.map((p) => reassignablePersona(p)!) ?? existing?.mmdEnabledPersonas ?? [],
    };
    await deps.identity.putTenant(tenant);
    deps.authenticator.invalidate();
    return reply.code(existing ? 200 : 201).send(tenant);
  });

  app.delete("/_allot/tenants/:tenantId", async (request, reply) => {
    requireAdminKey(deps, request, "Deleting a tenant");
    const { tenantId } = request.params as { tenantId: string };
    if (!(await deps.identity.getTenant(tenantId))) throw new GraphError(404, "ResourceNotFound", `No tenant '${tenantId}' exists.`);
    await deps.wipeTenant(tenantId.toLowerCase());
    await deps.identity.deleteTenant(tenantId.toLowerCase());
    deps.authenticator.invalidate();
    return reply.code(204).send();
  });

  app.get("/_allot/tenants/:tenantId/apps", async (request) => {
    const t = await tenantOf(request, "Listing apps");
    return { value: (await deps.identity.listApps(t)).map(publicApp) };
  });

  app.post("/_allot/tenants/:tenantId/apps", async (request, reply) => {
    const t = await tenantOf(request, "Registering an app");
    const body = jsonBody(request) ?? {};
    if (!isObject(body)) throw badRequest("The body must be a JSON object.");
    const clientId = body.clientId === undefined ? randomUUID() : String(body.clientId).toLowerCase();
    if (!GUID.test(clientId)) throw badRequest("'clientId' is a GUID.");
    if (await deps.identity.getApp(t, clientId)) throw new GraphError(409, "Conflict", `App '${clientId}' already exists.`);
    const secretText = newSecret();
    const registration: AppRegistration = {
      tenantId: t,
      appId: clientId,
      displayName: typeof body.displayName === "string" ? body.displayName : "Allot app",
      objectId: randomUUID(),
      secrets: [hashSecret(secretText)],
      roles: grants(stringList(body.roles, "roles"), "application") ?? [],
      delegatedScopes: grants(stringList(body.delegatedScopes, "delegatedScopes"), "delegated") ?? [],
      publicClient: body.publicClient === true,
    };
    await deps.identity.putApp(registration);
    return reply.code(201).send({ ...publicApp(registration), secretText });
  });

  app.patch("/_allot/tenants/:tenantId/apps/:appId", async (request) => {
    const t = await tenantOf(request, "Changing an app");
    const current = await appOf(t, (request.params as { appId: string }).appId);
    const body = jsonBody(request) ?? {};
    if (!isObject(body)) throw badRequest("The body must be a JSON object.");
    const next: AppRegistration = {
      ...current,
      displayName: typeof body.displayName === "string" ? body.displayName : current.displayName,
      roles: grants(stringList(body.roles, "roles"), "application") ?? current.roles,
      delegatedScopes: grants(stringList(body.delegatedScopes, "delegatedScopes"), "delegated") ?? current.delegatedScopes,
      publicClient: typeof body.publicClient === "boolean" ? body.publicClient : current.publicClient,
    };
    await deps.identity.putApp(next);
    return publicApp(next);
  });

  app.delete("/_allot/tenants/:tenantId/apps/:appId", async (request, reply) => {
    const t = await tenantOf(request, "Deleting an app");
    const { appId } = request.params as { appId: string };
    if (!(await deps.identity.deleteApp(t, appId))) throw new GraphError(404, "ResourceNotFound", `No app '${appId}' exists in tenant '${t}'.`);
    return reply.code(204).send();
  });

  app.post("/_allot/tenants/:tenantId/apps/:appId/secrets", async (request, reply) => {
    const t = await tenantOf(request, "Adding a secret");
    const current = await appOf(t, (request.params as { appId: string }).appId);
    const secretText = newSecret();
    const stored = hashSecret(secretText);
    await deps.identity.putApp({ ...current, secrets: [...current.secrets, stored] });
    return reply.code(201).send({ keyId: stored.keyId, hint: stored.hint, secretText });
  });

  app.delete("/_allot/tenants/:tenantId/apps/:appId/secrets/:keyId", async (request, reply) => {
    const t = await tenantOf(request, "Removing a secret");
    const { appId, keyId } = request.params as { appId: string; keyId: string };
    const current = await appOf(t, appId);
    const secrets = current.secrets.filter((s) => s.keyId !== keyId);
    if (secrets.length === current.secrets.length) throw new GraphError(404, "ResourceNotFound", `No secret '${keyId}' on app '${appId}'.`);
    await deps.identity.putApp({ ...current, secrets });
    return reply.code(204).send();
  });

  app.post("/_allot/keys/rotate", async (request) => {
    requireAdminKey(deps, request, "Rotating the signing key");
    const key = await rotateSigningKey(deps.identity, deps.clock.now());
    deps.authenticator.invalidate();
    return { kid: key.kid, published: publishedKeys(await deps.identity.listSigningKeys()).keys.map((k) => k.kid) };
  });

  /**
   * Mints a token of any shape for tests: {tenant, clientId?, roles?, scopes?, user?, audience?, issuedAt?,
   * lifetimeSeconds?}. With `user` it is a delegated token (scp) for that directory user.
   */
  app.post("/_allot/tokens", async (request) => {
    const body = jsonBody(request) ?? {};
    if (!isObject(body)) throw badRequest("The body must be a JSON object.");
    const t = await authorizedTenant(deps, request, typeof body.tenant === "string" ? body.tenant : undefined, "Minting a token");
    if (!t || !(await deps.identity.getTenant(t))) throw badRequest("Name an existing tenant: {\"tenant\": \"<id>\"}.");
    const roles = stringList(body.roles, "roles");
    const scopes = stringList(body.scopes, "scopes");
    const audience = audienceOf(body.audience);
    const lifetimeSeconds = body.lifetimeSeconds === undefined ? 3599 : Number(body.lifetimeSeconds);
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1) throw badRequest("'lifetimeSeconds' is a positive integer.");
    const issuedAt = body.issuedAt === undefined ? deps.clock.now() : new Date(String(body.issuedAt));
    if (Number.isNaN(issuedAt.getTime())) throw badRequest("'issuedAt' is a date-time.");
    const apps = await deps.identity.listApps(t);
    const clientId = typeof body.clientId === "string" ? body.clientId.toLowerCase() : (apps[0]?.appId ?? randomUUID());
    const registration = apps.find((a) => a.appId === clientId);
    let user: SignInUser | undefined;
    if (body.user !== undefined) {
      user = await deps.findUser(t, String(body.user));
      if (!user) throw badRequest(`No user '${String(body.user)}' exists in tenant '${t}'.`);
    }
    const key = currentSigningKey(await deps.identity.listSigningKeys())!;
    const issued = await issueAccessToken(key, {
      issuer: tokenIssuer(deps.issuerBase, t),
      audience,
      tenantId: t,
      appId: clientId,
      objectId: user?.id ?? registration?.objectId ?? randomUUID(),
      ...(user ? { scp: (scopes ?? []).join(" "), upn: user.userPrincipalName, name: user.displayName } : { roles: roles ?? [] }),
      lifetimeSeconds,
      now: issuedAt,
    });
    return { token_type: "Bearer", access_token: issued.token, expires_in: issued.expiresIn };
  });
}
