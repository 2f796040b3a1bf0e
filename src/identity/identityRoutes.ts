// Allot as an Entra-compatible token issuer: per-tenant OpenID discovery, JWKS and the v2 token endpoint.

import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { IdentityStore, TenantRecord } from "../store/identityStore.js";
import { secretMatches } from "../store/identityStore.js";
import type { Clock } from "../time/clock.js";
import { issueAccessToken } from "./accessTokens.js";
import { MMD_AUDIENCE } from "./authenticate.js";
import {
  applicationNotFound,
  consentRequired,
  invalidClientSecret,
  invalidUserCredentials,
  parseTokenRequest,
  publicClientNotAllowed,
  tenantNotFound,
  userDisabled,
  type EntraError,
} from "./entraErrors.js";
import { passwordMatches, type PasswordHash } from "./userPasswords.js";
import { openidConfiguration, tokenIssuer } from "./openidConfiguration.js";
import { currentSigningKey, publishedKeys } from "./signingKeys.js";
import { baseUrlOf } from "../graph/graphRoutes.js";

export const TOKEN_LIFETIME_SECONDS = 3599;

/** Application permissions belong to one API: MMD's to the MMD audience, every other to Graph. */
export const rolesForAudience = (roles: string[], audience: string) =>
  roles.filter((r) => (audience === MMD_AUDIENCE) === r.startsWith("MmdSupport."));

async function findTenant(identity: IdentityStore, tenant: string): Promise<TenantRecord | undefined> {
  const byId = await identity.getTenant(tenant);
  if (byId) return byId;
  return (await identity.listTenants()).find((t) => t.domain.toLowerCase() === tenant.toLowerCase());
}

function formOf(request: FastifyRequest): Record<string, string> {
  const raw = request.body as Buffer | undefined;
  const form = Object.fromEntries(new URLSearchParams(raw ? raw.toString("utf8") : ""));
  const basic = /^Basic\s+(\S+)$/i.exec(String(request.headers.authorization ?? ""));
  if (basic) {
    const [id, secret] = Buffer.from(basic[1], "base64").toString("utf8").split(":");
    form.client_id ??= decodeURIComponent(id ?? "");
    form.client_secret ??= decodeURIComponent(secret ?? "");
  }
  return form;
}

/** A user who can sign in with the password grant: the directory user with its password hash. */
export interface SignInUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  passwordHash?: PasswordHash;
}

export interface IdentityRouteDeps {
  identity: IdentityStore;
  clock: Clock;
  /** The base of the issuer for a request that arrived at `baseUrl` (see docs/decisions.md, proxy mode). */
  issuerBaseFor(baseUrl: string): string;
  findUser(tenantId: string, userPrincipalName: string): Promise<SignInUser | undefined>;
}

/** Delegated permissions belong to one API too: MMD's (MWaaSDevice.*, MmdSupport.*) to the MMD audience. */
export const scopesForAudience = (scopes: string[], audience: string) =>
  scopes.filter((s) => (audience === MMD_AUDIENCE) === (s.startsWith("MWaaSDevice.") || s.startsWith("MmdSupport.")));

export function registerIdentityRoutes(app: FastifyInstance, deps: IdentityRouteDeps) {
  const { identity, clock } = deps;
  const sendEntraError = (reply: FastifyReply, e: EntraError) => reply.code(e.status).type("application/json; charset=utf-8").send(e.body);

  app.get("/:tenant/v2.0/.well-known/openid-configuration", async (request, reply) => {
    const { tenant } = request.params as { tenant: string };
    const t = await findTenant(identity, tenant);
    if (!t && !["common", "organizations"].includes(tenant)) return sendEntraError(reply, tenantNotFound(tenant, { correlationId: request.id }));
    const doc = openidConfiguration(baseUrlOf(request), t?.id ?? tenant);
    // One issuer per installation, whatever host the client used (tokens verify the same over http and https),
    // except through the proxy's login.microsoftonline.com, which issues as Entra does.
    return { ...doc, issuer: tokenIssuer(deps.issuerBaseFor(baseUrlOf(request)), t?.id ?? tenant) };
  });

  app.get("/:tenant/discovery/v2.0/keys", async () => publishedKeys(await identity.listSigningKeys()));

  app.post("/:tenant/oauth2/v2.0/token", async (request, reply) => {
    const { tenant } = request.params as { tenant: string };
    const context = { correlationId: request.id, traceId: randomUUID(), now: clock.now() };
    const t = await findTenant(identity, tenant);
    if (!t) return sendEntraError(reply, tenantNotFound(tenant, context));
    const parsed = parseTokenRequest(formOf(request), context);
    if (!parsed.ok) return sendEntraError(reply, parsed.error);
    const req = parsed.request;
    const app_ = await identity.getApp(t.id, req.clientId);
    if (!app_) return sendEntraError(reply, applicationNotFound(req.clientId, tenant, context));
    if (req.clientSecret !== undefined && !app_.secrets.some((s) => secretMatches(s, req.clientSecret!))) {
      return sendEntraError(reply, invalidClientSecret(req.clientId, context));
    }
    const key = currentSigningKey(await identity.listSigningKeys())!;
    const common = { issuer: tokenIssuer(deps.issuerBaseFor(baseUrlOf(request)), t.id), audience: req.audience, tenantId: t.id, appId: app_.appId, lifetimeSeconds: TOKEN_LIFETIME_SECONDS, now: clock.now() };
    let issued;
    if (req.grantType === "client_credentials") {
      issued = await issueAccessToken(key, { ...common, objectId: app_.objectId, roles: rolesForAudience(app_.roles, req.audience) });
    } else {
      if (req.clientSecret === undefined && !app_.publicClient) return sendEntraError(reply, publicClientNotAllowed(app_.appId, context));
      const user = await deps.findUser(t.id, req.username);
      if (!user || !(await passwordMatches(user.passwordHash, req.password))) return sendEntraError(reply, invalidUserCredentials(context));
      if (!user.accountEnabled) return sendEntraError(reply, userDisabled(context));
      const consented = scopesForAudience(app_.delegatedScopes, req.audience);
      const missing = req.permissions.filter((p) => !consented.some((c) => c.toLowerCase() === p.toLowerCase()));
      if (missing.length) return sendEntraError(reply, consentRequired(app_.appId, missing, context));
      const scopes = req.permissions.length ? consented.filter((c) => req.permissions.some((p) => p.toLowerCase() === c.toLowerCase())) : consented;
      issued = await issueAccessToken(key, { ...common, objectId: user.id, scp: scopes.join(" "), upn: user.userPrincipalName, name: user.displayName });
    }
    reply.header("cache-control", "no-store, no-cache");
    return { token_type: "Bearer", expires_in: issued.expiresIn, ext_expires_in: issued.expiresIn, access_token: issued.token };
  });
}
