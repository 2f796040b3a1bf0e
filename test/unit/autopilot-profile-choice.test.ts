// The Autopilot profile-choice rules of spec §3.3, one test per rule.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseProfile, hardwareOf, type ProfileCandidate } from "../../src/engine/autopilotProfileChoice.js";

const profile = (id: string, createdDateTime: string, targets: ProfileCandidate["targets"], extra: Partial<ProfileCandidate> = {}): ProfileCandidate => ({
  id,
  createdDateTime,
  deviceType: "windowsPc",
  targets,
  directDeviceIds: new Set(),
  ...extra,
});
const device = (groups: string[], hardware: ReturnType<typeof hardwareOf> = "windowsPc") => ({ identityId: "dev-1", groupIds: new Set(groups), hardware });

describe("Autopilot profile choice", () => {
  it("oldest-created profile wins when several target the device", () => {
    const choice = chooseProfile(device(["g1", "g2"]), [
      profile("new", "2024-05-01T00:00:00.000Z", [{ kind: "group", groupId: "g1" }]),
      profile("old", "2024-01-01T00:00:00.000Z", [{ kind: "group", groupId: "g2" }]),
    ]);
    assert.deepEqual(choice, { outcome: "assigned", profileId: "old", via: "group" });
  });
  it("ties on createdDateTime are broken by id", () => {
    const t = "2024-01-01T00:00:00.000Z";
    const choice = chooseProfile(device(["g"]), [profile("b", t, [{ kind: "group", groupId: "g" }]), profile("a", t, [{ kind: "group", groupId: "g" }])]);
    assert.equal(choice.outcome === "assigned" && choice.profileId, "a");
  });
  it("a profile assigned to all devices is the default: it applies only when no targeted profile does", () => {
    const all = profile("all", "2020-01-01T00:00:00.000Z", [{ kind: "allDevices" }]);
    const targeted = profile("grp", "2024-01-01T00:00:00.000Z", [{ kind: "group", groupId: "g" }]);
    assert.deepEqual(chooseProfile(device(["g"]), [all, targeted]), { outcome: "assigned", profileId: "grp", via: "group" });
    assert.deepEqual(chooseProfile(device(["other"]), [all, targeted]), { outcome: "assigned", profileId: "all", via: "allDevices" });
  });
  it("an exclusion group holding the device removes the profile's include", () => {
    const p = profile("p", "2024-01-01T00:00:00.000Z", [{ kind: "group", groupId: "g" }, { kind: "exclusionGroup", groupId: "x" }]);
    assert.deepEqual(chooseProfile(device(["g", "x"]), [p]), { outcome: "notAssigned" });
    assert.equal(chooseProfile(device(["g"]), [p]).outcome, "assigned");
  });
  it("an exclusion does not apply to an All devices assignment (unsupported together)", () => {
    const p = profile("p", "2024-01-01T00:00:00.000Z", [{ kind: "allDevices" }, { kind: "exclusionGroup", groupId: "x" }]);
    assert.deepEqual(chooseProfile(device(["x"]), [p]), { outcome: "assigned", profileId: "p", via: "allDevices" });
  });
  it("an exclusion lets an older-but-excluded profile give way to the next oldest", () => {
    const old = profile("old", "2023-01-01T00:00:00.000Z", [{ kind: "group", groupId: "g" }, { kind: "exclusionGroup", groupId: "x" }]);
    const next = profile("next", "2024-01-01T00:00:00.000Z", [{ kind: "group", groupId: "g" }]);
    assert.equal((chooseProfile(device(["g", "x"]), [old, next]) as { profileId: string }).profileId, "next");
  });
  it("a direct assign targets the device like a group include", () => {
    const p = profile("direct", "2024-01-01T00:00:00.000Z", [], { directDeviceIds: new Set(["dev-1"]) });
    assert.deepEqual(chooseProfile(device([]), [p]), { outcome: "assigned", profileId: "direct", via: "direct" });
  });
  it("no assignment reaching the device: notAssigned", () => {
    assert.deepEqual(chooseProfile(device(["g"]), [profile("p", "2024-01-01T00:00:00.000Z", [{ kind: "group", groupId: "other" }])]), { outcome: "notAssigned" });
  });
  it("a profile whose device type does not fit fails with the matching detailed status", () => {
    const holo = profile("holo", "2024-01-01T00:00:00.000Z", [{ kind: "group", groupId: "g" }], { deviceType: "holoLens" });
    assert.deepEqual(chooseProfile(device(["g"]), [holo]), { outcome: "failed", profileId: "holo", detailedStatus: "holoLensProfileNotSupported" });
    const pc = profile("pc", "2024-01-01T00:00:00.000Z", [{ kind: "group", groupId: "g" }]);
    assert.deepEqual(chooseProfile(device(["g"], "holoLens"), [pc]), { outcome: "failed", profileId: "pc", detailedStatus: "windowsPcProfileNotSupported" });
    assert.equal(chooseProfile(device(["g"], "virtualMachine"), [pc]).outcome, "assigned", "a PC profile serves virtual machines");
  });
  it("hardware is read from the model name", () => {
    assert.deepEqual(["HoloLens 2", "Surface Hub 2S", "Surface Hub", "Virtual Machine", "Surface Laptop 5"].map(hardwareOf), ["holoLens", "surfaceHub2S", "surfaceHub2", "virtualMachine", "windowsPc"]);
  });
});
