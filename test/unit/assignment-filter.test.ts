import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AssignmentFilterRuleError,
  DEVICE_PLATFORMS,
  FILTER_OPERATORS,
  MAX_NESTING_DEPTH,
  MAX_RULE_LENGTH,
  compileFilterExpr,
  compileFilterRule,
  parseFilterRule,
  printFilterRule,
  supportedProperties,
  validateFilterRule,
  type AssignmentFilterOperatorName,
  type DevicePlatform,
  type FilterEntity,
  type FilterOperator,
  type FilterRuleExpr,
  type FilterValue,
  type FilterableDevice,
} from "../../src/engine/assignmentFilter/index.js";
import { tokenize } from "../../src/engine/assignmentFilter/lexer.js";
import { FILTER_PROPERTIES, supportedValuesFor } from "../../src/engine/assignmentFilter/properties.js";

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const cmp = (property: string, operator: FilterOperator, value: FilterValue, entity: FilterEntity = "device"): FilterRuleExpr => ({
  kind: "comparison", entity, property, operator, value,
});
const str = (value: string): FilterValue => ({ kind: "string", value });
const list = (...values: string[]): FilterValue => ({ kind: "list", values });
const version = (value: string): FilterValue => ({ kind: "version", value });
const NULL: FilterValue = { kind: "null" };
const bool = (value: boolean): FilterValue => ({ kind: "boolean", value });

const A = cmp("deviceName", "eq", str("a"));
const B = cmp("deviceName", "eq", str("b"));
const C = cmp("deviceName", "eq", str("c"));
const [a, b, c] = ['(device.deviceName -eq "a")', '(device.deviceName -eq "b")', '(device.deviceName -eq "c")'];

const STRING_OPERATOR_LIST =
  "an operator (-eq, -ne, -in, -notIn, -startsWith, -notStartsWith, -contains, -notContains, -endsWith or -notEndsWith)";

function ruleErrorOf(text: string, platform?: DevicePlatform): AssignmentFilterRuleError {
  try {
    parseFilterRule(text, platform);
  } catch (error) {
    assert.ok(error instanceof AssignmentFilterRuleError, `expected an AssignmentFilterRuleError for ${text}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

function assertRejected(text: string, position: number, expected: string, messagePart?: string, platform?: DevicePlatform): void {
  const error = ruleErrorOf(text, platform);
  assert.equal(error.position, position, `position for ${text}: ${error.message}`);
  assert.equal(error.expected, expected, `expected-part for ${text}: ${error.message}`);
  assert.ok(error.message.startsWith(`Syntax error at position ${position}: expected ${expected} but found `), error.message);
  if (messagePart !== undefined) assert.ok(error.message.includes(messagePart), `${messagePart} not in: ${error.message}`);
}

type Row = readonly [device: Record<string, unknown>, expected: boolean];

function assertTable(rule: string, rows: readonly Row[], platform?: DevicePlatform): void {
  const compiled = compileFilterRule(rule, platform);
  for (const [device, expected] of rows) {
    assert.equal(compiled.matches(device as FilterableDevice), expected, `${rule} on ${JSON.stringify(device)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

describe("lexer", () => {
  it("splits a rule into positioned tokens", () => {
    const tokens = tokenize('(device.deviceName -EQ "Win dows") and -or $null 10.0.1 eq ["a","b"]');
    assert.deepEqual(
      tokens.map((t) => [t.kind, t.value, t.position]),
      [
        ["(", "(", 0],
        ["word", "device.deviceName", 1],
        ["dashWord", "EQ", 19],
        ["string", "Win dows", 23],
        [")", ")", 33],
        ["word", "and", 35],
        ["dashWord", "or", 39],
        ["word", "$null", 43],
        ["word", "10.0.1", 49],
        ["word", "eq", 56],
        ["[", "[", 59],
        ["string", "a", 60],
        [",", ",", 63],
        ["string", "b", 64],
        ["]", "]", 67],
        ["end", "", 68],
      ],
    );
  });

  it("reads strings up to the next double quote: no escapes, anything else inside", () => {
    const [backslash, single, multiline, empty] = tokenize(`"a\\" "it's" "a\nb" ""`);
    assert.deepEqual([backslash.kind, backslash.value], ["string", "a\\"]);
    assert.deepEqual([single.kind, single.value], ["string", "it's"]);
    assert.deepEqual([multiline.kind, multiline.value], ["string", "a\nb"]);
    assert.deepEqual([empty.kind, empty.value, empty.text], ["string", "", '""']);
  });

  it("rejects an unterminated string at the end of the rule", () => {
    assertRejected('(device.deviceName -eq "abc', 27, 'a closing " for the string at position 23', "found the end of the rule");
  });

  it("rejects unexpected characters, other quotes and a bare dash", () => {
    assertRejected('(device.deviceName -eq "x") & (device.model -eq "y")', 28, "a property, operator, value or parenthesis", "found '&'");
    assertRejected("(device.deviceName -eq 'x')", 23, "a property, operator, value or parenthesis",
      "found '''; strings take straight double quotes");
    assertRejected("(device.deviceName -eq \u201Cx\u201D)", 23, "a property, operator, value or parenthesis",
      "strings take straight double quotes");
    assertRejected('(device.deviceName - "x")', 19, "an operator name after '-'", "found ' '");
    assertRejected("(device.deviceName -", 19, "an operator name after '-'", "found the end of the rule");
    assertRejected("(device.operatingSystemVersion -gt -1)", 35, "an operator name after '-'", "found '1'");
    assertRejected("(device.operatingSystemVersion -gt 10.)", 37, "a property, operator, value or parenthesis", "found '.'");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Parser

describe("parser: conditions", () => {
  it("parses every operator, with and without the dash, in any case", () => {
    const cases: Record<FilterOperator, [property: string, text: string, value: FilterValue]> = {
      eq: ["deviceName", '"PC-1"', str("PC-1")],
      ne: ["deviceName", '"PC-1"', str("PC-1")],
      startsWith: ["deviceName", '"PC"', str("PC")],
      notStartsWith: ["deviceName", '"PC"', str("PC")],
      contains: ["deviceName", '"C-"', str("C-")],
      notContains: ["deviceName", '"C-"', str("C-")],
      in: ["deviceName", '["PC-1", "PC-2"]', list("PC-1", "PC-2")],
      notIn: ["deviceName", '["PC-1","PC-2"]', list("PC-1", "PC-2")],
      endsWith: ["deviceName", '"-1"', str("-1")],
      notEndsWith: ["deviceName", '"-1"', str("-1")],
      gt: ["operatingSystemVersion", "10.0.22000.1000", version("10.0.22000.1000")],
      ge: ["operatingSystemVersion", "10.0.22000.1000", version("10.0.22000.1000")],
      lt: ["operatingSystemVersion", "10.0.22000.1000", version("10.0.22000.1000")],
      le: ["operatingSystemVersion", "10.0.22000.1000", version("10.0.22000.1000")],
    };
    for (const operator of FILTER_OPERATORS) {
      const [property, text, value] = cases[operator];
      for (const spelling of [`-${operator}`, `-${operator.toUpperCase()}`, operator.toLowerCase(), operator]) {
        assert.deepEqual(parseFilterRule(`(device.${property} ${spelling} ${text})`), cmp(property, operator, value), spelling);
      }
    }
  });

  it("resolves entities and property names case-insensitively to their canonical spelling", () => {
    assert.deepEqual(parseFilterRule('(DEVICE.DEVICENAME -eq "a")'), A);
    assert.deepEqual(parseFilterRule('(Device.operatingsystemsku -eq "Enterprise")'), cmp("operatingSystemSKU", "eq", str("Enterprise")));
    assert.deepEqual(parseFilterRule('(APP.appversion -startsWith "4.")'), cmp("appVersion", "startsWith", str("4."), "app"));
  });

  it("accepts $null and null in any case with -eq and -ne", () => {
    for (const spelling of ["$null", "$Null", "null", "NULL"]) {
      assert.deepEqual(parseFilterRule(`(device.enrollmentProfileName -ne ${spelling})`), cmp("enrollmentProfileName", "ne", NULL));
      assert.deepEqual(parseFilterRule(`(device.isRooted -eq ${spelling})`), cmp("isRooted", "eq", NULL));
      assert.deepEqual(parseFilterRule(`(device.operatingSystemVersion -eq ${spelling})`), cmp("operatingSystemVersion", "eq", NULL));
    }
    assert.deepEqual(parseFilterRule('(device.deviceName -eq "null")'), cmp("deviceName", "eq", str("null")));
  });

  it("reads booleans quoted or not, in any case", () => {
    for (const [text, value] of [["True", true], ['"True"', true], ["FALSE", false], ['"false"', false], ["tRuE", true]] as const) {
      assert.deepEqual(parseFilterRule(`(device.isRooted -eq ${text})`), cmp("isRooted", "eq", bool(value)), text);
    }
    assert.deepEqual(parseFilterRule("(device.isRooted -ne true)"), cmp("isRooted", "ne", bool(true)));
  });

  it("reads version literals bare or quoted, as written", () => {
    assert.deepEqual(parseFilterRule("(device.operatingSystemVersion -eq 14.2.1)"), cmp("operatingSystemVersion", "eq", version("14.2.1")));
    assert.deepEqual(parseFilterRule('(device.operatingSystemVersion -eq "10.0.22000.1000")'),
      cmp("operatingSystemVersion", "eq", version("10.0.22000.1000")));
    assert.deepEqual(parseFilterRule("(device.operatingSystemVersion -le 017)"), cmp("operatingSystemVersion", "le", version("017")));
    assert.deepEqual(parseFilterRule("(app.operatingSystemVersion -gt 10.0.22000.1000)"),
      cmp("operatingSystemVersion", "gt", version("10.0.22000.1000"), "app"));
  });

  it("accepts a condition without its parentheses and free whitespace", () => {
    assert.deepEqual(parseFilterRule('device.deviceName -eq "a"'), A);
    assert.deepEqual(parseFilterRule('\n\t(  device.deviceName\r\n  -eq\n"a"\n)  '), A);
    assert.deepEqual(parseFilterRule('(device.deviceName-eq"a")'), A);
    assert.deepEqual(parseFilterRule('(device.deviceName -in["a" ,"b",  "c"])'), cmp("deviceName", "in", list("a", "b", "c")));
  });

  it("parses the documented examples", () => {
    const examples = [
      '(device.cpuArchitecture -in ["x64", "arm64"])',
      '(device.deviceCategory -eq "Engineering devices")',
      '(device.deviceName -in ["Scott\'s device", "Sara\'s device"])',
      '(device.deviceOwnership -eq "Personal")',
      '(device.deviceTrustType -in ["Hybrid Azure AD joined","Azure AD joined"])',
      '(device.enrollmentProfileName -ne $null)',
      '(device.isRooted -eq "True")',
      '(device.model -contains "iPad Pro 12.9") and (device.model -contains "(2nd generation)")',
      "(device.operatingSystemVersion -gt 10.0.22000.1000)",
      '(device.osVersion -in ["10.15.3 (19D2064)","10.14.2 (18C54)"])',
      '(device.operatingSystemSKU -in ["Enterprise", "EnterpriseS", "EnterpriseN", "EnterpriseEval"])',
      '(device.manufacturer -eq "Samsung") or (device.model -contains "Galaxy Note")',
      '(device.manufacturer -notIn ["Samsung","Lenovo","Microsoft"])',
      '(device.deviceManagementType -eq "Corporate-owned fully managed")',
      '(app.deviceManagementType -eq "Unmanaged")',
      '(app.deviceModel -startsWith "RealityDevice")',
      '(app.appVersion -in ["10.15.3","10.14.2"])',
    ];
    for (const example of examples) assert.doesNotThrow(() => parseFilterRule(example), example);
  });
});

describe("parser: logic", () => {
  it("accepts both spellings of and and or, in any case", () => {
    for (const [dashed, bare] of [["-and", "and"], ["-or", "or"], ["-AND", "AND"], ["-Or", "oR"]]) {
      assert.deepEqual(parseFilterRule(`${a} ${bare} ${b}`), parseFilterRule(`${a} ${dashed} ${b}`));
    }
    assert.deepEqual(parseFilterRule(`${a} -and ${b}`), { kind: "and", left: A, right: B });
    assert.deepEqual(parseFilterRule(`${a} or ${b}`), { kind: "or", left: A, right: B });
  });

  it("gives and precedence over or", () => {
    assert.deepEqual(parseFilterRule(`${a} or ${b} and ${c}`), { kind: "or", left: A, right: { kind: "and", left: B, right: C } });
    assert.deepEqual(parseFilterRule(`${a} -and ${b} -or ${c}`), { kind: "or", left: { kind: "and", left: A, right: B }, right: C });
  });

  it("associates and and or to the left", () => {
    assert.deepEqual(parseFilterRule(`${a} and ${b} and ${c}`), { kind: "and", left: { kind: "and", left: A, right: B }, right: C });
    assert.deepEqual(parseFilterRule(`${a} or ${b} or ${c}`), { kind: "or", left: { kind: "or", left: A, right: B }, right: C });
  });

  it("lets parentheses override precedence and nest freely", () => {
    assert.deepEqual(parseFilterRule(`(${a} or ${b}) and ${c}`), { kind: "and", left: { kind: "or", left: A, right: B }, right: C });
    assert.deepEqual(parseFilterRule(`${a} and (${b} or ${c})`), { kind: "and", left: A, right: { kind: "or", left: B, right: C } });
    assert.deepEqual(parseFilterRule(`((((${a}))))`), A);
    assert.deepEqual(parseFilterRule(`(${a} and ((${b}) or (${c} and ${a})))`), {
      kind: "and", left: A, right: { kind: "or", left: B, right: { kind: "and", left: C, right: A } },
    });
  });
});

describe("parser: errors", () => {
  it("reports a missing value with its exact message", () => {
    const error = ruleErrorOf("(device.model-contains )");
    assert.equal(error.message, "Syntax error at position 23: expected a quoted string but found ')'.");
    assert.equal(error.position, 23);
    assert.equal(error.expected, "a quoted string");
    assert.equal(error.name, "AssignmentFilterRuleError");
    assert.ok(error instanceof Error);
    assertRejected("(device.deviceName -eq )", 23, "a quoted string or $null", "found ')'");
  });

  it("reports what was expected at each point of a condition", () => {
    assertRejected("", 0, "a property such as device.deviceName", "found the end of the rule");
    assertRejected("   ", 3, "a property such as device.deviceName", "found the end of the rule");
    assertRejected('"Windows"', 0, "a property such as device.deviceName", `found '"Windows"'`);
    assertRejected('(device.deviceName "x")', 19, STRING_OPERATOR_LIST, `found '"x"'`);
    assertRejected('(device.deviceName -equals "x")', 19, STRING_OPERATOR_LIST, "found '-equals'");
    assertRejected('(device.deviceName -match "x")', 19, STRING_OPERATOR_LIST, "found '-match'");
    assertRejected("(device.deviceName -eq", 22, "a quoted string or $null", "found the end of the rule");
    assertRejected("(device.deviceName -eq Windows)", 23, "a quoted string or $null", "found 'Windows'");
    assertRejected("(device.deviceName -eq 10)", 23, "a quoted string or $null", "found '10'");
    assertRejected("(device.deviceName -eq true)", 23, "a quoted string or $null", "found 'true'");
    assertRejected("(device.deviceName -startsWith $null)", 31, "a quoted string",
      "found '$null'; $null goes with -eq and -ne only");
    assertRejected("(device.deviceName -in $null)", 23, 'a list such as ["a", "b"]', "found '$null'");
    assertRejected('(device.deviceName -contains ["a"])', 29, "a quoted string", "found '['");
    assertRejected('(device.deviceName -in "a")', 23, 'a list such as ["a", "b"]', `found '"a"'`);
    assertRejected('(device.deviceName -in ["a" "b"])', 28, "',' or ']'", `found '"b"'`);
    assertRejected('(device.deviceName -in ["a",])', 28, "a quoted string", "found ']'");
    assertRejected("(device.deviceName -in [])", 24, "a quoted string", "found ']'");
    assertRejected('(device.deviceName -in ["a"', 27, "',' or ']'", "found the end of the rule");
    assertRejected("(device.isRooted -eq yes)", 21, "True, False or $null", "found 'yes'");
    assertRejected('(device.isRooted -eq "unknown")', 21, "True, False or $null", `found '"unknown"'`);
    assertRejected("(device.operatingSystemVersion -gt abc)", 35, "a version such as 10.0.22000.1000", "found 'abc'");
    assertRejected('(device.operatingSystemVersion -gt "10.0.x")', 35, "a version such as 10.0.22000.1000", `found '"10.0.x"'`);
    assertRejected("(device.operatingSystemVersion -gt $null)", 35, "a version such as 10.0.22000.1000", "found '$null'");
    assertRejected("(device.operatingSystemVersion -eq v10)", 35, "a version such as 10.0.22000.1000 or $null", "found 'v10'");
    assertRejected('(device.operatingSystemVersion -ge "")', 35, "a version such as 10.0.22000.1000", `found '""'`);
    assertRejected('(device.osVersion -eq 10.0)', 22, "a quoted string or $null", "found '10.0'");
  });

  it("names the property and the operator it does not support", () => {
    const equality = "an operator (-eq or -ne)";
    const full = "an operator (-eq, -ne, -in or -notIn)";
    const versions = "an operator (-eq, -ne, -gt, -ge, -lt or -le)";
    assertRejected('(device.cpuArchitecture -contains "arm")', 24, full,
      "found '-contains'; device.cpuArchitecture does not support -contains");
    assertRejected('(device.cpuArchitecture -startsWith "arm")', 24, full, "does not support -startsWith");
    assertRejected('(device.deviceOwnership -in ["Personal"])', 24, equality, "device.deviceOwnership does not support -in");
    assertRejected('(device.deviceTrustType -contains "joined")', 24, full, "device.deviceTrustType does not support -contains");
    assertRejected('(device.deviceManagementType -ne "AOSP userless devices") or (device.deviceManagementType -startsWith "AOSP")', 90, equality,
      "device.deviceManagementType does not support -startsWith");
    assertRejected("(device.isRooted -in [\"True\"])", 17, equality, "device.isRooted does not support -in");
    assertRejected('(device.operatingSystemVersion -in ["10.0.22000.1000"])', 31, versions,
      "device.operatingSystemVersion does not support -in");
    assertRejected('(device.operatingSystemVersion -startsWith "10.0")', 31, versions, "does not support -startsWith");
    assertRejected("(device.osVersion -gt 10.0)", 18, STRING_OPERATOR_LIST, "device.osVersion does not support -gt");
    assertRejected('(device.deviceName -le "b")', 19, STRING_OPERATOR_LIST, "device.deviceName does not support -le");
    assertRejected('(app.deviceManagementType -contains "managed")', 26, equality, "app.deviceManagementType does not support -contains");
    assertRejected('(app.operatingSystemVersion -notIn ["1"])', 28, versions, "does not support -notIn");
  });

  it("reports unbalanced parentheses and dangling logic", () => {
    assertRejected(`(${a}`, 28, "')'", "found the end of the rule");
    assertRejected(`${a})`, 27, "and, or or the end of the rule", "found ')'");
    assertRejected(`${a} ${b}`, 28, "and, or or the end of the rule", "found '('");
    assertRejected(`${a} and`, 31, "a device property", "found the end of the rule");
    assertRejected(`${a} -and -or ${b}`, 33, "a device property", "found '-or'");
    assertRejected("()", 1, "a property such as device.deviceName", "found ')'");
    assertRejected(`${a} not ${b}`, 28, "and, or or the end of the rule", "found 'not'");
    assertRejected(`-not ${a}`, 0, "a property such as device.deviceName", "found '-not'");
  });

  it("rejects a rule that mixes device and app properties", () => {
    assertRejected(`${a} and (app.appVersion -eq "1")`, 33, "a device property",
      "found 'app.appVersion'; a rule reads either device or app properties, not both");
    assertRejected('(app.osVersion -eq "1") or (device.osVersion -eq "1")', 28, "an app property",
      "a rule reads either device or app properties, not both");
  });

  it("names unknown properties and entities", () => {
    assertRejected('(device.colour -eq "red")', 1, "a device property", "found 'device.colour'; 'colour' is not a device property");
    assertRejected('(device.deviceOSType -eq "x")', 1, "a device property", "'deviceOSType' is not a device property");
    assertRejected('(device.appVersion -eq "1")', 1, "a device property", "'appVersion' is not a device property");
    assertRejected('(app.deviceName -eq "1")', 1, "an app property", "'deviceName' is not an app property");
    assertRejected('(user.deviceName -eq "x")', 1, "a property of device or app", "found 'user.deviceName'");
    assertRejected('(deviceName -eq "x")', 1, "a property such as device.deviceName", "found 'deviceName'");
    assertRejected('(device.deviceName.x -eq "x")', 1, "a device property", "'deviceName.x' is not a device property");
    assertRejected('(device. -eq "x")', 7, "a property, operator, value or parenthesis", "found '.'");
  });

  it("checks entities and properties against the platform", () => {
    assertRejected('(device.deviceName -eq "x")', 1, "an app property", "iOSMobileApplicationManagement is a managed-app platform",
      "iOSMobileApplicationManagement");
    assertRejected('(app.appVersion -eq "1")', 1, "a device property", "windows10AndLater is a managed-device platform",
      "windows10AndLater");
    assertRejected('(device.cpuArchitecture -eq "arm64")', 1, "a device property supported on iOS",
      "device.cpuArchitecture does not apply to iOS", "iOS");
    assertRejected('(device.deviceTrustType -eq "Unknown")', 1, "a device property supported on macOS", undefined, "macOS");
    assertRejected('(device.isRooted -eq True)', 1, "a device property supported on windows10AndLater", undefined, "windows10AndLater");
    assertRejected('(device.operatingSystemSKU -eq "Core")', 1, "a device property supported on androidForWork", undefined, "androidForWork");
    assertRejected('(app.deviceManagementType -eq "Unmanaged")', 1, "an app property supported on windowsMobileApplicationManagement",
      undefined, "windowsMobileApplicationManagement");
    assertRejected('(device.deviceName -eq "x")', 1, "a property the platform supports",
      "assignment filters do not support platform windowsPhone81", "windowsPhone81");
    for (const open of [undefined, "unknown", "unknownFutureValue"] as const) {
      assert.doesNotThrow(() => parseFilterRule('(device.cpuArchitecture -eq "x64") and (device.isRooted -eq False)', open));
      assert.doesNotThrow(() => parseFilterRule('(app.appVersion -eq "1")', open));
    }
    assert.doesNotThrow(() => parseFilterRule('(device.isRooted -eq False) and (device.enrollmentProfileName -ne $null)', "iOS"));
    assert.doesNotThrow(() => parseFilterRule('(app.deviceManagementType -eq "Unmanaged")', "androidMobileApplicationManagement"));
  });

  it("accepts only the supported values of closed properties with -eq, -ne, -in and -notIn", () => {
    assertRejected('(device.deviceOwnership -eq "Foo")', 28, 'a device.deviceOwnership value ("Personal", "Corporate", "Unknown")',
      `found '"Foo"'`);
    assertRejected('(device.cpuArchitecture -in ["arm64", "sparc"])', 38,
      'a device.cpuArchitecture value ("amd64", "x86", "arm64", "x64", "unknown")', `found '"sparc"'`);
    assertRejected('(device.cpuArchitecture -eq "x64")', 28,
      'a device.cpuArchitecture value on windows10AndLater ("amd64", "x86", "arm64", "unknown")', undefined, "windows10AndLater");
    assertRejected('(device.cpuArchitecture -eq "amd64")', 28, 'a device.cpuArchitecture value on macOS ("arm64", "x64", "unknown")',
      undefined, "macOS");
    assertRejected('(device.operatingSystemSKU -eq "Ultimate")', 31, 'a device.operatingSystemSKU value ("BusinessN", "CloudEdition", ' +
      '"CloudEditionN", "Core", "CoreCountrySpecific", "CoreN", "CoreSingleLanguage", "Education", "EducationN", "Enterprise", …)');
    assertRejected('(app.deviceManagementType -eq "Managed")', 30, 'an app.deviceManagementType value on androidMobileApplicationManagement ' +
      '("Unmanaged", "Android device administrator", "Android Enterprise", "AOSP user-associated devices", "AOSP userless devices", ' +
      '"Corporate-owned dedicated devices with Entra ID Shared mode", "Corporate-owned dedicated devices without Entra ID Shared mode", ' +
      '"Corporate-owned dedicated devices with Azure AD Shared mode", "Corporate-owned dedicated devices without Azure AD Shared mode", ' +
      '"Corporate-owned with work profile", …)', undefined, "androidMobileApplicationManagement");
    // Compared ignoring case; the partial operators take any text.
    assert.deepEqual(parseFilterRule('(device.deviceTrustType -eq "AZURE AD JOINED")'), cmp("deviceTrustType", "eq", str("AZURE AD JOINED")));
    assert.doesNotThrow(() => parseFilterRule('(device.operatingSystemSKU -startsWith "Ent") or (device.operatingSystemSKU -ne "core")'));
    assert.doesNotThrow(() => parseFilterRule('(app.deviceManagementType -eq "Managed")', "iOSMobileApplicationManagement"));
    assert.doesNotThrow(() => parseFilterRule('(device.deviceManagementType -eq "AOSP userless devices")', "androidAOSP"));
    assertRejected('(device.deviceManagementType -eq "AOSP userless devices")', 33,
      `a device.deviceManagementType value on androidForWork ("Corporate-owned dedicated devices with Entra ID Shared mode", ` +
      `"Corporate-owned dedicated devices without Entra ID Shared mode", "Corporate-owned dedicated devices with Azure AD Shared mode", ` +
      `"Corporate-owned dedicated devices without Azure AD Shared mode", "Corporate-owned with work profile", ` +
      `"Corporate-owned fully managed", "Personally-owned work profile")`, undefined, "androidForWork");
  });

  it("caps rule length at 3,072 characters and nesting at 100 levels", () => {
    const long = `(device.deviceName -eq "${"x".repeat(MAX_RULE_LENGTH)}")`;
    assertRejected(long, MAX_RULE_LENGTH, "a rule of at most 3072 characters", `found ${long.length} characters`);
    const exact = `(device.deviceName -eq "${"x".repeat(MAX_RULE_LENGTH - 26)}")`;
    assert.equal(exact.length, MAX_RULE_LENGTH);
    assert.doesNotThrow(() => parseFilterRule(exact));

    const nested = (depth: number) => "(".repeat(depth) + 'device.deviceName -eq "a"' + ")".repeat(depth);
    assert.deepEqual(parseFilterRule(nested(MAX_NESTING_DEPTH)), A);
    assertRejected(nested(MAX_NESTING_DEPTH + 1), MAX_NESTING_DEPTH, "at most 100 levels of nesting", "found deeper nesting");
    assertRejected("(".repeat(3000), MAX_NESTING_DEPTH, "at most 100 levels of nesting");
    // Long flat chains are not nesting.
    const chain = Array.from({ length: 90 }, () => a).join(" or ");
    assert.ok(chain.length <= MAX_RULE_LENGTH);
    assert.equal(compileFilterRule(chain).matches({ deviceName: "A" }), true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Printer, validate, supported properties, compile

describe("printer", () => {
  it("prints the portal's canonical text with only the grouping parentheses precedence needs", () => {
    const cases: [string, string][] = [
      ['DEVICE.deviceTRUSTtype -IN ["Azure AD joined","Hybrid Azure AD joined"]',
        '(device.deviceTrustType -in ["Azure AD joined", "Hybrid Azure AD joined"])'],
      ['device.deviceName startswith "KIOSK"', '(device.deviceName -startsWith "KIOSK")'],
      ["device.enrollmentProfileName -NE NULL", "(device.enrollmentProfileName -ne $null)"],
      ["device.isRooted -eq true", '(device.isRooted -eq "True")'],
      ['device.operatingSystemVersion -GE "10.0.22000"', "(device.operatingSystemVersion -ge 10.0.22000)"],
      [`(${a} -and ${b}) -or ${c}`, `${a} and ${b} or ${c}`],
      [`${a} and (${b} or ${c})`, `${a} and (${b} or ${c})`],
      [`(${a} or ${b}) and ${c}`, `(${a} or ${b}) and ${c}`],
      [`${a} or (${b} or ${c})`, `${a} or (${b} or ${c})`],
      [`${a} and (${b} and ${c})`, `${a} and (${b} and ${c})`],
      [`((${a}))`, a],
      ['(device.deviceName -eq "a\\b")', '(device.deviceName -eq "a\\b")'],
    ];
    for (const [input, canonical] of cases) {
      const ast = parseFilterRule(input);
      assert.equal(printFilterRule(ast), canonical, input);
      assert.deepEqual(parseFilterRule(canonical), ast, canonical);
    }
  });

  it("refuses to print a string the language cannot express", () => {
    assert.throws(() => printFilterRule(cmp("model", "contains", str('12.9"'))), TypeError);
  });
});

describe("validateFilterRule", () => {
  it("answers like validateFilter, with the first error and its position", () => {
    assert.deepEqual(validateFilterRule('(device.deviceTrustType -eq "Azure AD joined")', "windows10AndLater"), { isValidRule: true });
    assert.deepEqual(validateFilterRule('(device.deviceName -eq )'), {
      isValidRule: false,
      error: { message: "Syntax error at position 23: expected a quoted string or $null but found ')'.", position: 23 },
    });
    const onIos = validateFilterRule('(device.deviceTrustType -eq "Azure AD joined")', "iOS");
    assert.equal(onIos.isValidRule, false);
    assert.equal(onIos.error?.position, 1);
    assert.equal(validateFilterRule("x".repeat(MAX_RULE_LENGTH + 1)).error?.position, MAX_RULE_LENGTH);
  });
});

describe("supportedProperties", () => {
  const byName = (platform: DevicePlatform) => new Map(supportedProperties(platform).map((p) => [p.name, p]));

  it("lists the Windows properties with their operators and values", () => {
    const windows = byName("windows10AndLater");
    assert.deepEqual([...windows.keys()], [
      "cpuArchitecture", "deviceCategory", "deviceName", "deviceOwnership", "deviceTrustType", "enrollmentProfileName",
      "manufacturer", "model", "operatingSystemSKU", "operatingSystemVersion", "osVersion",
    ]);
    assert.deepEqual(windows.get("cpuArchitecture"), {
      dataType: "String", isCollection: false, name: "cpuArchitecture", propertyRegexConstraint: null,
      supportedOperators: ["equals", "notEquals", "in", "notIn"], supportedValues: ["amd64", "x86", "arm64", "unknown"],
    });
    assert.deepEqual(windows.get("deviceOwnership")?.supportedOperators, ["equals", "notEquals"]);
    assert.deepEqual(windows.get("deviceName")?.supportedOperators, [
      "equals", "notEquals", "in", "notIn", "startsWith", "notStartsWith", "contains", "notContains", "endsWith", "notEndsWith",
    ]);
    assert.deepEqual(windows.get("deviceName")?.supportedValues, []);
    assert.deepEqual(windows.get("operatingSystemVersion"), {
      dataType: "Version", isCollection: false, name: "operatingSystemVersion", propertyRegexConstraint: "^[0-9]+(\\.[0-9]+)*$",
      supportedOperators: ["equals", "notEquals", "greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals"],
      supportedValues: [],
    });
    assert.equal(windows.get("operatingSystemSKU")?.supportedValues.length, 30);
  });

  it("lists what each platform has", () => {
    const macOS = byName("macOS");
    assert.deepEqual(macOS.get("cpuArchitecture")?.supportedValues, ["arm64", "x64", "unknown"]);
    assert.equal(macOS.has("deviceTrustType"), false);
    assert.equal(macOS.has("enrollmentProfileName"), false);
    const iOS = byName("iOS");
    assert.deepEqual(iOS.get("isRooted")?.dataType, "Boolean");
    assert.deepEqual(iOS.get("isRooted")?.supportedValues, ["True", "False"]);
    assert.equal(iOS.has("cpuArchitecture"), false);
    assert.deepEqual([...byName("androidAOSP").get("deviceManagementType")!.supportedValues],
      ["AOSP user-associated devices", "AOSP userless devices"]);
    assert.deepEqual([...byName("iOSMobileApplicationManagement").keys()],
      ["appVersion", "deviceManagementType", "deviceManufacturer", "deviceModel", "operatingSystemVersion", "osVersion"]);
    assert.deepEqual([...byName("windowsMobileApplicationManagement").keys()],
      ["appVersion", "deviceManufacturer", "deviceModel", "operatingSystemVersion", "osVersion"]);
    assert.deepEqual(supportedProperties("windowsPhone81"), []);
    assert.deepEqual(supportedProperties("windows81AndLater"), []);
    assert.equal(supportedProperties("unknown").length, 13);
  });

  it("agrees with the parser: every listed operator parses on its platform", () => {
    for (const platform of DEVICE_PLATFORMS) {
      for (const property of supportedProperties(platform)) {
        const entity = FILTER_PROPERTIES.device.some((p) => p.name === property.name) &&
          !["androidMobileApplicationManagement", "iOSMobileApplicationManagement", "windowsMobileApplicationManagement"].includes(platform)
          ? "device" : "app";
        const operators = FILTER_OPERATORS.filter((op) => property.supportedOperators.includes(OPERATOR_NAMES[op]));
        assert.equal(operators.length, property.supportedOperators.length);
        for (const operator of operators) {
          const value = property.dataType === "Version" ? "1.2"
            : property.dataType === "Boolean" ? "True"
              : operator === "in" || operator === "notIn" ? `["${property.supportedValues[0] ?? "x"}"]`
                : `"${property.supportedValues[0] ?? "x"}"`;
          const rule = `(${entity}.${property.name} -${operator} ${value})`;
          assert.doesNotThrow(() => parseFilterRule(rule, platform), `${rule} on ${platform}`);
        }
      }
    }
  });
});

const OPERATOR_NAMES: Record<FilterOperator, AssignmentFilterOperatorName> = {
  eq: "equals", ne: "notEquals", startsWith: "startsWith", notStartsWith: "notStartsWith", contains: "contains",
  notContains: "notContains", in: "in", notIn: "notIn", endsWith: "endsWith", notEndsWith: "notEndsWith",
  gt: "greaterThan", ge: "greaterThanOrEquals", lt: "lessThan", le: "lessThanOrEquals",
};

describe("compileFilterRule", () => {
  it("keeps the tree and reports the entity and the properties read, in order", () => {
    const compiled = compileFilterRule(
      '(device.MODEL -eq "a") and ((device.operatingSystemVersion -gt 10.0) or (device.model -contains "b")) or (device.isRooted -eq false)');
    assert.deepEqual(compiled.properties, ["model", "operatingSystemVersion", "isRooted"]);
    assert.equal(compiled.entity, "device");
    assert.deepEqual(compiled.ast.kind, "or");
    assert.equal(compileFilterRule('(app.appVersion -eq "1")').entity, "app");
    assert.throws(() => compileFilterRule("(device.model"), AssignmentFilterRuleError);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Evaluation tables

describe("evaluation", () => {
  it("compares operatingSystemVersion part by part, numerically", () => {
    assertTable("(device.operatingSystemVersion -gt 10.0.22000.1000)", [
      [{ operatingSystemVersion: "10.0.22000.1001" }, true],
      [{ operatingSystemVersion: "10.0.22000.1000" }, false],
      [{ operatingSystemVersion: "10.0.22631.3235" }, true],
      [{ operatingSystemVersion: "10.0.19045.4170" }, false],
      [{ operatingSystemVersion: "10.0.22000.999" }, false], // 999 < 1000: numeric, not textual
      [{ operatingSystemVersion: "10.0.22000" }, false], // missing parts are 0
      [{ operatingSystemVersion: "10.0.22000.1000.1" }, true],
      [{ operatingSystemVersion: "10.1" }, true],
      [{ operatingSystemVersion: "11" }, true],
      [{ operatingSystemVersion: "9.99.99999.99999" }, false],
      [{ operatingSystemVersion: "010.000.022000.01000" }, false], // leading zeros: equal
      [{ operatingSystemVersion: "10.0.22000.99999999999999999999" }, true], // beyond 2^53, still exact
      [{ operatingSystemVersion: "10.0.22631.3235 (build)" }, true],
      [{ operatingSystemVersion: "Windows 10" }, false],
      [{ operatingSystemVersion: "10.0.22631.x" }, false],
      [{ operatingSystemVersion: "10.0." }, false],
      [{ operatingSystemVersion: "" }, false],
      [{ operatingSystemVersion: null }, false],
      [{}, false],
    ]);
    assertTable("(device.operatingSystemVersion -le 10.0.22631.3235)", [
      [{ operatingSystemVersion: "10.0.22631.3235" }, true],
      [{ operatingSystemVersion: "10.0.22631.3236" }, false],
      [{ operatingSystemVersion: "10.0.19045" }, true],
      [{ operatingSystemVersion: "abc" }, false],
    ]);
    assertTable("(device.operatingSystemVersion -lt 17) or (device.operatingSystemVersion -ge 17.4.1)", [
      [{ operatingSystemVersion: "16.7.5" }, true],
      [{ operatingSystemVersion: "17.0" }, false],
      [{ operatingSystemVersion: "17.4" }, false],
      [{ operatingSystemVersion: "17.4.1" }, true],
      [{ operatingSystemVersion: "14.4.1 (23E224)" }, true],
      [{ operatingSystemVersion: "17.4.1a" }, false],
    ]);
  });

  it("treats -eq and -ne on versions as version equality, not text", () => {
    assertTable("(device.operatingSystemVersion -eq 10.0)", [
      [{ operatingSystemVersion: "10.0" }, true],
      [{ operatingSystemVersion: "10" }, true],
      [{ operatingSystemVersion: "10.0.0.0" }, true],
      [{ operatingSystemVersion: "10.00" }, true],
      [{ operatingSystemVersion: "10.0.0.1" }, false],
      [{ operatingSystemVersion: "not a version" }, false],
      [{ operatingSystemVersion: null }, false],
    ]);
    assertTable('(device.operatingSystemVersion -ne "10.0")', [
      [{ operatingSystemVersion: "10.0.1" }, true],
      [{ operatingSystemVersion: "10.0.0" }, false],
      [{ operatingSystemVersion: "not a version" }, true],
      [{}, true],
    ]);
    assertTable("(device.operatingSystemVersion -eq $null)", [[{}, true], [{ operatingSystemVersion: "x" }, false]]);
  });

  it("tests $null: a missing property matches -eq $null and every negative test", () => {
    assertTable("(device.enrollmentProfileName -ne $null)", [
      [{ enrollmentProfileName: "Autopilot - User Driven" }, true],
      [{ enrollmentProfileName: "" }, true],
      [{ enrollmentProfileName: null }, false],
      [{ enrollmentProfileName: undefined }, false],
      [{}, false],
    ]);
    assertTable("(device.enrollmentProfileName -eq null)", [[{}, true], [{ enrollmentProfileName: "" }, false]]);
    const missing = {};
    for (const [rule, expected] of [
      ['(device.deviceCategory -eq "x")', false], ['(device.deviceCategory -ne "x")', true],
      ['(device.deviceCategory -in ["x"])', false], ['(device.deviceCategory -notIn ["x"])', true],
      ['(device.deviceCategory -startsWith "")', false], ['(device.deviceCategory -notStartsWith "x")', true],
      ['(device.deviceCategory -contains "")', false], ['(device.deviceCategory -notContains "x")', true],
      ['(device.deviceCategory -endsWith "")', false], ['(device.deviceCategory -notEndsWith "x")', true],
    ] as const) {
      assertTable(rule, [[missing, expected], [{ deviceCategory: null }, expected]]);
    }
  });

  it("tests membership with -in and -notIn, ignoring case", () => {
    assertTable('(device.deviceTrustType -in ["Hybrid Azure AD joined","Azure AD joined"])', [
      [{ deviceTrustType: "Azure AD joined" }, true],
      [{ deviceTrustType: "AZURE AD JOINED" }, true],
      [{ deviceTrustType: "hybrid azure ad joined" }, true],
      [{ deviceTrustType: "Azure AD registered" }, false],
      [{ deviceTrustType: "Azure AD joined " }, false],
      [{ deviceTrustType: null }, false],
    ]);
    assertTable('(device.deviceTrustType -notIn ["Hybrid Azure AD joined","Azure AD joined"])', [
      [{ deviceTrustType: "Azure AD registered" }, true],
      [{ deviceTrustType: "hybrid azure AD JOINED" }, false],
      [{}, true],
    ]);
    const many = Array.from({ length: 12 }, (_, i) => `"Model ${i}"`).join(",");
    assertTable(`(device.model -in [${many}, "Ünïcode"])`, [
      [{ model: "MODEL 11" }, true],
      [{ model: "model 12" }, false],
      [{ model: "ÜNÏCODE" }, true],
    ]);
  });

  it("compares strings ignoring case with every string operator", () => {
    assertTable('(device.manufacturer -eq "Microsoft Corporation")', [
      [{ manufacturer: "Microsoft Corporation" }, true],
      [{ manufacturer: "microsoft corporation" }, true],
      [{ manufacturer: "MICROSOFT CORPORATION" }, true],
      [{ manufacturer: "Microsoft" }, false],
    ]);
    assertTable('(device.model -startsWith "Surface")', [
      [{ model: "surface Laptop 5" }, true], [{ model: "Surf" }, false], [{ model: "My Surface" }, false]]);
    assertTable('(device.model -notStartsWith "Surface")', [[{ model: "SURFACE Hub" }, false], [{ model: "Latitude" }, true]]);
    assertTable('(device.model -contains "book")', [[{ model: "Surface Book 3" }, true], [{ model: "MacBookPro18,3" }, true],
      [{ model: "Latitude" }, false]]);
    assertTable('(device.model -notContains "Surface Hub")', [[{ model: "Surface Hub 2S" }, false], [{ model: "Surface Pro" }, true]]);
    assertTable('(device.deviceName -endsWith "-lab")', [[{ deviceName: "PC-7-LAB" }, true], [{ deviceName: "LAB-PC" }, false],
      [{ deviceName: "lab" }, false]]);
    assertTable('(device.deviceName -notEndsWith "-LAB")', [[{ deviceName: "pc-7-lab" }, false], [{ deviceName: "PC-7" }, true]]);
    assertTable('(device.deviceName -eq "")', [[{ deviceName: "" }, true], [{ deviceName: " " }, false]]);
  });

  it("folds case like toLowerCase beyond ASCII", () => {
    // The Kelvin sign lower-cases to an ASCII k; İ lower-cases to i + U+0307; ß has no ASCII fold.
    assertTable('(device.deviceName -eq "kiosk")', [[{ deviceName: "\u212Aiosk" }, true], [{ deviceName: "KİOSK" }, false]]);
    assertTable('(device.deviceName -startsWith "i")', [[{ deviceName: "İstanbul" }, true]]);
    assertTable('(device.deviceName -endsWith "k")', [[{ deviceName: "Kios\u212A" }, true]]);
    assertTable('(device.deviceName -eq "STRASSE")', [[{ deviceName: "straße" }, false], [{ deviceName: "strasse" }, true]]);
    assertTable('(device.deviceName -eq "ÉCOLE")', [[{ deviceName: "école" }, true], [{ deviceName: "ecole" }, false]]);
  });

  it("reads isRooted as a boolean, also from text", () => {
    assertTable('(device.isRooted -eq "True")', [
      [{ isRooted: true }, true], [{ isRooted: "true" }, true], [{ isRooted: "TRUE" }, true],
      [{ isRooted: false }, false], [{ isRooted: "yes" }, false], [{ isRooted: null }, false], [{}, false],
    ]);
    assertTable("(device.isRooted -ne True)", [[{ isRooted: false }, true], [{}, true], [{ isRooted: true }, false]]);
    assertTable("(device.isRooted -eq $null)", [[{}, true], [{ isRooted: false }, false], [{ isRooted: "unknown" }, true]]);
  });

  it("reads a boolean in a string property as its text", () => {
    assertTable('(device.deviceName -eq "TRUE")', [[{ deviceName: true }, true], [{ deviceName: false }, false]]);
  });

  it("combines with and before or", () => {
    const rule = '(device.deviceOwnership -eq "Corporate") and (device.model -startsWith "Surface") or (device.deviceName -startsWith "KIOSK-")';
    assertTable(rule, [
      [{ deviceOwnership: "Corporate", model: "Surface Pro" }, true],
      [{ deviceOwnership: "Personal", model: "Surface Pro" }, false],
      [{ deviceOwnership: "Personal", deviceName: "kiosk-12" }, true],
      [{ deviceOwnership: "Corporate", model: "Latitude", deviceName: "KIOSK-1" }, true],
      [{}, false],
    ]);
    assertTable('(device.deviceOwnership -eq "Corporate") and ((device.model -startsWith "Surface") or (device.deviceName -startsWith "KIOSK-"))', [
      [{ deviceOwnership: "Personal", deviceName: "kiosk-12" }, false],
      [{ deviceOwnership: "corporate", deviceName: "kiosk-12" }, true],
    ]);
  });

  it("evaluates managed-app rules", () => {
    assertTable('(app.deviceManagementType -eq "Unmanaged") and (app.appVersion -startsWith "4.") and (app.operatingSystemVersion -ge 17.0)', [
      [{ deviceManagementType: "unmanaged", appVersion: "4.2.1", operatingSystemVersion: "17.4.1" }, true],
      [{ deviceManagementType: "Managed", appVersion: "4.2.1", operatingSystemVersion: "17.4.1" }, false],
      [{ deviceManagementType: "Unmanaged", appVersion: "4.2.1", operatingSystemVersion: "16.7" }, false],
    ], "iOSMobileApplicationManagement");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests

/** Text the language can hold: no double quote. */
const ALPHABET = ["a", "A", "b", "B", "k", "K", "\u212A", "i", "I", "İ", "ß", "é", "É", "-", " ", ".", "1", "\\", "'", "(", ")", "[", ",", "$"];
const text = (maxLength: number) => fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength });
const caseVariant = (value: string) =>
  fc.constantFrom(value, value.toLowerCase(), value.toUpperCase());

const versionLiteral = fc.array(
  fc.oneof(fc.nat({ max: 12 }).map(String), fc.constantFrom("0", "00", "007", "22000", "99999999999999999999")),
  { minLength: 1, maxLength: 5 },
).map((parts) => parts.join("."));

function ruleArbitrary(entity: FilterEntity, depth: number): fc.Arbitrary<FilterRuleExpr> {
  const leaf = fc.constantFrom(...FILTER_PROPERTIES[entity]).chain((definition) =>
    fc.constantFrom(...definition.operators).chain((operator): fc.Arbitrary<FilterRuleExpr> => {
      const equality = operator === "eq" || operator === "ne";
      const supported = supportedValuesFor(definition, undefined);
      const item = supported.length > 0 && !["startsWith", "notStartsWith", "contains", "notContains", "endsWith", "notEndsWith"].includes(operator)
        ? fc.constantFrom(...supported).chain(caseVariant)
        : text(4);
      let value: fc.Arbitrary<FilterValue>;
      if (definition.dataType === "Boolean") value = fc.oneof(fc.boolean().map(bool), fc.constant(NULL));
      else if (definition.dataType === "Version") value = equality ? fc.oneof({ weight: 4, arbitrary: versionLiteral.map(version) }, fc.constant(NULL)) : versionLiteral.map(version);
      else if (operator === "in" || operator === "notIn") value = fc.array(item, { minLength: 1, maxLength: 3 }).map((values) => list(...values));
      else if (equality) value = fc.oneof({ weight: 4, arbitrary: item.map(str) }, fc.constant(NULL));
      else value = item.map(str);
      return value.map((v) => cmp(definition.name, operator, v, entity));
    }));
  let expr: fc.Arbitrary<FilterRuleExpr> = leaf;
  for (let level = 0; level < depth; level++) {
    const sub = expr;
    expr = fc.oneof(
      { weight: 2, arbitrary: leaf },
      { weight: 2, arbitrary: fc.tuple(sub, sub).map(([left, right]): FilterRuleExpr => ({ kind: "and", left, right })) },
      { weight: 2, arbitrary: fc.tuple(sub, sub).map(([left, right]): FilterRuleExpr => ({ kind: "or", left, right })) },
    );
  }
  return expr;
}
const entities = fc.constantFrom<FilterEntity>("device", "app");

/** Words a rule is made of, for soups and edits. */
const VOCABULARY = [
  "(", ")", "[", "]", ",", '"', '"x"', '""', "and", "-and", "or", "-OR", "not", "-eq", "eq", "-ne", "-in", "-notIn", "-gt",
  "-le", "-startsWith", "-contains", "-endsWith", "-", "$null", "null", "True", "false", "10.0.22000", "1.", "..",
  "device.deviceName", "device.operatingSystemVersion", "device.isRooted", "device.cpuArchitecture", "app.appVersion",
  "device.", "device.nope", "user.city", "'", "`", "\\", " ", "\n", "\u0000", "💻",
];

function assertWellBehaved(input: string): void {
  const started = performance.now();
  for (const platform of [undefined, "windows10AndLater", "iOSMobileApplicationManagement"] as const) {
    try {
      const ast = parseFilterRule(input, platform);
      const printed = printFilterRule(ast); // canonical text can outgrow the limit: `x eq "a"` → `(x -eq "a")`
      if (printed.length <= MAX_RULE_LENGTH) assert.deepEqual(parseFilterRule(printed, platform), ast);
      compileFilterExpr(ast).matches({ deviceName: "x", operatingSystemVersion: "10.0" });
      assert.equal(validateFilterRule(input, platform).isValidRule, true);
    } catch (error) {
      if (!(error instanceof AssignmentFilterRuleError)) throw error;
      assert.ok(Number.isInteger(error.position) && error.position >= 0 && error.position <= input.length, `position ${error.position}`);
      assert.match(error.message, /^Syntax error at position \d+: expected .+ but found .+\.$/s);
      assert.deepEqual(validateFilterRule(input, platform), { isValidRule: false, error: { message: error.message, position: error.position } });
    }
  }
  // A hang guard, not a speed target (bench/assignmentFilter measures speed): a backtracking blow-up takes seconds to
  // forever, while a loaded CI machine can stretch a normal parse past a few hundred milliseconds.
  assert.ok(performance.now() - started < 2000, `took ${performance.now() - started} ms: ${JSON.stringify(input.slice(0, 80))}`);
}

/** The reference: the semantics written out directly over the tree, sharing nothing with compile.ts. */
function interpret(ast: FilterRuleExpr, device: Record<string, unknown>): boolean {
  switch (ast.kind) {
    case "and": return interpret(ast.left, device) && interpret(ast.right, device);
    case "or": return interpret(ast.left, device) || interpret(ast.right, device);
    case "comparison": break;
  }
  const raw = device[ast.property];
  const actual = typeof raw === "string" ? raw : typeof raw === "boolean" ? String(raw) : null;
  const { operator, value } = ast;
  const negated = operator === "ne" || operator.startsWith("not");
  const lower = (s: string) => s.toLowerCase();
  let positive: boolean;
  switch (value.kind) {
    case "null":
      positive = ast.property === "isRooted" ? readBooleanRef(raw) === null : actual === null;
      break;
    case "boolean":
      positive = readBooleanRef(raw) === value.value;
      break;
    case "version": {
      const order = actual === null ? NaN : compareVersions(actual, value.value);
      const results: Record<string, boolean> = {
        eq: order === 0, ne: order === 0, gt: order > 0, ge: order >= 0, lt: order < 0, le: order <= 0,
      };
      positive = results[operator];
      break;
    }
    case "list":
      positive = actual !== null && value.values.some((v) => lower(v) === lower(actual));
      break;
    case "string": {
      const w = lower(value.value);
      const x = actual === null ? null : lower(actual);
      const tests: Record<string, (x: string) => boolean> = {
        eq: (s) => s === w, ne: (s) => s === w, startsWith: (s) => s.startsWith(w), notStartsWith: (s) => s.startsWith(w),
        contains: (s) => s.includes(w), notContains: (s) => s.includes(w), endsWith: (s) => s.endsWith(w),
        notEndsWith: (s) => s.endsWith(w),
      };
      positive = x !== null && tests[operator](x);
      break;
    }
  }
  return negated ? !positive : positive;
}

function readBooleanRef(raw: unknown): boolean | null {
  if (typeof raw === "boolean") return raw;
  return typeof raw === "string" && /^(true|false)$/i.test(raw) ? raw.toLowerCase() === "true" : null;
}

function compareVersions(actual: string, literal: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)*)(?: +\([\s\S]*\))?$/.exec(actual);
  if (m === null) return NaN;
  const x = m[1].split(".").map(BigInt);
  const y = literal.split(".").map(BigInt);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const [p, q] = [x[i] ?? 0n, y[i] ?? 0n];
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const ALL_PROPERTY_NAMES = [...new Set([...FILTER_PROPERTIES.device, ...FILTER_PROPERTIES.app].map((p) => p.name))];
const ALL_SUPPORTED_VALUES = [...FILTER_PROPERTIES.device, ...FILTER_PROPERTIES.app].flatMap((p) => p.supportedValues.map((v) => v.value));

const deviceValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text(4) },
  { weight: 2, arbitrary: fc.constantFrom(...ALL_SUPPORTED_VALUES).chain(caseVariant) },
  { weight: 3, arbitrary: versionLiteral },
  {
    weight: 1,
    arbitrary: fc.tuple(versionLiteral, fc.constantFrom(" (23E224)", "  ()", " (", " )", ".", "..1", "a", " ", "x.1")).map(([v, s]) => v + s),
  },
  { weight: 1, arbitrary: fc.constantFrom("true", "False", "TRUE", "yes", "") },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
);
const devices = fc.array(
  fc.dictionary(fc.constantFrom(...ALL_PROPERTY_NAMES), deviceValue, { maxKeys: ALL_PROPERTY_NAMES.length }),
  { minLength: 1, maxLength: 6 },
);

/** The literals a rule compares with, so that generated devices hit them (exactly, in another case, or around them). */
function literalsOf(ast: FilterRuleExpr): string[] {
  if (ast.kind !== "comparison") return [...literalsOf(ast.left), ...literalsOf(ast.right)];
  const { value } = ast;
  return value.kind === "string" || value.kind === "version" ? [value.value] : value.kind === "list" ? [...value.values] : [];
}

/** Devices whose values are near the rule's literals about half of the time. */
function devicesFor(ast: FilterRuleExpr): fc.Arbitrary<Record<string, unknown>[]> {
  const literals = literalsOf(ast);
  const near = literals.length === 0 ? deviceValue : fc.constantFrom(...literals).chain((literal) => fc.oneof(
    caseVariant(literal),
    fc.tuple(text(2), text(2)).map(([before, after]) => before + literal + after),
    fc.nat({ max: literal.length }).map((n) => literal.slice(0, n)),
    fc.nat({ max: literal.length }).map((n) => literal.slice(n)),
  ));
  const value = fc.oneof(near, deviceValue, fc.boolean());
  const names = [...new Set(propertiesOf(ast))];
  return fc.array(
    fc.record(Object.fromEntries(names.map((name) => [name, value])), { requiredKeys: [] }),
    { minLength: 1, maxLength: 6 },
  );
}

function propertiesOf(ast: FilterRuleExpr): string[] {
  return ast.kind === "comparison" ? [ast.property] : [...propertiesOf(ast.left), ...propertiesOf(ast.right)];
}

describe("property tests", () => {
  it("prints any tree to text that parses back to the same tree", () => {
    fc.assert(
      fc.property(entities.chain((entity) => ruleArbitrary(entity, 4)), (ast) => {
        const printed = printFilterRule(ast);
        fc.pre(printed.length <= MAX_RULE_LENGTH);
        assert.deepEqual(parseFilterRule(printed), ast, printed);
        assert.equal(printFilterRule(parseFilterRule(printed)), printed);
      }),
      { numRuns: 1500 },
    );
  });

  it("throws nothing but AssignmentFilterRuleError, with a position inside the text, and never hangs", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), assertWellBehaved), { numRuns: 1000 });
    const soup = fc.tuple(fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 40 }), fc.constantFrom(" ", ""))
      .map(([words, separator]) => words.join(separator));
    fc.assert(fc.property(soup, assertWellBehaved), { numRuns: 3000 });
    const edited = fc.tuple(entities.chain((entity) => ruleArbitrary(entity, 2)), fc.nat(), fc.nat({ max: 12 }),
      fc.option(fc.constantFrom(...VOCABULARY)))
      .map(([ast, at, cut, insert]) => {
        const printed = printFilterRule(ast);
        const i = at % (printed.length + 1);
        return printed.slice(0, i) + (insert ?? "") + printed.slice(i + cut);
      });
    fc.assert(fc.property(edited, assertWellBehaved), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ minLength: MAX_RULE_LENGTH + 1, maxLength: MAX_RULE_LENGTH + 50 }), assertWellBehaved), { numRuns: 20 });
    for (const hostile of ["(".repeat(MAX_RULE_LENGTH), `${"(".repeat(99)}${a}${")".repeat(99)}`.repeat(2), '"'.repeat(MAX_RULE_LENGTH),
      Array.from({ length: 130 }, () => 'device.model eq "x"').join(" or ").slice(0, MAX_RULE_LENGTH)]) {
      assertWellBehaved(hostile);
    }
  });

  it("compiled predicates agree with a direct interpreter of the tree", () => {
    fc.assert(
      fc.property(entities.chain((entity) => ruleArbitrary(entity, 3)).chain((ast) => fc.tuple(fc.constant(ast), fc.oneof(devicesFor(ast), devices))), ([ast, records]) => {
        const compiled = compileFilterExpr(ast);
        const reparsed = compileFilterRule(printFilterRule(ast));
        for (const record of records) {
          const expected = interpret(ast, record);
          assert.equal(compiled.matches(record as FilterableDevice), expected, `${printFilterRule(ast)} on ${JSON.stringify(record)}`);
          assert.equal(reparsed.matches(record as FilterableDevice), expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("compares versions like the reference on dense inputs", () => {
    fc.assert(
      fc.property(versionLiteral, deviceValue, fc.constantFrom<FilterOperator>("eq", "ne", "gt", "ge", "lt", "le"), (literal, actual, operator) => {
        const ast = cmp("operatingSystemVersion", operator, version(literal));
        const record = { operatingSystemVersion: actual };
        assert.equal(compileFilterExpr(ast).matches(record as FilterableDevice), interpret(ast, record),
          `${printFilterRule(ast)} on ${JSON.stringify(actual)}`);
      }),
      { numRuns: 5000 },
    );
  });
});
