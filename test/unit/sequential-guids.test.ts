// Audit event ids of a bulk write (sequentialGuids.ts): GUIDs of version 4 whose first eight hex digits count up,
// so one batch's events sit side by side in the id key; the rest stays random, so they stay unique.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sequentialGuids } from "../../src/store/sequentialGuids.js";

const GUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("sequential GUIDs", () => {
  it("are version-4 GUIDs whose heads count up by one, wrapping at 2^32", () => {
    const ids = sequentialGuids(5000);
    assert.equal(ids.length, 5000);
    for (const id of ids) assert.match(id, GUID_V4);
    for (let i = 1; i < ids.length; i++) {
      assert.equal(parseInt(ids[i].slice(0, 8), 16), (parseInt(ids[i - 1].slice(0, 8), 16) + 1) % 2 ** 32);
    }
  });

  it("are distinct within and across calls, with random tails", () => {
    const all = [...sequentialGuids(2000), ...sequentialGuids(2000), ...sequentialGuids(1)];
    assert.equal(new Set(all).size, all.length);
    assert.equal(new Set(all.map((id) => id.slice(9))).size, all.length);
    assert.deepEqual(sequentialGuids(0), []);
  });
});
