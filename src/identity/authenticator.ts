// Bearer token → principal, with what makes it cheap on the hot path: a verified token is remembered until it
// expires (keyed by the header's tail, confirmed against the whole header, together with the key id it was
// signed with), and the signing keys and tenants are held in memory. Writes in this process refresh them at once; changes made by another process
// (a rotation, a deleted tenant) are picked up within a few seconds, and an unknown key id reloads the keys.

import { unauthorized } from "../odata/errors.js";
import type { Principal } from "../graph/graphContext.js";
import type { IdentityStore, TenantRecord } from "../store/identityStore.js";
import type { Clock } from "../time/clock.js";
import { AccessTokenRejected, verifyAccessToken, type VerifiedAccessToken } from "./accessTokens.js";
import { activeSigningKeys, type SigningKeyRecord } from "./signingKeys.js";
import { tokenIssuer } from "./openidConfiguration.js";
import type { TrustedIssuers } from "./trustedIssuers.js";

const REFRESH_MS = 5_000;
const MAX_CACHED_TOKENS = 50_000;

/** How many trailing characters of the Authorization header key the token cache. */
const CACHE_KEY_TAIL = 64;

interface CachedToken {
  /** The whole header the token came in. */
  authorization: string;
  principal: Principal;
  kid: string | undefined;
  expiresAt: number;
}

export class Authenticator {
  private keys: { records: SigningKeyRecord[]; at: number } | undefined;
  private readonly tenants = new Map<string, { tenant: TenantRecord | undefined; at: number }>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly identity: IdentityStore,
    /** Every base URL Allot issues tokens under (its own URL, and login.microsoftonline.com in proxy mode). */
    private readonly issuerBases: () => readonly string[],
    private readonly clock: Clock,
    private readonly trusted?: TrustedIssuers,
  ) {}

  /** Forget everything cached (a key rotation, a tenant change or a reset in this process). */
  invalidate() {
    this.keys = undefined;
    this.tenants.clear();
    this.tokens.clear();
  }

  private async signingKeys(force = false): Promise<SigningKeyRecord[]> {
    const now = Date.now();
    if (force || !this.keys || now - this.keys.at > REFRESH_MS) this.keys = { records: await this.identity.listSigningKeys(), at: now };
    return this.keys.records;
  }

  private async tenant(id: string): Promise<TenantRecord | undefined> {
    const cached = this.tenants.get(id);
    if (cached && Date.now() - cached.at < REFRESH_MS) return cached.tenant;
    const tenant = await this.identity.getTenant(id);
    this.tenants.set(id, { tenant, at: Date.now() });
    return tenant;
  }

  private async verify(token: string, audiences: string[], now: Date): Promise<VerifiedAccessToken> {
    const external = this.trusted && this.trusted.size > 0 ? this.trusted.issuerOf(token) : undefined;
    if (external) return this.trusted!.verify(token, external, audiences, now);
    const options = { audiences, issuer: (tid: string) => this.issuerBases().map((base) => tokenIssuer(base, tid)), now };
    try {
      return await verifyAccessToken(token, { ...options, keys: await this.signingKeys() });
    } catch (e) {
      // A key rotated by another process: look again before refusing.
      if (e instanceof AccessTokenRejected && e.reason === "unknownKey") return verifyAccessToken(token, { ...options, keys: await this.signingKeys(true) });
      throw e;
    }
  }

  /**
   * The principal of a token verified before, when what it still depends on (its tenant, its key) is held in
   * memory: no promise. Undefined otherwise; `authenticate` then decides.
   */
  remembered(authorization: string | undefined, audiences: string[]): Principal | undefined {
    if (!authorization) return undefined;
    const remembered = this.tokens.get(this.cacheKey(authorization, audiences));
    if (!remembered || remembered.authorization !== authorization || !(remembered.expiresAt > this.clock.now().getTime())) return undefined;
    return this.stillValidFromMemory(remembered) === true ? remembered.principal : undefined;
  }

  // Keyed by the header's tail (a JWT ends in its signature) and confirmed by comparing the whole header: a token
  // is ~2 KB, and hashing or scanning it with a regular expression on every request costs more than the rest of
  // the lookup.
  private cacheKey(authorization: string, audiences: string[]): string {
    return `${this.audienceKey(audiences)}\u0000${authorization.slice(-CACHE_KEY_TAIL)}`;
  }

  async authenticate(authorization: string | undefined, audiences: string[]): Promise<Principal> {
    if (!authorization) throw unauthorized("Access token is empty.");
    const now = this.clock.now();
    const cacheKey = this.cacheKey(authorization, audiences);
    const remembered = this.tokens.get(cacheKey);
    const cached = remembered && remembered.authorization === authorization ? remembered : undefined;
    if (cached && cached.expiresAt > now.getTime()) {
      const known = this.stillValidFromMemory(cached);
      if (known === true || (known === undefined && (await this.stillValid(cached)))) return cached.principal;
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw unauthorized("Access token validation failure. The Authorization header must be 'Bearer {token}'.");
    const token = m[1];
    let verified: VerifiedAccessToken;
    try {
      verified = await this.verify(token, audiences, now);
    } catch (e) {
      if (e instanceof AccessTokenRejected) throw unauthorized(e.message);
      throw e;
    }
    if (!(await this.tenant(verified.tenantId))) throw unauthorized("Access token validation failure. The tenant does not exist.");
    const delegated = verified.upn !== undefined || verified.scopes.length > 0;
    const principal: Principal = {
      tenantId: verified.tenantId,
      appId: verified.appId,
      objectId: verified.objectId,
      kind: delegated ? "delegated" : "application",
      permissions: new Set(delegated ? verified.scopes : verified.roles),
      upn: verified.upn,
    };
    if (this.tokens.size >= MAX_CACHED_TOKENS) this.tokens.clear();
    const exp = typeof verified.claims.exp === "number" ? verified.claims.exp * 1000 : now.getTime();
    const kid = typeof verified.claims.kid === "string" ? verified.claims.kid : tokenKid(token);
    this.tokens.set(cacheKey, { authorization, principal, kid, expiresAt: exp });
    return principal;
  }

  /** The audiences' part of a token cache key; callers pass the same few constant arrays, so each is joined once. */
  private readonly audienceKeys = new WeakMap<readonly string[], string>();
  private audienceKey(audiences: readonly string[]): string {
    let key = this.audienceKeys.get(audiences);
    if (key === undefined) this.audienceKeys.set(audiences, (key = audiences.join(" ")));
    return key;
  }

  /** `stillValid` answered from what is held in memory, without a promise; undefined when something must be reloaded. */
  private stillValidFromMemory(cached: CachedToken): boolean | undefined {
    const now = Date.now();
    const tenant = this.tenants.get(cached.principal.tenantId);
    if (!tenant || now - tenant.at >= REFRESH_MS) return undefined;
    if (!tenant.tenant) return false;
    if (cached.kid === undefined) return true;
    if (!this.keys || now - this.keys.at > REFRESH_MS) return undefined;
    const keys = this.keys.records;
    return !keys.some((k) => k.kid === cached.kid) || activeSigningKeys(keys).some((k) => k.kid === cached.kid);
  }

  /** A remembered token stays good while its tenant exists and (for Allot's own tokens) its key is still active. */
  private async stillValid(cached: CachedToken): Promise<boolean> {
    if (!(await this.tenant(cached.principal.tenantId))) return false;
    if (cached.kid === undefined) return true;
    const keys = await this.signingKeys();
    const ours = keys.some((k) => k.kid === cached.kid);
    return !ours || activeSigningKeys(keys).some((k) => k.kid === cached.kid);
  }
}

function tokenKid(token: string): string | undefined {
  try {
    return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8")).kid;
  } catch {
    return undefined;
  }
}
