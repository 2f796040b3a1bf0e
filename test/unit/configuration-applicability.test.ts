// The device-configuration resolution rules: spec §3.1 (include/exclude of the same kind, the 16-scenario matrix),
// §3.2 (filter truth table, precedence exclude > no filter > include, OR within a mode), §2.7 (intent remove) and
// changeAssignments' per-device removals.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  configurationApplies,
  evaluateConfiguration,
  type ConfigurationAssignmentInput,
  type ConfigurationDeviceFacts,
  type ConfigurationTarget,
  type FilterMatch,
} from "../../src/engine/configurationApplicability.js";
import { configurationPlatform, devicePlatform, finalStatusFor, reportedComplianceStatus } from "../../src/engine/configurationStatus.js";

const device = (over: { deviceGroups?: string[]; userGroups?: string[]; licensed?: boolean; noUser?: boolean; collections?: string[]; removed?: string[] } = {}): ConfigurationDeviceFacts => ({
  managedDeviceId: "md-1",
  entraDeviceObjectId: "entra-1",
  deviceGroupIds: new Set(over.deviceGroups ?? []),
  primaryUser: over.noUser ? undefined : { id: "user-1", groupIds: new Set(over.userGroups ?? []), licensed: over.licensed ?? true },
  configurationManagerCollectionIds: new Set(over.collections ?? []),
  removedConfigurationIds: new Set(over.removed ?? []),
});
const assignment = (id: string, target: ConfigurationTarget, extra: Partial<ConfigurationAssignmentInput> = {}): ConfigurationAssignmentInput => ({ id, target, intent: "apply", ...extra });
const group = (groupId: string): ConfigurationTarget => ({ kind: "group", groupId });
const exclusion = (groupId: string): ConfigurationTarget => ({ kind: "exclusionGroup", groupId });
const noFilters: FilterMatch = () => undefined;
const filters = (matching: Record<string, boolean>): FilterMatch => (id) => matching[id];

describe("§3.1 include/exclude: exclusion beats inclusion only when both are the same kind", () => {
  // The 16 scenarios: included {dynamic, static} × {device, user} against excluded {dynamic, static} × {device, user}.
  // Dynamic or static makes no difference to the engine (memberships are computed when they change); the kind does.
  const kinds = ["device", "user"] as const;
  const memberships = ["dynamic", "static"] as const;
  for (const incKind of kinds) for (const incMembership of memberships) for (const excKind of kinds) for (const excMembership of memberships) {
    const same = incKind === excKind;
    const row = !same ? "not supported (exclusion ignored)"
      : incKind === "user" ? "supported"
      : excMembership === "dynamic" ? "partially (works, dynamic membership latency)" : "supported";
    it(`${incMembership} ${incKind} group included, ${excMembership} ${excKind} group excluded: ${row} → ${same ? "excluded" : "the include still applies"}`, () => {
      const facts = device({
        deviceGroups: [incKind === "device" ? "inc" : "", excKind === "device" ? "exc" : ""].filter(Boolean),
        userGroups: [incKind === "user" ? "inc" : "", excKind === "user" ? "exc" : ""].filter(Boolean),
      });
      const r = evaluateConfiguration("cfg", [assignment("a-inc", group("inc")), assignment("a-exc", exclusion("exc"))], facts, noFilters);
      if (same) {
        assert.equal(r.applies, false);
        assert.equal(r.outcome, "excluded");
        assert.deepEqual(r.decidingAssignmentIds, ["a-exc"]);
        assert.deepEqual(r.assignments[0].reach.map((x) => x.excludedBy), [["a-exc"]]);
      } else {
        assert.equal(r.applies, true);
        assert.deepEqual(r.decidingAssignmentIds, ["a-inc"]);
        assert.deepEqual(r.assignments[0].reach.map((x) => [x.kind, x.excludedBy.length]), [[incKind, 0]]);
        assert.deepEqual(r.assignments[1].excludes, [excKind]);
      }
    });
  }

  it("a group holding both the device and its primary user survives a device exclusion through the user", () => {
    const r = evaluateConfiguration("cfg", [assignment("inc", group("g")), assignment("exc", exclusion("x"))], device({ deviceGroups: ["g", "x"], userGroups: ["g"] }), noFilters);
    assert.equal(r.applies, true);
    assert.deepEqual(r.assignments[0].reach.map((x) => [x.kind, x.excludedBy]), [["device", ["exc"]], ["user", []]]);
  });
  it("All devices is a device-kind include: a device group exclusion removes it, a user group exclusion does not", () => {
    const a = [assignment("all", { kind: "allDevices" }), assignment("exc", exclusion("x"))];
    assert.equal(evaluateConfiguration("cfg", a, device({ deviceGroups: ["x"] }), noFilters).outcome, "excluded");
    assert.equal(evaluateConfiguration("cfg", a, device({ userGroups: ["x"] }), noFilters).applies, true);
  });
  it("All licensed users reaches a device through a licensed primary user only, and is a user-kind include", () => {
    const a = [assignment("users", { kind: "allLicensedUsers" }), assignment("exc", exclusion("x"))];
    assert.equal(evaluateConfiguration("cfg", a, device(), noFilters).applies, true);
    assert.equal(evaluateConfiguration("cfg", a, device({ licensed: false }), noFilters).outcome, "notTargeted");
    assert.equal(evaluateConfiguration("cfg", a, device({ noUser: true }), noFilters).outcome, "notTargeted");
    assert.equal(evaluateConfiguration("cfg", a, device({ userGroups: ["x"] }), noFilters).outcome, "excluded");
    assert.equal(evaluateConfiguration("cfg", a, device({ deviceGroups: ["x"] }), noFilters).applies, true);
  });
  it("a ConfigMgr collection holding the device is a device-kind include", () => {
    const a = [assignment("c", { kind: "configurationManagerCollection", collectionId: "SMS00001" })];
    assert.equal(evaluateConfiguration("cfg", a, device({ collections: ["SMS00001"] }), noFilters).applies, true);
    assert.equal(evaluateConfiguration("cfg", a, device(), noFilters).applies, false);
  });
  it("a scope tag group target reaches only the object kind its targetType names", () => {
    const st = (targetType: "none" | "user" | "device") => [assignment("s", { kind: "scopeTagGroup", targetType, entraObjectId: "g" })];
    assert.equal(evaluateConfiguration("cfg", st("device"), device({ deviceGroups: ["g"] }), noFilters).applies, true);
    assert.equal(evaluateConfiguration("cfg", st("device"), device({ userGroups: ["g"] }), noFilters).applies, false);
    assert.equal(evaluateConfiguration("cfg", st("user"), device({ userGroups: ["g"] }), noFilters).applies, true);
    assert.equal(evaluateConfiguration("cfg", st("none"), device({ userGroups: ["g"] }), noFilters).applies, true);
  });
  it("an unresolved target type reaches nothing", () => {
    const r = evaluateConfiguration("cfg", [assignment("o", { kind: "unsupported", odataType: "#microsoft.graph.organizationalUnitAssignmentTarget" })], device(), noFilters);
    assert.equal(r.outcome, "notTargeted");
  });
  it("no assignment reaching the device or its user: not targeted, with the reason", () => {
    const r = evaluateConfiguration("cfg", [assignment("a", group("g"))], device({ deviceGroups: ["other"] }), noFilters);
    assert.deepEqual([r.applies, r.outcome, r.decidingAssignmentIds], [false, "notTargeted", []]);
    assert.match(r.assignments[0].reason, /reaches neither/);
  });
});

describe("§3.2 filters combined with groups", () => {
  const table = [
    { mode: "include", match: true, result: "apply" },
    { mode: "include", match: false, result: "don't apply" },
    { mode: "exclude", match: true, result: "don't apply" },
    { mode: "exclude", match: false, result: "apply" },
  ] as const;
  for (const row of table) {
    it(`filter mode ${row.mode}, device ${row.match ? "matches" : "does not match"} the rule: ${row.result}`, () => {
      const r = evaluateConfiguration("cfg", [assignment("a", group("g"), { filter: { id: "f", mode: row.mode } })], device({ deviceGroups: ["g"] }), filters({ f: row.match }));
      assert.equal(r.applies, row.result === "apply");
      assert.equal(r.outcome, row.result === "apply" ? "applies" : "filteredOut");
      assert.equal(r.assignments[0].filter?.result, row.match ? "match" : "noMatch");
    });
  }

  it("precedence exclude > no filter: only the exclude-mode assignment is evaluated, the other is Not evaluated", () => {
    const a = [assignment("plain", group("g1")), assignment("ex", group("g2"), { filter: { id: "f", mode: "exclude" } })];
    const r = evaluateConfiguration("cfg", a, device({ deviceGroups: ["g1", "g2"] }), filters({ f: true }));
    assert.equal(r.applies, false, "the matching exclude filter wins although the unfiltered assignment would apply");
    assert.equal(r.assignments[0].outcome, "notEvaluated");
    assert.match(r.assignments[0].reason, /Not evaluated/);
    assert.equal(evaluateConfiguration("cfg", a, device({ deviceGroups: ["g1", "g2"] }), filters({ f: false })).applies, true);
  });
  it("precedence no filter > include: an include filter that does not match is Not evaluated, the unfiltered assignment applies", () => {
    const a = [assignment("inc", group("g1"), { filter: { id: "f", mode: "include" } }), assignment("plain", group("g2"))];
    const r = evaluateConfiguration("cfg", a, device({ deviceGroups: ["g1", "g2"] }), filters({ f: false }));
    assert.deepEqual([r.applies, r.decidingAssignmentIds], [true, ["plain"]]);
    assert.deepEqual([r.assignments[0].outcome, r.assignments[0].filter?.result], ["notEvaluated", "notEvaluated"]);
  });
  it("precedence exclude > include: the include filter is not evaluated", () => {
    let asked: string[] = [];
    const match: FilterMatch = (id) => (asked.push(id), id === "inc");
    const a = [assignment("i", group("g1"), { filter: { id: "inc", mode: "include" } }), assignment("e", group("g2"), { filter: { id: "exc", mode: "exclude" } })];
    const r = evaluateConfiguration("cfg", a, device({ deviceGroups: ["g1", "g2"] }), match);
    assert.deepEqual(asked, ["exc"]);
    assert.equal(r.applies, true);
    asked = [];
  });
  it("several assignments with the same mode are OR-ed: the device needs to match any one include filter", () => {
    const a = [assignment("a1", group("g1"), { filter: { id: "f1", mode: "include" } }), assignment("a2", group("g2"), { filter: { id: "f2", mode: "include" } })];
    const d = device({ deviceGroups: ["g1", "g2"] });
    assert.deepEqual(evaluateConfiguration("cfg", a, d, filters({ f1: false, f2: true })).decidingAssignmentIds, ["a2"]);
    assert.equal(evaluateConfiguration("cfg", a, d, filters({ f1: false, f2: false })).applies, false);
  });
  it("OR within exclude mode: the configuration applies when the device escapes any one exclude filter", () => {
    const a = [assignment("a1", group("g1"), { filter: { id: "f1", mode: "exclude" } }), assignment("a2", group("g2"), { filter: { id: "f2", mode: "exclude" } })];
    const d = device({ deviceGroups: ["g1", "g2"] });
    assert.equal(evaluateConfiguration("cfg", a, d, filters({ f1: true, f2: false })).applies, true);
    assert.equal(evaluateConfiguration("cfg", a, d, filters({ f1: true, f2: true })).applies, false);
  });
  it("only assignments that reach the device take part in the precedence", () => {
    const a = [assignment("e", group("elsewhere"), { filter: { id: "f", mode: "exclude" } }), assignment("i", group("g"), { filter: { id: "f", mode: "include" } })];
    assert.equal(evaluateConfiguration("cfg", a, device({ deviceGroups: ["g"] }), filters({ f: true })).applies, true);
  });
  it("an excluded include takes no part in the filter precedence", () => {
    const a = [assignment("e", group("g1"), { filter: { id: "f", mode: "exclude" } }), assignment("x", exclusion("x")), assignment("i", group("g2"), { filter: { id: "f", mode: "include" } })];
    // g1 is removed by the device exclusion; g2 is held by the user, so its include filter decides.
    const r = evaluateConfiguration("cfg", a, device({ deviceGroups: ["g1", "x"], userGroups: ["g2"] }), filters({ f: true }));
    assert.deepEqual([r.applies, r.decidingAssignmentIds], [true, ["i"]]);
  });
  it("a filter that does not exist lets nothing through", () => {
    const r = evaluateConfiguration("cfg", [assignment("a", group("g"), { filter: { id: "gone", mode: "exclude" } })], device({ deviceGroups: ["g"] }), noFilters);
    assert.deepEqual([r.applies, r.assignments[0].filter?.result], [false, "filterNotFound"]);
  });
  it("a filter on an exclusion target is ignored", () => {
    const r = evaluateConfiguration("cfg", [assignment("i", group("g")), assignment("x", exclusion("x"), { filter: { id: "f", mode: "include" } })], device({ deviceGroups: ["g", "x"] }), filters({ f: false }));
    assert.equal(r.outcome, "excluded");
    assert.equal(r.assignments[1].filter?.result, "ignored");
  });
});

describe("§2.7 intent and changeAssignments overrides", () => {
  it("an applying remove intent means the configuration is to be removed, even where an apply assignment also reaches the device", () => {
    const a = [assignment("apply", group("g1")), assignment("rm", group("g2"), { intent: "remove" })];
    const r = evaluateConfiguration("cfg", a, device({ deviceGroups: ["g1", "g2"] }), noFilters);
    assert.deepEqual([r.applies, r.outcome, r.decidingAssignmentIds], [false, "removeIntent", ["rm"]]);
  });
  it("a remove intent filtered away leaves the apply assignments in charge (each intent has its own filter precedence)", () => {
    const a = [assignment("apply", group("g1")), assignment("rm", group("g2"), { intent: "remove", filter: { id: "f", mode: "include" } })];
    const r = evaluateConfiguration("cfg", a, device({ deviceGroups: ["g1", "g2"] }), filters({ f: false }));
    assert.deepEqual([r.applies, r.decidingAssignmentIds], [true, ["apply"]]);
    assert.equal(r.assignments[1].outcome, "filteredOut");
  });
  it("an exclusion removes remove-intent includes of its kind too", () => {
    const a = [assignment("apply", group("g1")), assignment("rm", group("g2"), { intent: "remove" }), assignment("x", exclusion("x"))];
    const r = evaluateConfiguration("cfg", a, device({ deviceGroups: ["g2", "x"], userGroups: ["g1"] }), noFilters);
    assert.equal(r.applies, true);
  });
  it("a configuration removed from the device with changeAssignments does not apply: removed by changeAssignments", () => {
    const r = evaluateConfiguration("cfg", [assignment("a", { kind: "allDevices" })], device({ removed: ["cfg"] }), noFilters);
    assert.deepEqual([r.applies, r.outcome, r.reason], [false, "removedByChangeAssignments", "removed by changeAssignments"]);
    assert.equal(evaluateConfiguration("other", [assignment("a", { kind: "allDevices" })], device({ removed: ["cfg"] }), noFilters).applies, true);
  });
});

describe("properties", () => {
  const targets: fc.Arbitrary<ConfigurationTarget> = fc.oneof(
    fc.constantFrom("g1", "g2", "g3").map((groupId): ConfigurationTarget => ({ kind: "group", groupId })),
    fc.constantFrom("g1", "g2", "g3").map((groupId): ConfigurationTarget => ({ kind: "exclusionGroup", groupId })),
    fc.constant<ConfigurationTarget>({ kind: "allDevices" }),
    fc.constant<ConfigurationTarget>({ kind: "allLicensedUsers" }),
    fc.record({ g: fc.constantFrom("g1", "g2", "user-1", "entra-1"), t: fc.constantFrom("none" as const, "user" as const, "device" as const) })
      .map(({ g, t }): ConfigurationTarget => ({ kind: "scopeTagGroup", targetType: t, entraObjectId: g })),
  );
  const assignments = fc.array(
    fc.record({
      target: targets,
      filter: fc.option(fc.record({ id: fc.constantFrom("f1", "f2"), mode: fc.constantFrom("include" as const, "exclude" as const) }), { nil: undefined }),
      intent: fc.constantFrom("apply" as const, "remove" as const),
    }),
    { maxLength: 6 },
  ).map((xs) => xs.map((x, i): ConfigurationAssignmentInput => ({ id: `a${i}`, ...x })));
  const groups = fc.subarray(["g1", "g2", "g3"]);
  const facts = fc.record({ deviceGroups: groups, userGroups: groups, licensed: fc.boolean() }).map((f) => device(f));
  const matches = fc.record({ f1: fc.boolean(), f2: fc.boolean() });

  it("applies exactly when an apply assignment applies and no remove assignment does", () => {
    fc.assert(fc.property(assignments, facts, matches, (a, d, m) => {
      const r = evaluateConfiguration("cfg", a, d, filters(m));
      const applying = r.assignments.filter((e) => e.outcome === "applies");
      assert.equal(r.applies, applying.some((e) => e.intent === "apply") && !applying.some((e) => e.intent === "remove"));
      for (const id of r.decidingAssignmentIds) assert.ok(a.some((x) => x.id === id));
    }));
  });
  it("the bulk path (configurationApplies) decides exactly as the explained evaluation", () => {
    const removedToo = fc.boolean();
    fc.assert(fc.property(assignments, facts, matches, removedToo, fc.boolean(), (a, d, m, removed, withUnknownFilter) => {
      const device = removed ? { ...d, removedConfigurationIds: new Set(["cfg"]) } : d;
      const match: FilterMatch = (id) => (withUnknownFilter && id === "f2" ? undefined : m[id as "f1" | "f2"]);
      assert.equal(configurationApplies("cfg", a, device, match), evaluateConfiguration("cfg", a, device, match).applies);
    }), { numRuns: 2000 });
  });
  it("an exclusion never adds a device: removing every exclusion target can only widen who gets the configuration", () => {
    fc.assert(fc.property(assignments, facts, matches, (a, d, m) => {
      const without = a.filter((x) => x.target.kind !== "exclusionGroup" || x.intent === "remove");
      const withRemove = a.some((x) => x.intent === "remove");
      if (withRemove) return; // an exclusion can hide a remove intent and so let apply through
      if (evaluateConfiguration("cfg", a, d, filters(m)).applies) assert.ok(evaluateConfiguration("cfg", without, d, filters(m)).applies);
    }));
  });
  it("a cross-kind exclusion changes nothing", () => {
    fc.assert(fc.property(assignments, groups, matches, (all, deviceGroups, m) => {
      // the exclusion group x holds only the user, who is reached by no include (unlicensed, in no other group):
      // the device-kind includes must decide exactly as without it
      const a = all.filter((x) => !(x.target.kind === "scopeTagGroup" && x.target.entraObjectId === "user-1"));
      const d1 = device({ deviceGroups, userGroups: [], licensed: false });
      const d2 = device({ deviceGroups, userGroups: ["x"], licensed: false });
      const withX = [...a, { id: "x", target: { kind: "exclusionGroup", groupId: "x" } as ConfigurationTarget, intent: "apply" as const }];
      assert.equal(evaluateConfiguration("cfg", withX, d2, filters(m)).applies, evaluateConfiguration("cfg", a, d1, filters(m)).applies);
    }));
  });
});

describe("§3.5 statuses", () => {
  it("a configuration type's platform comes from its @odata.type", () => {
    assert.equal(configurationPlatform("#microsoft.graph.windows10CustomConfiguration"), "windows");
    assert.equal(configurationPlatform("#microsoft.graph.iosScepCertificateProfile"), "iOS");
    assert.equal(configurationPlatform("#microsoft.graph.macOSWiredNetworkConfiguration"), "macOS");
    assert.equal(configurationPlatform("#microsoft.graph.windowsPhone81VpnConfiguration"), "windowsPhone");
    assert.equal(devicePlatform("Windows"), "windows");
    assert.equal(devicePlatform("iOS"), "iOS");
  });
  it("a configuration for another platform is notApplicable on the device; one for its platform succeeds (compliant)", () => {
    assert.equal(finalStatusFor("#microsoft.graph.windows10GeneralConfiguration", "Windows"), "compliant");
    assert.equal(finalStatusFor("#microsoft.graph.iosScepCertificateProfile", "Windows"), "notApplicable");
  });
  it("pending is reported as complianceStatus unknown (the enum has no pending member)", () => {
    assert.equal(reportedComplianceStatus("pending"), "unknown");
    assert.equal(reportedComplianceStatus("compliant"), "compliant");
  });
});
