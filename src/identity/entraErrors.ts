// Entra ID's token-endpoint error bodies, and the validation of a token request's form that produces them.
// MSAL and Azure Identity surface `error_description` verbatim, so the AADSTS codes and wording follow Entra's.

import { randomUUID } from "node:crypto";

export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

export interface EntraError {
  status: number;
  body: EntraErrorBody;
}

/** Ids and clock for one error; Entra echoes the client's `client-request-id` as the correlation id. */
export interface EntraErrorContext {
  traceId?: string;
  correlationId?: string;
  now?: Date;
}

/** `2024-01-02 03:04:05Z`, the format of Entra's `timestamp`. */
export function entraTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

function entraError(status: number, error: string, code: number, description: string, context: EntraErrorContext): EntraError {
  const timestamp = entraTimestamp(context.now ?? new Date());
  const traceId = context.traceId ?? randomUUID();
  const correlationId = context.correlationId ?? randomUUID();
  return {
    status,
    body: {
      error,
      // Entra appends the ids to the description too; people paste that line into support tickets.
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

export const invalidClientSecret = (appId: string, context: EntraErrorContext = {}) =>
  entraError(
    401,
    "invalid_client",
    7000215,
    `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
    context,
  );

export const missingClientSecret = (context: EntraErrorContext = {}) =>
  entraError(
    401,
    "invalid_client",
    7000218,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    context,
  );

export const applicationNotFound = (appId: string, tenant: string, context: EntraErrorContext = {}) =>
  entraError(
    400,
    "unauthorized_client",
    700016,
    `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    context,
  );

export const tenantNotFound = (tenant: string, context: EntraErrorContext = {}) =>
  entraError(
    400,
    "invalid_request",
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    context,
  );

export const missingParameter = (name: string, context: EntraErrorContext = {}) =>
  entraError(400, "invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`, context);

export const unsupportedGrantType = (grantType: string, context: EntraErrorContext = {}) =>
  entraError(400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grantType}'.`, context);

/** Client credentials asked for something other than `{resource}/.default`. */
export const scopeNotDefault = (scope: string, context: EntraErrorContext = {}) =>
  entraError(
    400,
    "invalid_scope",
    1002012,
    `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    context,
  );

/** A scope naming no known resource, or several resources at once. */
export const invalidScope = (scope: string, context: EntraErrorContext = {}) =>
  entraError(
    400,
    "invalid_scope",
    70011,
    `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
    context,
  );

export const invalidUserCredentials = (context: EntraErrorContext = {}) =>
  entraError(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.", context);

export const userDisabled = (context: EntraErrorContext = {}) =>
  entraError(400, "invalid_grant", 50057, "The user account is disabled.", context);

export const consentRequired = (appId: string, scopes: string[], context: EntraErrorContext = {}) =>
  entraError(
    400,
    "invalid_grant",
    65001,
    `The user or administrator has not consented to use the application with ID '${appId}'. Send an interactive authorization request for this user and resource. Missing: ${scopes.join(" ")}.`,
    context,
  );

/** A confidential client signing a user in must prove itself; public clients may not send a secret they lack. */
export const publicClientNotAllowed = (appId: string, context: EntraErrorContext = {}) =>
  entraError(401, "invalid_client", 7000218, `The request body must contain the following parameter: 'client_assertion' or 'client_secret'. App '${appId}' is not a public client.`, context);

// ---- Scopes -------------------------------------------------------------------------------------------------

const GRAPH_AUDIENCE = "https://graph.microsoft.com";
const MMD_AUDIENCE = "https://mwaas-services-customerapi-prod.azurewebsites.net";
const RESOURCE_AUDIENCES = [GRAPH_AUDIENCE, MMD_AUDIENCE];

/** OpenID Connect scopes ride along with resource scopes; they name no resource. */
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access"]);

function resourceScopes(scope: string): string[] {
  return scope.split(/\s+/).filter((value) => value !== "" && !OIDC_SCOPES.has(value.toLowerCase()));
}

function knownAudience(resource: string): string | undefined {
  const normalized = resource.toLowerCase().replace(/\/+$/, "");
  return RESOURCE_AUDIENCES.find((audience) => audience === normalized);
}

/**
 * The audience for a client-credentials `scope` parameter: exactly one `{resource}/.default` for a resource
 * Allot serves, besides any OpenID Connect scopes. Anything else is undefined; the caller answers invalid_scope.
 */
export function scopeAudience(scope: string): string | undefined {
  const resources = resourceScopes(scope);
  if (resources.length !== 1) return undefined;
  const [only] = resources as [string];
  if (!only.toLowerCase().endsWith("/.default")) return undefined;
  return knownAudience(only.slice(0, -"/.default".length));
}

/**
 * Delegated scopes (password grant): `{resource}/.default`, `{resource}/{permission}`, or a bare permission,
 * which Entra reads as Graph's. All must name the same resource. Undefined when they do not.
 */
function delegatedScopeRequest(scope: string): { audience: string; permissions: string[] } | undefined {
  const resources = resourceScopes(scope);
  if (resources.length === 0) return { audience: GRAPH_AUDIENCE, permissions: [] };
  let audience: string | undefined;
  const permissions: string[] = [];
  for (const value of resources) {
    const slash = value.lastIndexOf("/");
    const resourceAudience = slash === -1 ? GRAPH_AUDIENCE : knownAudience(value.slice(0, slash));
    const permission = slash === -1 ? value : value.slice(slash + 1);
    if (resourceAudience === undefined || permission === "") return undefined;
    if (audience !== undefined && audience !== resourceAudience) return undefined;
    audience = resourceAudience;
    if (permission !== ".default") permissions.push(permission);
  }
  return audience === undefined ? undefined : { audience, permissions };
}

// ---- Token requests -----------------------------------------------------------------------------------------

export interface ClientCredentialsRequest {
  grantType: "client_credentials";
  clientId: string;
  clientSecret: string;
  scope: string;
  audience: string;
}

export interface PasswordRequest {
  grantType: "password";
  clientId: string;
  /** Present for confidential clients; whether one is required depends on the app registration. */
  clientSecret?: string;
  username: string;
  password: string;
  scope: string;
  audience: string;
  /** Delegated permissions asked for by name; empty for `.default` (every consented permission). */
  permissions: string[];
}

export type TokenRequest = ClientCredentialsRequest | PasswordRequest;

export type ParsedTokenRequest = { ok: true; request: TokenRequest } | { ok: false; error: EntraError };

/**
 * Validates a `/oauth2/v2.0/token` form. A client secret sent with HTTP Basic authentication should be merged
 * into the form as `client_id`/`client_secret` before calling this.
 */
export function parseTokenRequest(form: Record<string, string>, context: EntraErrorContext = {}): ParsedTokenRequest {
  const field = (name: string): string | undefined => {
    const value = form[name];
    return value === undefined || value.trim() === "" ? undefined : value;
  };
  const fail = (error: EntraError): ParsedTokenRequest => ({ ok: false, error });

  const grantType = field("grant_type");
  if (grantType === undefined) return fail(missingParameter("grant_type", context));
  if (grantType !== "client_credentials" && grantType !== "password") return fail(unsupportedGrantType(grantType, context));
  const clientId = field("client_id");
  if (clientId === undefined) return fail(missingParameter("client_id", context));
  const clientSecret = field("client_secret");

  if (grantType === "client_credentials") {
    const scope = field("scope");
    if (scope === undefined) return fail(missingParameter("scope", context));
    if (!resourceScopes(scope).some((value) => value.toLowerCase().endsWith("/.default"))) {
      return fail(scopeNotDefault(scope, context));
    }
    const audience = scopeAudience(scope);
    if (audience === undefined) return fail(invalidScope(scope, context));
    if (clientSecret === undefined) return fail(missingClientSecret(context));
    return { ok: true, request: { grantType, clientId, clientSecret, scope, audience } };
  }

  const username = field("username");
  if (username === undefined) return fail(missingParameter("username", context));
  const password = form.password ?? "";
  if (password === "") return fail(missingParameter("password", context));
  const scope = field("scope");
  if (scope === undefined) return fail(missingParameter("scope", context));
  const delegated = delegatedScopeRequest(scope);
  if (delegated === undefined) return fail(invalidScope(scope, context));
  return {
    ok: true,
    request: {
      grantType,
      clientId,
      ...(clientSecret !== undefined ? { clientSecret } : {}),
      username,
      password,
      scope,
      audience: delegated.audience,
      permissions: delegated.permissions,
    },
  };
}
