// The v2.0 OpenID Connect discovery document, with every endpoint pointing at Allot instead of
// login.microsoftonline.com, so MSAL and Azure Identity configured with Allot as authority find its token endpoint.

/** Authority segments that stand for "any tenant"; their issuer carries the `{tenantid}` placeholder, as Entra's does. */
const MULTI_TENANT_ALIASES = new Set(["common", "organizations", "consumers"]);

function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "");
}

export function tokenIssuer(baseUrl: string, tenantId: string): string {
  return `${trimBase(baseUrl)}/${tenantId}/v2.0`;
}

export interface OpenIdConfiguration {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  device_authorization_endpoint: string;
  end_session_endpoint: string;
  userinfo_endpoint: string;
  response_types_supported: string[];
  response_modes_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  scopes_supported: string[];
  claims_supported: string[];
  request_uri_parameter_supported: boolean;
  http_logout_supported: boolean;
  frontchannel_logout_supported: boolean;
  tenant_region_scope: string;
  cloud_instance_name: string;
  cloud_graph_host_name: string;
  msgraph_host: string;
}

export function openidConfiguration(baseUrl: string, tenantId: string): OpenIdConfiguration {
  const base = trimBase(baseUrl);
  const tenantBase = `${base}/${tenantId}`;
  const issuerTenant = MULTI_TENANT_ALIASES.has(tenantId.toLowerCase()) ? "{tenantid}" : tenantId;
  // Allot serves Graph itself, so Graph's host is Allot's host; through the proxy mode, login.microsoftonline.com
  // names graph.microsoft.com as Entra does.
  const host = new URL(base).host;
  const graphHost = host === "login.microsoftonline.com" ? "graph.microsoft.com" : host;
  return {
    issuer: tokenIssuer(base, issuerTenant),
    authorization_endpoint: `${tenantBase}/oauth2/v2.0/authorize`,
    token_endpoint: `${tenantBase}/oauth2/v2.0/token`,
    jwks_uri: `${tenantBase}/discovery/v2.0/keys`,
    device_authorization_endpoint: `${tenantBase}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${tenantBase}/oauth2/v2.0/logout`,
    userinfo_endpoint: `${base}/oidc/userinfo`,
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    claims_supported: [
      "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host",
      "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
      "c_hash", "email",
    ],
    request_uri_parameter_supported: false,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    tenant_region_scope: "NA",
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: graphHost,
  };
}
