// Users' passwords (for the password grant): scrypt, because people choose guessable ones. The clear text
// never reaches the store; Graph never returns passwordProfile anyway.

import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scrypt = promisify(scryptCallback) as (password: string, salt: string, keylen: number) => Promise<Buffer>;

export interface PasswordHash {
  salt: string;
  scrypt: string;
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16).toString("base64url");
  return { salt, scrypt: (await scrypt(password, salt, 32)).toString("base64url") };
}

export async function passwordMatches(hash: PasswordHash | undefined, candidate: string): Promise<boolean> {
  if (!hash?.salt || !hash.scrypt) return false;
  const actual = await scrypt(candidate, hash.salt, 32);
  const expected = Buffer.from(hash.scrypt, "base64url");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
