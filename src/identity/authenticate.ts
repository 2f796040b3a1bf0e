// Bearer token → principal, for the Graph adapter (and later MMD): the token must be ours, current, for this
// API's audience, and for a tenant that exists.

import { unauthorized } from "../odata/errors.js";
import type { Principal } from "../graph/graphContext.js";
import type { IdentityStore } from "../store/identityStore.js";
import { AccessTokenRejected, verifyAccessToken } from "./accessTokens.js";
import { tokenIssuer } from "./openidConfiguration.js";
import type { TrustedIssuers } from "./trustedIssuers.js";

export const GRAPH_AUDIENCES = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];
export const MMD_AUDIENCE = "https://mwaas-services-customerapi-prod.azurewebsites.net";

export async function authenticate(
  identity: IdentityStore,
  issuerBase: string,
  authorization: string | undefined,
  audiences: string[],
  now: Date,
  trusted?: TrustedIssuers,
): Promise<Principal> {
  if (!authorization) throw unauthorized("Access token is empty.");
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) throw unauthorized("Access token validation failure. The Authorization header must be 'Bearer {token}'.");
  let verified;
  try {
    const external = trusted?.issuerOf(m[1]);
    verified = external
      ? await trusted!.verify(m[1], external, audiences, now)
      : await verifyAccessToken(m[1], {
          keys: await identity.listSigningKeys(),
          audiences,
          issuer: (tid) => tokenIssuer(issuerBase, tid),
          now,
        });
  } catch (e) {
    if (e instanceof AccessTokenRejected) throw unauthorized(e.message);
    throw e;
  }
  if (!(await identity.getTenant(verified.tenantId))) throw unauthorized("Access token validation failure. The tenant does not exist.");
  const delegated = verified.upn !== undefined || verified.scopes.length > 0;
  return {
    tenantId: verified.tenantId,
    appId: verified.appId,
    objectId: verified.objectId,
    kind: delegated ? "delegated" : "application",
    permissions: new Set(delegated ? verified.scopes : verified.roles),
    upn: verified.upn,
  };
}
