// The one pagination token format: opaque base64url JSON holding where the next page starts and a hash of the
// query it belongs to. It carries no server memory, so a nextLink keeps working across restarts.

import { createHash } from "node:crypto";
import { badRequest } from "./errors.js";

export interface PageCursor {
  /** Keyset continuation in insertion order (queries without $orderby). */
  afterSeq?: number;
  /** Offset continuation (queries with $orderby). */
  offset?: number;
}

export const queryFingerprint = (parts: (string | undefined)[]) =>
  createHash("sha256").update(parts.map((p) => p ?? "").join("\u0000")).digest("base64url").slice(0, 12);

export function encodeSkipToken(cursor: PageCursor, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ ...cursor, q: fingerprint })).toString("base64url");
}

export function decodeSkipToken(token: string, fingerprint: string): PageCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw badRequest("The $skiptoken is not valid.");
  }
  const p = parsed as { afterSeq?: unknown; offset?: unknown; q?: unknown };
  const ok =
    typeof p === "object" && p !== null &&
    (p.afterSeq === undefined || Number.isSafeInteger(p.afterSeq)) &&
    (p.offset === undefined || Number.isSafeInteger(p.offset)) &&
    (p.afterSeq !== undefined) !== (p.offset !== undefined);
  if (!ok) throw badRequest("The $skiptoken is not valid.");
  if (p.q !== fingerprint) throw badRequest("The $skiptoken does not belong to this query; follow the @odata.nextLink as returned.");
  return { afterSeq: p.afterSeq as number | undefined, offset: p.offset as number | undefined };
}
