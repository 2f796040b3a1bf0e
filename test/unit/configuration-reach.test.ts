// What includes can reach a device through (src/engine/configurationReach.ts): every include kind counts, exclusions
// and unresolvable targets never do, and All devices / All licensed users mean everyone.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConfigurationAssignmentInput, ConfigurationTarget } from "../../src/engine/configurationApplicability.js";
import { configurationReach, reachesNoOne } from "../../src/engine/configurationReach.js";

const assignment = (target: ConfigurationTarget, intent: "apply" | "remove" = "apply"): ConfigurationAssignmentInput => ({ id: Math.random().toString(36).slice(2), target, intent });

describe("configuration reach", () => {
  it("collects include groups, scope tag objects and collections, whatever the intent or filter", () => {
    const reach = configurationReach([
      [assignment({ kind: "group", groupId: "g1" }), { ...assignment({ kind: "group", groupId: "g2" }, "remove"), filter: { id: "f", mode: "include" } }],
      [assignment({ kind: "scopeTagGroup", targetType: "device", entraObjectId: "o1" }), assignment({ kind: "configurationManagerCollection", collectionId: "c1" })],
    ]);
    assert.equal(reach.everyone, false);
    assert.deepEqual([...reach.directoryObjectIds].sort(), ["g1", "g2", "o1"]);
    assert.deepEqual([...reach.configurationManagerCollectionIds], ["c1"]);
    assert.equal(reachesNoOne(reach), false);
  });

  it("exclusions and unsupported targets reach no one", () => {
    const reach = configurationReach([[assignment({ kind: "exclusionGroup", groupId: "g1" }), assignment({ kind: "unsupported", odataType: "#x" })], []]);
    assert.deepEqual([reach.everyone, reach.directoryObjectIds.size, reach.configurationManagerCollectionIds.size], [false, 0, 0]);
    assert.equal(reachesNoOne(reach), true);
    assert.equal(reachesNoOne(configurationReach([])), true);
  });

  it("All devices and All licensed users reach everyone", () => {
    assert.equal(configurationReach([[assignment({ kind: "allDevices" })]]).everyone, true);
    assert.equal(configurationReach([[assignment({ kind: "group", groupId: "g" })], [assignment({ kind: "allLicensedUsers" })]]).everyone, true);
  });
});
