// GUIDs for rows written by the thousand in one statement (a bulk reassignment's audit events): random version-4
// GUIDs but for the first eight hex digits, which count up from a random start, like the fleet's GuidSequence and
// SQL Server's NEWSEQUENTIALID. Random ids put each new row of the (tenant_id, id) key on a page of its own, so a
// batch of 2,000 events dirtied most of that B-tree's leaves (thousands of pages at 100,000 events, all written
// back at COMMIT); consecutive ids fill a few neighbouring pages. 92 random bits keep them unique.

import { randomBytes } from "node:crypto";

const hex = (bytes: Buffer, from: number, to: number) => bytes.subarray(from, to).toString("hex");

export function sequentialGuids(count: number): string[] {
  const bytes = randomBytes(4 + count * 12);
  let counter = bytes.readUInt32BE(0);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 12;
    bytes[at + 2] = (bytes[at + 2] & 0x0f) | 0x40; // version 4
    bytes[at + 4] = (bytes[at + 4] & 0x3f) | 0x80; // RFC 4122 variant
    out[i] = `${counter.toString(16).padStart(8, "0")}-${hex(bytes, at, at + 2)}-${hex(bytes, at + 2, at + 4)}-${hex(bytes, at + 4, at + 6)}-${hex(bytes, at + 6, at + 12)}`;
    counter = (counter + 1) >>> 0;
  }
  return out;
}
