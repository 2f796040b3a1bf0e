// The gate's pure parts against the real Graph model: model-aware path patterns, the service family of a
// resolved path, throttling settings (flag and JSON), fault rule checks, ISO durations, lifecycle timings.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LifecycleTimings, parseLifecycleTiming } from "../../src/engine/lifecycleTiming.js";
import { FaultRuleError, parseFaultRule } from "../../src/gate/faultRules.js";
import { compilePathPattern, PathPatternError } from "../../src/gate/pathPattern.js";
import { limitsFromJson, parseThrottleFlag, REAL_LIMITS, ThrottleSettingsError } from "../../src/gate/throttleLimits.js";
import { intuneServiceFamily } from "../../src/graph/intuneServiceFamily.js";
import { graphModel } from "../../src/graph/model/index.js";
import { resolvePath, splitPath } from "../../src/odata/pathResolver.js";
import { parseIsoDuration } from "../../src/time/isoDuration.js";

const resolve = (path: string) => resolvePath(graphModel, splitPath(path));
const ID = "0f0e0d0c-0000-4000-8000-000000000001";

describe("fault rule path patterns (model-aware)", () => {
  const matches = (pattern: string, path: string) => compilePathPattern(graphModel, pattern).matches(resolve(path));

  it("a bare operation name matches that operation on any path, with the key as a segment or in parentheses", () => {
    assert.ok(matches("wipe", `deviceManagement/managedDevices/${ID}/wipe`));
    assert.ok(matches("wipe", `deviceManagement/comanagedDevices('${ID}')/wipe`));
    assert.ok(!matches("wipe", `deviceManagement/managedDevices/${ID}/retire`));
    assert.ok(!matches("wipe", `deviceManagement/managedDevices/${ID}`));
  });

  it("segments match a run of steps ending the path; {id} is a key, * one step, ** any number; / anchors at the root", () => {
    assert.ok(matches("managedDevices/{id}/wipe", `deviceManagement/managedDevices/${ID}/wipe`));
    assert.ok(!matches("managedDevices/{id}/wipe", `deviceManagement/comanagedDevices/${ID}/wipe`));
    assert.ok(matches("managedDevices/{id}", `deviceManagement/managedDevices/${ID}`));
    assert.ok(!matches("managedDevices/{id}", "deviceManagement/managedDevices"));
    assert.ok(matches("/deviceManagement/**", `deviceManagement/managedDevices/${ID}/wipe`));
    assert.ok(matches("/deviceManagement/*", "deviceManagement/managedDevices"));
    assert.ok(!matches("/managedDevices", "deviceManagement/managedDevices"));
    assert.ok(matches("MANAGEDDEVICES", "deviceManagement/managedDevices"), "names compare without case");
  });

  it("a route template pattern (~/…) matches the resolver's template exactly", () => {
    assert.ok(matches("~/singleton/navigation/key/action", `deviceManagement/managedDevices/${ID}/wipe`));
    assert.ok(!matches("~/singleton/navigation/key/action", "deviceManagement/managedDevices"));
  });

  it("a name the model does not know is refused, so a typo cannot make a rule that never fires", () => {
    assert.throws(() => compilePathPattern(graphModel, "managedDevicez/{id}"), PathPatternError);
    assert.throws(() => compilePathPattern(graphModel, " "), PathPatternError);
  });
});

describe("Intune service family of a resolved path", () => {
  it("follows the entity types the path addresses, not its text", () => {
    assert.equal(intuneServiceFamily(resolve("deviceManagement/managedDevices")), "devices");
    assert.equal(intuneServiceFamily(resolve(`deviceManagement/comanagedDevices/${ID}/wipe`)), "devices");
    assert.equal(intuneServiceFamily(resolve("deviceManagement/windowsAutopilotDeploymentProfiles")), "other");
    assert.equal(intuneServiceFamily(resolve("deviceManagement/windowsAutopilotDeviceIdentities")), "other");
    assert.equal(intuneServiceFamily(resolve("deviceManagement")), "other");
    assert.equal(intuneServiceFamily(resolve("users")), undefined, "the directory is not an Intune service");
    assert.equal(intuneServiceFamily(resolve(`groups/${ID}/members`)), undefined);
  });
});

describe("throttling settings", () => {
  it("--throttle off | real | scale=<factor> | JSON", () => {
    assert.equal(parseThrottleFlag("off").enabled, false);
    assert.deepEqual(parseThrottleFlag("real"), REAL_LIMITS);
    const half = parseThrottleFlag("scale=0.5");
    assert.deepEqual(half.families.devices, { writes: { tenant: 200, app: 100 }, any: { tenant: 2000, app: 1000 } });
    assert.equal(half.windowSeconds, 20);
    assert.equal(parseThrottleFlag("scale=0.00001").families.other.writes.app, 1, "a scaled limit is at least 1");
    const custom = parseThrottleFlag('{"windowSeconds": 2, "families": {"enrollment": {"writes": {"app": 3}}}}');
    assert.deepEqual(custom.families.enrollment, { writes: { tenant: 200, app: 3 }, any: { tenant: 2000, app: 1000 } });
    assert.equal(custom.windowSeconds, 2);
    for (const bad of ["sometimes", "scale=-1", "scale=x", "{not json", '{"families": {"devices": {"writes": {"app": 0}}}}']) {
      assert.throws(() => parseThrottleFlag(bad), ThrottleSettingsError, bad);
    }
  });

  it("stored limits read back as themselves", () => {
    const limits = limitsFromJson({ scale: 0.1, windowSeconds: 5 });
    assert.deepEqual(limitsFromJson(JSON.parse(JSON.stringify(limits))), limits);
    assert.deepEqual(limitsFromJson(JSON.parse(JSON.stringify({ ...REAL_LIMITS, enabled: false }))).enabled, false);
  });
});

describe("fault rule checks", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  it("keeps what a rule says and refuses contradictions", () => {
    const rule = parseFaultRule(graphModel, { method: "post", path: "syncDevice", count: 3, status: 503, retryAfter: 4 }, "r1", now);
    assert.deepEqual([rule.method, rule.count, rule.status, rule.retryAfter], ["POST", 3, 503, 4]);
    for (const bad of [{ status: 500, count: 0 }, { status: 500, probability: 1.5 }, { latencyMs: -1 }, { method: "TRACE", status: 500 }, {}]) {
      assert.throws(() => parseFaultRule(graphModel, bad, "r", now), FaultRuleError, JSON.stringify(bad));
    }
  });
});

describe("ISO 8601 durations and per-lifecycle timings", () => {
  it("PT10M, P1DT2H, PT0.5S; years, months and garbage are refused", () => {
    assert.equal(parseIsoDuration("PT10M"), 600_000);
    assert.equal(parseIsoDuration("P1DT2H"), 26 * 3_600_000);
    assert.equal(parseIsoDuration("PT0.5S"), 500);
    for (const bad of ["P1Y", "P1M", "PT", "P", "10M", ""]) assert.equal(parseIsoDuration(bad), undefined, bad);
  });

  it("each lifecycle follows the default until it gets a timing of its own", () => {
    const timings = new LifecycleTimings(parseLifecycleTiming("1s"), ["deviceAction", "autopilotSync"]);
    assert.deepEqual(timings.for("deviceAction"), { kind: "afterSeconds", seconds: 1 });
    timings.apply({ lifecycles: { autopilotSync: "3reads" } });
    assert.deepEqual(timings.for("autopilotSync"), { kind: "afterReads", reads: 3 });
    assert.ok(timings.countsReads());
    timings.apply({ default: "immediate", lifecycles: { autopilotSync: null } });
    assert.deepEqual(timings.describe(), { default: "immediate", lifecycles: { deviceAction: "immediate", autopilotSync: "immediate" } });
    assert.ok(!timings.countsReads());
    assert.throws(() => timings.apply({ lifecycles: { printing: "1s" } }));
  });
});
