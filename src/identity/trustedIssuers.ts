// Tokens of other OIDC issuers (real Entra ID, Keycloak, …) that an installation chooses to trust
// (`--trust-issuer URL`, repeatable). Each issuer's discovery document is fetched once; its JWKS is fetched,
// cached, and fetched again when a token names a key id it has not seen (jose's remote key set does that).

import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from "jose";
import { AccessTokenRejected, joseRejection, type VerifiedAccessToken } from "./accessTokens.js";

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

export interface TrustedIssuerOptions {
  /** The claim naming the tenant; Entra's is `tid`. */
  tenantClaim: string;
  clockToleranceSeconds?: number;
  /** The least time between two JWKS fetches for unknown key ids (jose's default is 30 s). */
  refetchCooldownMs?: number;
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");
const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

export class TrustedIssuers {
  private readonly issuers: Set<string>;
  private readonly keySets = new Map<string, Promise<RemoteKeySet>>();

  constructor(issuers: string[], private readonly options: TrustedIssuerOptions = { tenantClaim: "tid" }) {
    this.issuers = new Set(issuers.map(trimSlash));
  }

  get size() {
    return this.issuers.size;
  }

  /** The trusted issuer a token claims to come from (unverified), if any. */
  issuerOf(token: string): string | undefined {
    try {
      const iss = str(decodeJwt(token).iss);
      return iss !== undefined && this.issuers.has(trimSlash(iss)) ? iss : undefined;
    } catch {
      return undefined;
    }
  }

  private keySet(issuer: string): Promise<RemoteKeySet> {
    const key = trimSlash(issuer);
    let set = this.keySets.get(key);
    if (!set) {
      set = (async () => {
        const res = await fetch(`${key}/.well-known/openid-configuration`);
        if (!res.ok) throw new Error(`discovery of ${key} answered ${res.status}`);
        const doc = (await res.json()) as { jwks_uri?: string };
        if (!doc.jwks_uri) throw new Error(`discovery of ${key} has no jwks_uri`);
        return createRemoteJWKSet(new URL(doc.jwks_uri), { cooldownDuration: this.options.refetchCooldownMs ?? 30_000 });
      })();
      // A failed discovery is retried on the next token rather than cached.
      set.catch(() => this.keySets.delete(key));
      this.keySets.set(key, set);
    }
    return set;
  }

  async verify(token: string, issuer: string, audiences: string[], now: Date): Promise<VerifiedAccessToken> {
    let keys: RemoteKeySet;
    try {
      keys = await this.keySet(issuer);
    } catch (e) {
      throw new AccessTokenRejected("unknownKey", `Access token validation failure. The keys of the issuer could not be loaded: ${(e as Error).message}`);
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer,
        audience: audiences,
        currentDate: now,
        clockTolerance: this.options.clockToleranceSeconds ?? 300,
        requiredClaims: ["exp"],
        algorithms: ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"],
      }));
    } catch (e) {
      const claim = (e as { claim?: string }).claim;
      if (claim === "aud") throw new AccessTokenRejected("wrongAudience", "Access token validation failure. Invalid audience.");
      if ((e as { code?: string }).code === "ERR_JWKS_NO_MATCHING_KEY") throw new AccessTokenRejected("unknownKey", "Access token validation failure. The signing key is unknown.");
      throw joseRejection(e);
    }
    const tenantId = str(claims[this.options.tenantClaim]);
    if (!tenantId) throw new AccessTokenRejected("missingClaim", `Access token validation failure. The token has no '${this.options.tenantClaim}' claim.`);
    const scopes = (str(claims.scp) ?? str(claims.scope) ?? "").split(" ").filter((s) => s !== "");
    const upn = str(claims.upn) ?? str(claims.preferred_username);
    const aud = Array.isArray(claims.aud) ? claims.aud.find((a) => audiences.includes(a))! : String(claims.aud);
    return {
      tenantId: tenantId.toLowerCase(),
      appId: str(claims.appid) ?? str(claims.azp) ?? "unknown",
      objectId: str(claims.oid) ?? str(claims.sub) ?? "unknown",
      roles: Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === "string") : [],
      scopes,
      audience: aud,
      ...(upn && scopes.length ? { upn } : {}),
      claims,
    };
  }
}
