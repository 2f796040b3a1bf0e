// Who may use the control plane: the installation's admin key (X-Allot-Admin-Key) for everything, or, for one
// tenant's own business, a Graph token of that tenant carrying the Allot.Admin role.

import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { forbidden, unauthorized } from "../odata/errors.js";
import { GRAPH_AUDIENCES } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { IdentityStore } from "../store/identityStore.js";
import type { Clock } from "../time/clock.js";

export interface ControlAuthority {
  identity: IdentityStore;
  clock: Clock;
  adminKey: string;
  authenticator: Authenticator;
  readonly issuerBase: string;
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function hasAdminKey(authority: ControlAuthority, request: FastifyRequest): boolean {
  const key = request.headers["x-allot-admin-key"];
  return typeof key === "string" && sameSecret(key, authority.adminKey);
}

export function requireAdminKey(authority: ControlAuthority, request: FastifyRequest, what: string) {
  if (!hasAdminKey(authority, request)) throw forbidden(`${what} needs the X-Allot-Admin-Key header.`);
}

/**
 * The tenant a request may act on: any (named) tenant with the admin key, otherwise the tenant of a token with
 * Allot.Admin — and only that one.
 */
export async function authorizedTenant(authority: ControlAuthority, request: FastifyRequest, named: string | undefined, what: string): Promise<string | undefined> {
  if (hasAdminKey(authority, request)) return named?.toLowerCase();
  if (!request.headers.authorization) throw unauthorized(`${what} needs the X-Allot-Admin-Key header or a Bearer token with the Allot.Admin role.`);
  const principal = await authority.authenticator.authenticate(request.headers.authorization, GRAPH_AUDIENCES);
  if (!principal.permissions.has("Allot.Admin")) throw forbidden(`${what} needs the Allot.Admin role.`);
  if (named !== undefined && named.toLowerCase() !== principal.tenantId) throw forbidden("A token may act only on its own tenant.");
  return principal.tenantId;
}
