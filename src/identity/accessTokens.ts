// Entra-shaped access tokens: issued by the token endpoint, checked by the Graph and MMD adapters.
// Rejections carry a reason for logs and tests, and a message in the style of Graph's 401 body.

import { randomBytes } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, errors, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type KeyLike } from "jose";
import { activeSigningKeys, SIGNING_ALGORITHM, type SigningKeyRecord } from "./signingKeys.js";

export interface AccessTokenClaims {
  issuer: string;
  audience: string;
  tenantId: string;
  /** The client application's id (`appid` / `azp`). */
  appId: string;
  /** The service principal's or the user's object id (`oid`, also `sub`). */
  objectId: string;
  /** Application permissions (client credentials). */
  roles?: string[];
  /** Delegated permissions, space-separated (user tokens). */
  scp?: string;
  upn?: string;
  name?: string;
  lifetimeSeconds: number;
  now: Date;
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
}

export interface VerifiedAccessToken {
  tenantId: string;
  appId: string;
  objectId: string;
  roles: string[];
  scopes: string[];
  /** The accepted audience the token was issued for. */
  audience: string;
  upn?: string;
  claims: JWTPayload;
}

export interface VerifyAccessTokenOptions {
  /** The store's signing keys; only the current and previous ones are accepted. */
  keys: SigningKeyRecord[];
  audiences: string[];
  /** The issuer (or any of the issuers) expected for the token's tenant. */
  issuer: (tenantId: string) => string | readonly string[];
  now: Date;
  /** Defaults to 300 s, the skew Microsoft's token validation allows. */
  clockToleranceSeconds?: number;
}

export type AccessTokenRejectionReason =
  | "malformed"
  | "expired"
  | "notYetValid"
  | "badSignature"
  | "unknownKey"
  | "wrongAudience"
  | "wrongIssuer"
  | "missingClaim";

export class AccessTokenRejected extends Error {
  constructor(
    readonly reason: AccessTokenRejectionReason,
    message: string,
  ) {
    super(message);
    this.name = "AccessTokenRejected";
  }
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 300;

const rejected = {
  malformed: () =>
    new AccessTokenRejected(
      "malformed",
      "IDX14100: JWT is not well formed. The token must be in JWS compact serialization format: 'EncodedHeader.EncodedPayload.EncodedSignature'.",
    ),
  expired: () => new AccessTokenRejected("expired", "Lifetime validation failed, the token is expired."),
  notYetValid: () => new AccessTokenRejected("notYetValid", "Lifetime validation failed, the token is not yet valid."),
  badSignature: () => new AccessTokenRejected("badSignature", "Access token validation failure. Invalid signature."),
  unknownKey: (kid: string | undefined) =>
    new AccessTokenRejected(
      "unknownKey",
      kid === undefined
        ? "Access token validation failure. The token header has no 'kid'."
        : `Access token validation failure. No signing key matches kid '${kid}'.`,
    ),
  wrongAudience: () => new AccessTokenRejected("wrongAudience", "Access token validation failure. Invalid audience."),
  wrongIssuer: () => new AccessTokenRejected("wrongIssuer", "Access token validation failure. Invalid issuer."),
  missingClaim: (claim: string) =>
    new AccessTokenRejected("missingClaim", `Access token validation failure. The token has no '${claim}' claim.`),
};

// Keys are content-addressed (kid is the thumbprint), so caching the imported key by kid is always safe.
const importedKeys = new Map<string, Promise<KeyLike | Uint8Array>>();

function importKey(cacheKey: string, jwk: JWK): Promise<KeyLike | Uint8Array> {
  let key = importedKeys.get(cacheKey);
  if (!key) {
    key = importJWK(jwk, SIGNING_ALGORITHM);
    key.catch(() => importedKeys.delete(cacheKey));
    importedKeys.set(cacheKey, key);
  }
  return key;
}

export async function issueAccessToken(key: SigningKeyRecord, claims: AccessTokenClaims): Promise<IssuedAccessToken> {
  const issuedAt = Math.floor(claims.now.getTime() / 1000);
  const payload: JWTPayload = {
    aud: claims.audience,
    iss: claims.issuer,
    iat: issuedAt,
    nbf: issuedAt,
    exp: issuedAt + claims.lifetimeSeconds,
    tid: claims.tenantId,
    appid: claims.appId,
    azp: claims.appId,
    oid: claims.objectId,
    sub: claims.objectId,
    ...(claims.roles && claims.roles.length > 0 ? { roles: claims.roles } : {}),
    ...(claims.scp ? { scp: claims.scp } : {}),
    ...(claims.upn !== undefined ? { upn: claims.upn } : {}),
    ...(claims.name !== undefined ? { name: claims.name } : {}),
    ver: "2.0",
    uti: randomBytes(16).toString("base64url"),
    idtyp: claims.upn !== undefined ? "user" : "app",
  };
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: "JWT" })
    .sign(await importKey(`private:${key.kid}`, key.privateJwk));
  return { token, expiresIn: claims.lifetimeSeconds };
}

export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> {
  const { kid, alg } = decodeHeader(token);
  // Only RS256 is ever issued; refusing anything else up front rules out "none" and HMAC key confusion.
  if (alg !== SIGNING_ALGORITHM) throw rejected.badSignature();
  if (kid === undefined) throw rejected.unknownKey(undefined);
  const signingKey = activeSigningKeys(options.keys).find((key) => key.kid === kid);
  if (!signingKey) throw rejected.unknownKey(kid);

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, await importKey(kid, signingKey.publicJwk), {
      algorithms: [SIGNING_ALGORITHM],
      currentDate: options.now,
      clockTolerance: options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp"],
    }));
  } catch (error) {
    throw joseRejection(error);
  }

  const tenantId = stringClaim(claims, "tid");
  const objectId = stringClaim(claims, "oid");
  const appId = optionalString(claims.appid) ?? optionalString(claims.azp);
  if (appId === undefined) throw rejected.missingClaim("appid");

  if (claims.aud === undefined) throw rejected.missingClaim("aud");
  const audience = audienceOf(claims).find((aud) => options.audiences.includes(aud));
  if (audience === undefined) throw rejected.wrongAudience();
  const expected = options.issuer(tenantId);
  if (typeof expected === "string" ? claims.iss !== expected : !expected.includes(String(claims.iss))) throw rejected.wrongIssuer();

  const upn = optionalString(claims.upn);
  return {
    tenantId,
    appId,
    objectId,
    roles: Array.isArray(claims.roles) ? claims.roles.filter((role): role is string => typeof role === "string") : [],
    scopes: (optionalString(claims.scp) ?? "").split(" ").filter((scope) => scope !== ""),
    audience,
    ...(upn !== undefined ? { upn } : {}),
    claims,
  };
}

function decodeHeader(token: string): { kid?: string; alg?: string } {
  try {
    const header = decodeProtectedHeader(token);
    decodeJwt(token); // the payload must be a JSON object too, or the token is not a JWT at all
    return { kid: optionalString(header.kid), alg: optionalString(header.alg) };
  } catch {
    throw rejected.malformed();
  }
}

export function joseRejection(error: unknown): AccessTokenRejected {
  if (error instanceof errors.JWTExpired) return rejected.expired();
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return rejected.missingClaim(error.claim);
    if (error.claim === "nbf" && error.reason === "check_failed") return rejected.notYetValid();
    return rejected.malformed();
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JOSEAlgNotAllowed) {
    return rejected.badSignature();
  }
  return rejected.malformed();
}

function stringClaim(claims: JWTPayload, name: string): string {
  const value = optionalString(claims[name]);
  if (value === undefined) throw rejected.missingClaim(name);
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function audienceOf(claims: JWTPayload): string[] {
  if (typeof claims.aud === "string") return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud : [];
}
