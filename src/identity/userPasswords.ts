// Users' passwords (for the password grant): scrypt, because people choose guessable ones. The clear text
// never reaches the store; Graph never returns passwordProfile anyway. The cost (N = 2^12) is below what a
// production identity provider would use: these are test sign-ins, and seeding thousands of users must stay fast.
// Real deployments sign users in through their own issuer (--trust-issuer).

import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scrypt = promisify(scryptCallback) as (password: string, salt: string, keylen: number, options: { N: number }) => Promise<Buffer>;
const COST = { N: 4096 };

export interface PasswordHash {
  salt: string;
  scrypt: string;
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16).toString("base64url");
  return { salt, scrypt: (await scrypt(password, salt, 32, COST)).toString("base64url") };
}

export async function passwordMatches(hash: PasswordHash | undefined, candidate: string): Promise<boolean> {
  if (!hash?.salt || !hash.scrypt) return false;
  const actual = await scrypt(candidate, hash.salt, 32, COST);
  const expected = Buffer.from(hash.scrypt, "base64url");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
