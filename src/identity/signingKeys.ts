// The token issuer's RS256 signing keys. Keys are kept in the server's store so tokens survive restarts;
// rotation adds a new current key and keeps the previous one published, as Entra does, so tokens signed
// just before a rotation stay valid until they expire.

import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

export interface SigningKeyRecord {
  /** RFC 7638 thumbprint of the public key; also the JWT header `kid`. */
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  /** ISO 8601; the newest record is the current signing key. */
  createdAt: string;
}

export interface SigningKeyRepository {
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
}

export interface PublishedKey extends JWK {
  kid: string;
  use: "sig";
  alg: "RS256";
}

export interface JsonWebKeySet {
  keys: PublishedKey[];
}

export const SIGNING_ALGORITHM = "RS256";

/** How many of the newest keys are published and accepted: the current one and the one before it. */
const ACTIVE_KEY_COUNT = 2;

export async function createSigningKey(now: Date): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true, modulusLength: 2048 });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    privateJwk: { ...privateJwk, kid, alg: SIGNING_ALGORITHM },
    publicJwk: { ...publicJwk, kid, use: "sig", alg: SIGNING_ALGORITHM },
    createdAt: now.toISOString(),
  };
}

/** Newest first; ties (same instant) broken by kid so every caller sees the same order. */
export function newestFirst(records: readonly SigningKeyRecord[]): SigningKeyRecord[] {
  return [...records].sort(
    (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0),
  );
}

export function currentSigningKey(records: readonly SigningKeyRecord[]): SigningKeyRecord | undefined {
  return newestFirst(records)[0];
}

/** The keys a token may be signed with: exactly those published in the JWKS. */
export function activeSigningKeys(records: readonly SigningKeyRecord[]): SigningKeyRecord[] {
  return newestFirst(records).slice(0, ACTIVE_KEY_COUNT);
}

export async function ensureSigningKey(repo: SigningKeyRepository, now: Date): Promise<SigningKeyRecord> {
  const current = currentSigningKey(await repo.listSigningKeys());
  if (current) return current;
  return rotateSigningKey(repo, now);
}

export async function rotateSigningKey(repo: SigningKeyRepository, now: Date): Promise<SigningKeyRecord> {
  const key = await createSigningKey(now);
  await repo.insertSigningKey(key);
  return key;
}

export function publishedKeys(records: readonly SigningKeyRecord[]): JsonWebKeySet {
  return {
    keys: activeSigningKeys(records).map(({ kid, publicJwk }) => ({
      kty: publicJwk.kty,
      n: publicJwk.n,
      e: publicJwk.e,
      kid,
      use: "sig",
      alg: SIGNING_ALGORITHM,
    })),
  };
}
