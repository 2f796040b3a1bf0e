import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  MembershipRuleError,
  compileMembershipRule,
  parseMembershipRule,
  printMembershipRule,
  propertiesReadBy,
  type ComparisonOperator,
  type ElementTest,
  type RuleExpr,
  type RuleSubject,
  type RuleValue,
} from "../../src/directory/membershipRule/index.js";
import {
  COMPARISON_OPERATORS,
  MAX_MATCH_INPUT_LENGTH,
  MAX_NESTING_DEPTH,
  MAX_RULE_LENGTH,
  SUBJECT_PROPERTIES,
} from "../../src/directory/membershipRule/ast.js";
import { tokenize } from "../../src/directory/membershipRule/lexer.js";
import { compilePattern } from "../../src/directory/membershipRule/pattern.js";

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const osType = (operator: ComparisonOperator, value: RuleValue): RuleExpr => ({
  kind: "comparison", property: { subject: "device", name: "deviceOSType" }, operator, value,
});
const str = (value: string): RuleValue => ({ kind: "string", value });
const A = osType("eq", str("a"));
const B = osType("eq", str("b"));
const C = osType("eq", str("c"));
const [a, b, c] = ['device.deviceOSType -eq "a"', 'device.deviceOSType -eq "b"', 'device.deviceOSType -eq "c"'];

function ruleErrorOf(text: string): MembershipRuleError {
  try {
    parseMembershipRule(text);
  } catch (error) {
    assert.ok(error instanceof MembershipRuleError, `expected a MembershipRuleError for ${text}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

function assertRejected(text: string, position: number, expected: string, messagePart?: string): void {
  const error = ruleErrorOf(text);
  assert.equal(error.position, position, `position for ${text}: ${error.message}`);
  assert.equal(error.expected, expected, `expected-part for ${text}: ${error.message}`);
  assert.match(error.message, new RegExp(`^Syntax error at position ${position}: expected `));
  if (messagePart !== undefined) assert.ok(error.message.includes(messagePart), error.message);
}

type Row = readonly [record: Record<string, unknown>, expected: boolean];

function assertTable(rule: string, rows: readonly Row[]): void {
  const compiled = compileMembershipRule(rule);
  for (const [record, expected] of rows) {
    assert.equal(compiled.matches(record), expected, `${rule} on ${JSON.stringify(record)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

describe("lexer", () => {
  it("splits a rule into positioned tokens", () => {
    const tokens = tokenize('(device.deviceOSType -EQ "Win dows") and -not x');
    assert.deepEqual(
      tokens.map((t) => [t.kind, t.value, t.position]),
      [
        ["(", "(", 0],
        ["word", "device.deviceOSType", 1],
        ["dashWord", "EQ", 21],
        ["string", "Win dows", 25],
        [")", ")", 35],
        ["word", "and", 37],
        ["dashWord", "not", 41],
        ["word", "x", 46],
        ["end", "", 47],
      ],
    );
  });

  it("reads single quotes, backtick escapes and line breaks inside strings", () => {
    const [single, escaped, multiline] = tokenize(`'it"s' "say \`"hi\`" \`\`" "a\nb"`);
    assert.deepEqual([single.kind, single.value], ["string", 'it"s']);
    assert.deepEqual([escaped.kind, escaped.value, escaped.text], ["string", 'say "hi" `', '"say `"hi`" ``"']);
    assert.deepEqual([multiline.kind, multiline.value], ["string", "a\nb"]);
  });

  it("reads lists and punctuation", () => {
    assert.deepEqual(tokenize('["a",\'b\']').map((t) => t.kind), ["[", "string", ",", "string", "]", "end"]);
  });

  it("rejects an unterminated string at the end of the rule", () => {
    assertRejected('device.displayName -eq "abc', 27, 'a closing " for the string at position 23', "found the end of the rule");
  });

  it("rejects an unexpected character and a bare dash", () => {
    assertRejected('device.displayName $ "x"', 19, "a property, operator, value or parenthesis", "found '$'");
    assertRejected('device.displayName - "x"', 19, "an operator name after '-'", "found ' '");
    assertRejected("device.displayName -", 19, "an operator name after '-'", "found the end of the rule");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Parser

describe("parser: conditions", () => {
  it("parses every comparison operator, in any case", () => {
    const values: Record<ComparisonOperator, [string, RuleValue]> = {
      eq: ['"Windows"', str("Windows")],
      ne: ['"Windows"', str("Windows")],
      startsWith: ['"Win"', str("Win")],
      notStartsWith: ['"Win"', str("Win")],
      contains: ['"ind"', str("ind")],
      notContains: ['"ind"', str("ind")],
      match: ['"^Win.*s$"', str("^Win.*s$")],
      notMatch: ['"^Win.*s$"', str("^Win.*s$")],
      in: ['["Windows", "iOS"]', { kind: "list", values: ["Windows", "iOS"] }],
      notIn: ['["Windows", "iOS"]', { kind: "list", values: ["Windows", "iOS"] }],
    };
    for (const operator of COMPARISON_OPERATORS) {
      const [text, value] = values[operator];
      for (const spelling of [operator, operator.toUpperCase(), operator.toLowerCase()]) {
        assert.deepEqual(parseMembershipRule(`device.deviceOSType -${spelling} ${text}`), osType(operator, value), spelling);
      }
    }
  });

  it("resolves subjects and property names case-insensitively to their canonical spelling", () => {
    assert.deepEqual(parseMembershipRule('DEVICE.DEVICEOSTYPE -eq "a"'), A);
    assert.deepEqual(parseMembershipRule('User.userprincipalname -eq "a"'), {
      kind: "comparison", property: { subject: "user", name: "userPrincipalName" }, operator: "eq", value: str("a"),
    });
    assert.deepEqual(parseMembershipRule('user.EXTENSIONATTRIBUTE15 -eq "a"'), {
      kind: "comparison", property: { subject: "user", name: "extensionAttribute15" }, operator: "eq", value: str("a"),
    });
  });

  it("parses true, false and null in any case", () => {
    const rooted = (operator: ComparisonOperator, value: RuleValue): RuleExpr => ({
      kind: "comparison", property: { subject: "device", name: "isRooted" }, operator, value,
    });
    assert.deepEqual(parseMembershipRule("device.isRooted -eq TRUE"), rooted("eq", { kind: "boolean", value: true }));
    assert.deepEqual(parseMembershipRule("device.isRooted -ne false"), rooted("ne", { kind: "boolean", value: false }));
    assert.deepEqual(parseMembershipRule("device.isRooted -eq Null"), rooted("eq", { kind: "null" }));
    assert.deepEqual(parseMembershipRule("device.deviceOSType -ne null"), osType("ne", { kind: "null" }));
  });

  it("parses quoted values: double, single, escaped and empty", () => {
    assert.deepEqual(parseMembershipRule("device.deviceOSType -eq 'a'"), A);
    assert.deepEqual(parseMembershipRule('device.deviceOSType -eq "Sales`"s"'), osType("eq", str('Sales"s')));
    assert.deepEqual(parseMembershipRule('device.deviceOSType -eq ""'), osType("eq", str("")));
    assert.deepEqual(parseMembershipRule("device.deviceOSType -in []"), osType("in", { kind: "list", values: [] }));
    assert.deepEqual(parseMembershipRule("device.deviceOSType -in ['a',\"b\" , 'c']"),
      osType("in", { kind: "list", values: ["a", "b", "c"] }));
  });

  it("parses -any and -all over multi-valued properties", () => {
    const physicalIds = (quantifier: "any" | "all", element: ElementTest): RuleExpr => ({
      kind: "collection", property: { subject: "device", name: "devicePhysicalIds" }, quantifier, element,
    });
    const tag = { operator: "eq", value: str("[OrderID]:tag") } as const;
    assert.deepEqual(parseMembershipRule('device.devicePhysicalIds -any (_ -eq "[OrderID]:tag")'), physicalIds("any", tag));
    assert.deepEqual(parseMembershipRule('device.devicePhysicalIds -ALL ((_ -eq "[OrderID]:tag"))'), physicalIds("all", tag));
    assert.deepEqual(parseMembershipRule('(device.devicePhysicalIds -any (_ -startsWith "[ZTDId]"))'),
      physicalIds("any", { operator: "startsWith", value: str("[ZTDId]") }));
    assert.deepEqual(parseMembershipRule('user.proxyAddresses -any (_ -contains "contoso")'), {
      kind: "collection", property: { subject: "user", name: "proxyAddresses" }, quantifier: "any",
      element: { operator: "contains", value: str("contoso") },
    });
    assert.deepEqual(parseMembershipRule('device.systemLabels -any (_ -in ["a"])'), {
      kind: "collection", property: { subject: "device", name: "systemLabels" }, quantifier: "any",
      element: { operator: "in", value: { kind: "list", values: ["a"] } },
    });
  });
});

describe("parser: logic", () => {
  it("accepts both spellings of and, or, not in any case", () => {
    for (const [dashed, bare] of [["-and", "and"], ["-or", "or"], ["-AND", "AND"], ["-Or", "oR"]]) {
      assert.deepEqual(parseMembershipRule(`${a} ${bare} ${b}`), parseMembershipRule(`${a} ${dashed} ${b}`));
    }
    assert.deepEqual(parseMembershipRule(`${a} -and ${b}`), { kind: "and", left: A, right: B });
    assert.deepEqual(parseMembershipRule(`${a} or ${b}`), { kind: "or", left: A, right: B });
    for (const not of ["-not", "not", "NOT", "-Not"]) {
      assert.deepEqual(parseMembershipRule(`${not} ${a}`), { kind: "not", operand: A }, not);
    }
  });

  it("gives not precedence over and, and and over or", () => {
    assert.deepEqual(parseMembershipRule(`${a} -or ${b} -and ${c}`),
      { kind: "or", left: A, right: { kind: "and", left: B, right: C } });
    assert.deepEqual(parseMembershipRule(`${a} -and ${b} -or ${c}`),
      { kind: "or", left: { kind: "and", left: A, right: B }, right: C });
    assert.deepEqual(parseMembershipRule(`-not ${a} -and ${b}`),
      { kind: "and", left: { kind: "not", operand: A }, right: B });
    assert.deepEqual(parseMembershipRule(`not ${a} or not ${b}`),
      { kind: "or", left: { kind: "not", operand: A }, right: { kind: "not", operand: B } });
  });

  it("associates and and or to the left", () => {
    assert.deepEqual(parseMembershipRule(`${a} -and ${b} -and ${c}`),
      { kind: "and", left: { kind: "and", left: A, right: B }, right: C });
    assert.deepEqual(parseMembershipRule(`${a} -or ${b} -or ${c}`),
      { kind: "or", left: { kind: "or", left: A, right: B }, right: C });
  });

  it("lets parentheses override precedence and nest freely", () => {
    assert.deepEqual(parseMembershipRule(`(${a} -or ${b}) -and ${c}`),
      { kind: "and", left: { kind: "or", left: A, right: B }, right: C });
    assert.deepEqual(parseMembershipRule(`-not (${a} -or ${b})`),
      { kind: "not", operand: { kind: "or", left: A, right: B } });
    assert.deepEqual(parseMembershipRule(`((((${a}))))`), A);
    assert.deepEqual(parseMembershipRule(`(${a} -and (${b} -or (-not ${c})))`),
      { kind: "and", left: A, right: { kind: "or", left: B, right: { kind: "not", operand: C } } });
    assert.deepEqual(parseMembershipRule("-not -not " + a), { kind: "not", operand: { kind: "not", operand: A } });
  });

  it("treats whitespace and line breaks as free", () => {
    assert.deepEqual(
      parseMembershipRule(`\n\t(  device.deviceOSType\r\n  -eq\n"a"\n)\n  -and\r\n${b}  `),
      { kind: "and", left: A, right: B },
    );
    assert.deepEqual(parseMembershipRule('device.deviceOSType-eq"a"'), A);
  });
});

describe("parser: errors", () => {
  it("reports a missing value with its position", () => {
    const error = ruleErrorOf("device.deviceOSType -eq )");
    assert.equal(error.message, "Syntax error at position 24: expected a quoted string or null but found ')'.");
    assert.equal(error.position, 24);
    assert.equal(error.expected, "a quoted string or null");
    assert.equal(error.name, "MembershipRuleError");
    assert.ok(error instanceof Error);
  });

  it("reports what was expected at each point of a condition", () => {
    assertRejected("", 0, "a property such as device.deviceOSType", "found the end of the rule");
    assertRejected('"Windows"', 0, "a property such as device.deviceOSType", `found '"Windows"'`);
    assertRejected('device.deviceOSType "Windows"', 20,
      "an operator (-eq, -ne, -startsWith, -notStartsWith, -contains, -notContains, -match, -notMatch, -in or -notIn)");
    assertRejected('device.deviceOSType -equals "a"', 20, "an operator (-eq, -ne, -startsWith, -notStartsWith, " +
      "-contains, -notContains, -match, -notMatch, -in or -notIn)", "found '-equals'");
    assertRejected("device.deviceOSType -eq", 23, "a quoted string or null", "found the end of the rule");
    assertRejected("device.deviceOSType -eq Windows", 24, "a quoted string or null", "found 'Windows'");
    assertRejected("device.deviceOSType -eq 10", 24, "a quoted string or null", "found '10'");
    assertRejected("device.deviceOSType -startsWith null", 32, "a quoted string", "found 'null'");
    assertRejected('device.deviceOSType -contains ["a"]', 30, "a quoted string", "found '['");
    assertRejected("device.deviceOSType -eq true", 24, "a quoted string or null", "found 'true'");
    assertRejected('device.deviceOSType -in "a"', 24, 'a list such as ["a", "b"]', `found '"a"'`);
    assertRejected('device.deviceOSType -in ["a" "b"]', 29, "',' or ']'", `found '"b"'`);
    assertRejected('device.deviceOSType -in ["a",]', 29, "a quoted string", "found ']'");
    assertRejected('device.isRooted -eq "true"', 20, "true, false or null", `found '"true"'`);
  });

  it("reports unbalanced parentheses and dangling logic", () => {
    assertRejected(`(${a}`, 28, "')'", "found the end of the rule");
    assertRejected(`${a})`, 27, "-and, -or or the end of the rule", "found ')'");
    assertRejected(`${a} ${b}`, 28, "-and, -or or the end of the rule", "found 'device.deviceOSType'");
    assertRejected(`${a} -and`, 32, "a device property", "found the end of the rule");
    assertRejected(`${a} -and -or ${b}`, 33, "a device property", "found '-or'");
    assertRejected("()", 1, "a property such as device.deviceOSType", "found ')'");
    assertRejected("-not", 4, "a property such as device.deviceOSType", "found the end of the rule");
  });

  it("rejects a rule that mixes device and user properties", () => {
    assertRejected(`${a} -and user.department -eq "Sales"`, 33, "a device property",
      "found 'user.department'; a rule reads either device or user properties, not both");
    assertRejected('user.city -eq "x" -or (device.deviceOSType -eq "y")', 23, "a user property");
  });

  it("names unknown properties and subjects", () => {
    assertRejected('device.colour -eq "red"', 0, "a device property",
      "found 'device.colour'; 'colour' is not a device property");
    assertRejected('user.deviceOSType -eq "x"', 0, "a user property", "'deviceOSType' is not a user property");
    assertRejected('device.extensionAttribute16 -eq "x"', 0, "a device property", "'extensionAttribute16'");
    assertRejected('group.displayName -eq "x"', 0, "a property of device or user", "found 'group.displayName'");
    assertRejected('deviceOSType -eq "x"', 0, "a property such as device.deviceOSType", "found 'deviceOSType'");
    assertRejected(`${a} -and device.foo -eq "x"`, 33, "a device property", "'foo' is not a device property");
  });

  it("allows -any and -all only on multi-valued properties, and only them there", () => {
    assertRejected('device.displayName -any (_ -eq "x")', 19, "a comparison operator",
      "found '-any'; -any applies only to multi-valued properties and device.displayName is single-valued");
    assertRejected('user.city -all (_ -eq "x")', 10, "a comparison operator", "-all applies only");
    assertRejected('device.devicePhysicalIds -eq "[ZTDId]:x"', 25, "-any or -all",
      "found '-eq'; device.devicePhysicalIds is multi-valued");
    assertRejected('user.otherMails -contains "x"', 16, "-any or -all", "user.otherMails is multi-valued");
    assertRejected('device.systemLabels -any _ -eq "x"', 25, "'(' after -any", "found '_'");
    assertRejected('device.systemLabels -any (x -eq "x")', 26, "'_'", "found 'x'");
    assertRejected('device.systemLabels -any (_ -eq "x"', 35, "')'", "found the end of the rule");
    assertRejected('device.systemLabels -any (_ -any (_ -eq "x"))', 28, "an operator (-eq, -ne, -startsWith, " +
      "-notStartsWith, -contains, -notContains, -match, -notMatch, -in or -notIn)", "found '-any'");
    assertRejected('_ -eq "x"', 0, "a property such as device.deviceOSType", "found '_'");
  });

  it("allows only -eq and -ne with true, false or null on boolean properties", () => {
    assertRejected("device.accountEnabled -in [true]", 22, "-eq or -ne", "device.accountEnabled is boolean");
    assertRejected('user.accountEnabled -startsWith "t"', 20, "-eq or -ne");
    assertRejected("device.isRooted -eq yes", 20, "true, false or null", "found 'yes'");
  });

  it("checks -match patterns: supported, well-formed and short", () => {
    const supported = "a supported regular expression";
    assertRejected('device.displayName -match "(abc"', 26, supported, `found '"(abc"'; missing ')' at offset 4 of the pattern`);
    assertRejected('device.displayName -match "abc)"', 26, supported, "unmatched ')' at offset 3");
    assertRejected('device.displayName -notMatch "[z-a]"', 29, supported, "range out of order in character class");
    assertRejected('device.displayName -match "[abc"', 26, supported, "missing ']'");
    assertRejected('device.displayName -match "a**"', 26, supported, "nothing to repeat at offset 2");
    assertRejected('device.displayName -match "^*"', 26, supported, "nothing to repeat");
    assertRejected('device.displayName -match "a{3,2}"', 26, supported, "numbers out of order");
    assertRejected('device.displayName -match "(a)\\1"', 26, supported, "unsupported escape \\1 at offset 3");
    assertRejected('device.displayName -match "\\p{L}"', 26, supported, "unsupported escape \\p");
    assertRejected('device.displayName -match "a(?=b)"', 26, supported, "lookaround, named groups and inline options");
    assertRejected('device.displayName -match "(?i)a"', 26, supported, "lookaround, named groups and inline options");
    assertRejected('device.displayName -match "(a{30}){30}"', 26, supported, "pattern expands beyond 500 states");
    assertRejected(`device.displayName -match "${"a".repeat(201)}"`, 26, "a pattern of at most 200 characters",
      "found 201 characters");
    assert.doesNotThrow(() => parseMembershipRule(`device.displayName -match "${"a".repeat(200)}"`));
    for (const pattern of ["^Win(dows)?\\s\\d+$", "[(a+)+]", "\\(a+\\)+", "(?:ab){2,4}?", "^(iOS|Android)$",
      "a{", "x{1,", "[]", "[^]", "a|", "()", "[\\]\\-]", "\\.\\b\\B\\t"]) {
      assert.doesNotThrow(() => parseMembershipRule(`device.displayName -match "${pattern}"`), pattern);
    }
  });

  it("runs patterns that backtrack catastrophically elsewhere in linear time", () => {
    const input = { displayName: "a".repeat(MAX_MATCH_INPUT_LENGTH - 1) + "!" };
    for (const pattern of ["(a+)+$", "(a*)*b", "(?:a|aa)*c", "(a|a){20}x", ".*.*.*.*x", "^(\\w+\\s?)*$"]) {
      const rule = compileMembershipRule(`device.displayName -match "${pattern}"`);
      const started = performance.now();
      assert.equal(rule.matches(input), false, pattern);
      assert.ok(performance.now() - started < 250, `${pattern} took ${performance.now() - started} ms`);
    }
  });

  it("caps rule length and nesting depth", () => {
    const long = `device.displayName -eq "${"x".repeat(MAX_RULE_LENGTH)}"`;
    assertRejected(long, MAX_RULE_LENGTH, "a rule of at most 3072 characters", `found ${long.length} characters`);
    const padded = `device.displayName -eq "x"${" ".repeat(MAX_RULE_LENGTH - 26)}`;
    assert.equal(padded.length, MAX_RULE_LENGTH);
    assert.doesNotThrow(() => parseMembershipRule(padded));

    const nested = (depth: number) => "(".repeat(depth) + a + ")".repeat(depth);
    assert.deepEqual(parseMembershipRule(nested(MAX_NESTING_DEPTH)), A);
    assertRejected(nested(MAX_NESTING_DEPTH + 1), MAX_NESTING_DEPTH, "at most 100 levels of nesting");
    assertRejected("-not ".repeat(MAX_NESTING_DEPTH + 1) + a, 5 * MAX_NESTING_DEPTH, "at most 100 levels of nesting");
    assertRejected("(".repeat(3000), MAX_NESTING_DEPTH, "at most 100 levels of nesting");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Printer, compile and propertiesReadBy

describe("printer", () => {
  it("prints canonical text with only the parentheses precedence needs", () => {
    const cases: [string, string][] = [
      ['(device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_Standard"))',
        'device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_Standard")'],
      ["DEVICE.deviceostype -STARTSWITH 'Win'", 'device.deviceOSType -startsWith "Win"'],
      ['user.city -in ["a",\'b\']', 'user.city -in ["a", "b"]'],
      ['user.city -eq "Sales`"s `` x"', 'user.city -eq "Sales`"s `` x"'],
      ["device.isRooted -eq TRUE", "device.isRooted -eq true"],
      [`(${a} and ${b}) or ${c}`, `${a} -and ${b} -or ${c}`],
      [`${a} and (${b} or ${c})`, `${a} -and (${b} -or ${c})`],
      [`${a} or (${b} or ${c})`, `${a} -or (${b} -or ${c})`],
      [`${a} and (${b} and ${c})`, `${a} -and (${b} -and ${c})`],
      [`not (${a} and ${b})`, `-not (${a} -and ${b})`],
      [`not not ${a}`, `-not -not ${a}`],
      ["device.deviceOSType -eq NULL", "device.deviceOSType -eq null"],
    ];
    for (const [input, canonical] of cases) {
      const ast = parseMembershipRule(input);
      assert.equal(printMembershipRule(ast), canonical, input);
      assert.deepEqual(parseMembershipRule(canonical), ast, canonical);
    }
  });
});

describe("compile and propertiesReadBy", () => {
  it("reports the subject and keeps the tree", () => {
    const device = compileMembershipRule('device.deviceOSType -eq "a"');
    assert.equal(device.subject, "device");
    assert.deepEqual(device.ast, A);
    assert.equal(compileMembershipRule('-not (user.city -eq "a")').subject, "user");
  });

  it("lists each property the rule reads once, canonically spelled, in order", () => {
    const ast = parseMembershipRule(
      'device.DEVICEOSTYPE -eq "a" -and (device.devicephysicalids -any (_ -eq "x") -or -not device.deviceOSType ' +
      '-ne null) -and device.isRooted -eq false',
    );
    assert.deepEqual(propertiesReadBy(ast), ["deviceOSType", "devicePhysicalIds", "isRooted"]);
  });

  it("throws MembershipRuleError from compile", () => {
    assert.throws(() => compileMembershipRule("device."), MembershipRuleError);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

describe("evaluation", () => {
  it("matches the Autopilot group tag rule", () => {
    assertTable('(device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_Standard"))', [
      [{ devicePhysicalIds: ["[ZTDId]:abc", "[OrderID]:Microsoft365Managed_Standard"] }, true],
      [{ devicePhysicalIds: ["[orderid]:microsoft365managed_standard"] }, true],
      [{ devicePhysicalIds: ["[OrderID]:Microsoft365Managed_Standard_Old"] }, false],
      [{ devicePhysicalIds: ["[OrderID]:Microsoft365Managed_Power"] }, false],
      [{ devicePhysicalIds: ["[ZTDId]:abc"] }, false],
      [{ devicePhysicalIds: [] }, false],
      [{ devicePhysicalIds: null }, false],
      [{}, false],
    ]);
    assertTable('(device.devicePhysicalIds -any (_ -startsWith "[ZTDId]"))', [
      [{ devicePhysicalIds: ["[HWID]:h:1", "[ztdid]:123"] }, true],
      [{ devicePhysicalIds: ["[HWID]:h:1"] }, false],
    ]);
  });

  it("applies -all to every element, vacuously true when empty", () => {
    assertTable('user.proxyAddresses -all (_ -contains "contoso")', [
      [{ proxyAddresses: ["SMTP:a@CONTOSO.com", "smtp:b@contoso.org"] }, true],
      [{ proxyAddresses: ["SMTP:a@contoso.com", "smtp:b@fabrikam.com"] }, false],
      [{ proxyAddresses: [] }, true],
      [{}, true],
      [{ proxyAddresses: "smtp:x@contoso.com" }, true], // a lone scalar is a collection of one
      [{ proxyAddresses: [null] }, false],
    ]);
    assertTable("user.otherMails -any (_ -eq null)", [
      [{ otherMails: ["a", null] }, true],
      [{ otherMails: ["a"] }, false],
    ]);
  });

  it("compares strings case-insensitively", () => {
    assertTable('device.deviceOSType -eq "Windows"', [
      [{ deviceOSType: "WINDOWS" }, true], [{ deviceOSType: "windows" }, true], [{ deviceOSType: "Windows10" }, false],
    ]);
    assertTable('device.deviceOSType -ne "windows"', [[{ deviceOSType: "Windows" }, false], [{ deviceOSType: "iOS" }, true]]);
    assertTable('user.userPrincipalName -startsWith "ADMIN"', [
      [{ userPrincipalName: "admin.x@contoso.com" }, true], [{ userPrincipalName: "x.admin@contoso.com" }, false],
    ]);
    assertTable('user.userPrincipalName -notStartsWith "ADMIN"', [
      [{ userPrincipalName: "admin.x@contoso.com" }, false], [{ userPrincipalName: "x.admin@contoso.com" }, true],
    ]);
    assertTable('user.department -contains "SAL"', [
      [{ department: "Inside sales" }, true], [{ department: "Marketing" }, false], [{ department: "" }, false],
    ]);
    assertTable('user.department -notContains "SAL"', [
      [{ department: "Inside sales" }, false], [{ department: "Marketing" }, true],
    ]);
  });

  it("tests membership with -in and -notIn", () => {
    assertTable('user.city -in ["Lagos", "Ibadan", "Port Harcourt"]', [
      [{ city: "LAGOS" }, true], [{ city: "port harcourt" }, true], [{ city: "Abuja" }, false], [{ city: null }, false],
    ]);
    assertTable('user.city -notIn ["Lagos", "Ibadan"]', [
      [{ city: "lagos" }, false], [{ city: "Abuja" }, true], [{}, true],
    ]);
    assertTable("user.city -in []", [[{ city: "x" }, false]]);
  });

  it("matches regular expressions case-insensitively, unanchored unless anchored", () => {
    assertTable('device.displayName -match "^DESKTOP-[0-9]+$"', [
      [{ displayName: "desktop-1234" }, true], [{ displayName: "DESKTOP-12a" }, false], [{ displayName: "x DESKTOP-1" }, false],
      [{}, false],
    ]);
    assertTable('device.displayName -match "lap"', [[{ displayName: "MyLaptop" }, true], [{ displayName: "Desk" }, false]]);
    assertTable('device.displayName -notMatch "lap"', [
      [{ displayName: "MyLaptop" }, false], [{ displayName: "Desk" }, true], [{ displayName: null }, true],
    ]);
    const tail = "a".repeat(MAX_MATCH_INPUT_LENGTH) + "END";
    assertTable('device.extensionAttribute1 -match "END"', [[{ extensionAttribute1: tail }, false]]);
    assertTable('device.extensionAttribute1 -match "^a+$"', [[{ extensionAttribute1: tail }, true]]);
  });

  it("treats null and missing values as null, but not the empty string", () => {
    assertTable("user.mail -eq null", [
      [{ mail: null }, true], [{ mail: undefined }, true], [{}, true], [{ mail: "" }, false], [{ mail: "a@b" }, false],
    ]);
    assertTable("user.mail -ne null", [[{ mail: null }, false], [{}, false], [{ mail: "" }, true]]);
    assertTable('user.mail -eq "x"', [[{}, false]]);
    assertTable('user.mail -ne "x"', [[{}, true]]);
    assertTable('user.mail -startsWith ""', [[{}, false], [{ mail: "" }, true]]);
    assertTable('user.mail -notStartsWith "x"', [[{}, true]]);
  });

  it("compares booleans, null included", () => {
    assertTable("device.accountEnabled -eq true", [
      [{ accountEnabled: true }, true], [{ accountEnabled: false }, false], [{}, false], [{ accountEnabled: "True" }, true],
    ]);
    assertTable("device.isRooted -ne true", [[{ isRooted: true }, false], [{ isRooted: false }, true], [{}, true]]);
    assertTable("device.isRooted -eq false", [[{ isRooted: false }, true], [{ isRooted: null }, false]]);
    assertTable("user.accountEnabled -eq null", [[{}, true], [{ accountEnabled: false }, false], [{ accountEnabled: 1 }, true]]);
  });

  it("reads numbers as text", () => {
    assertTable('user.employeeId -eq "42"', [[{ employeeId: 42 }, true], [{ employeeId: { id: 42 } }, false]]);
  });

  it("combines conditions with and, or, not", () => {
    assertTable(
      'device.deviceOSType -eq "Windows" -and (device.deviceOwnership -eq "Company" -or not device.isRooted -eq false)',
      [
        [{ deviceOSType: "Windows", deviceOwnership: "Company", isRooted: false }, true],
        [{ deviceOSType: "Windows", deviceOwnership: "Personal", isRooted: false }, false],
        [{ deviceOSType: "Windows", deviceOwnership: "Personal", isRooted: true }, true],
        [{ deviceOSType: "iOS", deviceOwnership: "Company" }, false],
      ],
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests

/** Random well-formed trees for one subject, drawing strings and -match patterns from the given sources. */
function ruleArbitrary(
  subject: RuleSubject, text: fc.Arbitrary<string>, pattern: fc.Arbitrary<string>, depth: number,
): fc.Arbitrary<RuleExpr> {
  const stringValue = text.map((value): RuleValue => ({ kind: "string", value }));
  const valueFor = (operator: ComparisonOperator): fc.Arbitrary<RuleValue> => {
    switch (operator) {
      case "in": case "notIn":
        return fc.array(text, { maxLength: 3 }).map((values): RuleValue => ({ kind: "list", values }));
      case "match": case "notMatch":
        return pattern.map((value): RuleValue => ({ kind: "string", value }));
      case "eq": case "ne":
        return fc.oneof(stringValue, fc.constant<RuleValue>({ kind: "null" }));
      default:
        return stringValue;
    }
  };
  const elementTest = fc.constantFrom(...COMPARISON_OPERATORS)
    .chain((operator) => valueFor(operator).map((value): ElementTest => ({ operator, value })));
  const leaf = fc.constantFrom(...Object.entries(SUBJECT_PROPERTIES[subject])).chain(([name, kind]): fc.Arbitrary<RuleExpr> => {
    const property = { subject, name };
    if (kind === "multiValued") {
      return fc.tuple(fc.constantFrom("any" as const, "all" as const), elementTest)
        .map(([quantifier, element]) => ({ kind: "collection", property, quantifier, element }));
    }
    if (kind === "boolean") {
      return fc.tuple(
        fc.constantFrom<ComparisonOperator>("eq", "ne"),
        fc.constantFrom<RuleValue>({ kind: "boolean", value: true }, { kind: "boolean", value: false }, { kind: "null" }),
      ).map(([operator, value]) => ({ kind: "comparison", property, operator, value }));
    }
    return fc.constantFrom(...COMPARISON_OPERATORS)
      .chain((operator) => valueFor(operator).map((value): RuleExpr => ({ kind: "comparison", property, operator, value })));
  });
  let expr: fc.Arbitrary<RuleExpr> = leaf;
  for (let level = 0; level < depth; level++) {
    const sub = expr;
    expr = fc.oneof(
      { weight: 2, arbitrary: leaf },
      { weight: 1, arbitrary: sub.map((operand): RuleExpr => ({ kind: "not", operand })) },
      { weight: 2, arbitrary: fc.tuple(sub, sub).map(([left, right]): RuleExpr => ({ kind: "and", left, right })) },
      { weight: 2, arbitrary: fc.tuple(sub, sub).map(([left, right]): RuleExpr => ({ kind: "or", left, right })) },
    );
  }
  return expr;
}

const subjects = fc.constantFrom<RuleSubject>("device", "user");
const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
const SAFE_PATTERNS = ["^a", "b$", "a.b", "^[ab]+$", "A", "", "^$", "a|b", "(ab)?b", "\\w{2}", "[^a]", "^(a|B)$"];

describe("property tests", () => {
  it("prints any tree to text that parses back to the same tree", () => {
    const awkward = fc.string({ unit: fc.constantFrom('"', "'", "`", " ", "\n", "a", "\\", "]", ",", ")", "-", "_"), maxLength: 8 });
    const text = fc.oneof(fc.string({ unit: "binary", maxLength: 8 }), awkward);
    const pattern = fc.oneof(fc.constantFrom(...SAFE_PATTERNS), text.map(escapeRegExp));
    const trees = subjects.chain((subject) => ruleArbitrary(subject, text, pattern, 4));
    fc.assert(
      fc.property(trees, (ast) => {
        const printed = printMembershipRule(ast);
        fc.pre(printed.length <= MAX_RULE_LENGTH);
        const reparsed = parseMembershipRule(printed);
        assert.deepEqual(reparsed, ast);
        assert.equal(printMembershipRule(reparsed), printed);
      }),
      { numRuns: 500 },
    );
  });

  const VOCABULARY = [
    "(", ")", "[", "]", ",", "-and", "and", "-or", "OR", "-not", "not", "_", "-eq", "-ne", "-in", "-notIn", "-startsWith",
    "-contains", "-match", "-notMatch", "-any", "-all", "-bogus", "-", "true", "false", "null", '"a"', "'B'", '"(a+)+"',
    '"^a.*"', '"', "`", "device.deviceOSType", "device.isRooted", "device.devicePhysicalIds", "device.colour",
    "user.city", "user.proxyAddresses", "user.accountEnabled", "group.x", "device.", "$", "\n",
    // whole conditions, so that some of the soup parses and reaches evaluation
    'device.deviceOSType -eq "a"', 'device.devicePhysicalIds -any (_ -startsWith "[ZTDId]")', 'user.city -in ["a", "B"]',
    "device.isRooted -ne false", 'user.proxyAddresses -all (_ -match "^smtp:")',
  ];
  const RECORDS = [{}, { deviceOSType: "A", devicePhysicalIds: ["a", "B"], city: "b", isRooted: true, accountEnabled: false }];

  /** Parses and, when the rule compiles, evaluates it; anything but MembershipRuleError or a slow call fails. */
  function assertWellBehaved(text: string): void {
    const started = performance.now();
    try {
      const rule = compileMembershipRule(text);
      for (const record of RECORDS) assert.equal(typeof rule.matches(record), "boolean");
      assert.deepEqual(parseMembershipRule(printMembershipRule(rule.ast)), rule.ast);
    } catch (error) {
      if (!(error instanceof MembershipRuleError)) throw error;
      assert.ok(error.position >= 0 && error.position <= Math.min(text.length, MAX_RULE_LENGTH), error.message);
      assert.match(error.message, /^Syntax error at position \d+: expected .+ but found .+\.$/s);
    }
    assert.ok(performance.now() - started < 1000, `slow on ${JSON.stringify(text.slice(0, 80))}`);
  }

  it("never throws anything but MembershipRuleError on arbitrary text, nor hangs", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), assertWellBehaved), { numRuns: 1000 });
    const soup = fc.tuple(fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 40 }), fc.constantFrom(" ", ""))
      .map(([words, separator]) => words.join(separator));
    fc.assert(fc.property(soup, assertWellBehaved), { numRuns: 3000 });
    // Valid rules with a random edit: a slice cut out, or a vocabulary word dropped in.
    const small = fc.string({ unit: fc.constantFrom("a", "B", "`", '"', " "), maxLength: 3 });
    const valid = subjects.chain((subject) => ruleArbitrary(subject, small, fc.constantFrom(...SAFE_PATTERNS), 2))
      .map(printMembershipRule);
    const edited = fc.tuple(valid, fc.nat(), fc.nat({ max: 12 }), fc.option(fc.constantFrom(...VOCABULARY)))
      .map(([rule, at, length, word]) => {
        const start = at % (rule.length + 1);
        return word === null ? rule.slice(0, start) + rule.slice(start + length) : rule.slice(0, start) + word + rule.slice(start);
      });
    fc.assert(fc.property(edited, assertWellBehaved), { numRuns: 2000 });
    const oversized = fc.string({ minLength: MAX_RULE_LENGTH + 1, maxLength: MAX_RULE_LENGTH + 50 });
    fc.assert(fc.property(oversized, assertWellBehaved), { numRuns: 20 });
  });

  it("matches patterns as JavaScript's backtracking RegExp does, ignoring case", () => {
    const atoms = fc.constantFrom("a", "b", "A", ".", "[ab]", "[^a]", "[a-b]", "[B-C1]", "\\w", "\\W", "\\d", "\\s",
      "\\S", "\\.", "x", "_", "[\\d_]");
    const assertions = fc.constantFrom("^", "$", "\\b", "\\B");
    const quantifiers = fc.constantFrom("", "", "*", "+", "?", "{2}", "{1,2}", "{0,}", "*?", "+?", "??");
    let alternation: fc.Arbitrary<string> = atoms;
    for (let level = 0; level < 3; level++) {
      const inner = alternation;
      const group = fc.tuple(fc.constantFrom("(", "(?:"), inner).map(([open, body]) => `${open}${body})`);
      const quantified = fc.tuple(fc.oneof({ weight: 3, arbitrary: atoms }, group), quantifiers).map(([x, q]) => x + q);
      const sequence = fc.array(fc.oneof({ weight: 4, arbitrary: quantified }, assertions), { maxLength: 4 })
        .map((items) => items.join(""));
      alternation = fc.array(sequence, { minLength: 1, maxLength: 3 }).map((options) => options.join("|"));
    }
    const inputs = fc.string({ unit: fc.constantFrom("a", "b", "A", "B", "c", " ", "1", "_", ".", "\n"), maxLength: 10 });
    fc.assert(
      fc.property(alternation, fc.array(inputs, { minLength: 1, maxLength: 5 }), (pattern, samples) => {
        fc.pre(pattern.length <= 200);
        let compiled;
        try {
          compiled = compilePattern(pattern);
        } catch (error) {
          fc.pre(!/expands beyond/.test(String(error)));
          throw error;
        }
        const native = new RegExp(pattern, "i");
        for (const sample of samples) assert.equal(compiled.test(sample), native.test(sample), `/${pattern}/i on ${JSON.stringify(sample)}`);
      }),
      { numRuns: 2000 },
    );
  });

  it("evaluates compiled rules exactly as a direct reading of the tree", () => {
    const small = fc.string({ unit: fc.constantFrom("a", "A", "b", "B"), maxLength: 3 });
    const pattern = fc.constantFrom(...SAFE_PATTERNS);
    const recordFor = (subject: RuleSubject) => {
      const maybe = <T>(value: fc.Arbitrary<T>) =>
        fc.oneof(value, fc.constant(null), fc.constant(undefined)) as fc.Arbitrary<T | null | undefined>;
      const fields = Object.fromEntries(Object.entries(SUBJECT_PROPERTIES[subject]).map(([name, kind]) => [
        name,
        kind === "boolean" ? maybe(fc.boolean())
          : kind === "multiValued" ? maybe(fc.array(fc.oneof({ weight: 4, arbitrary: small }, fc.constant(null)), { maxLength: 3 }))
          : maybe(small),
      ]));
      return fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
    };
    const cases = subjects.chain((subject) =>
      fc.tuple(ruleArbitrary(subject, small, pattern, 3), fc.array(recordFor(subject), { minLength: 1, maxLength: 5 })));
    fc.assert(
      fc.property(cases, ([ast, records]) => {
        const printed = printMembershipRule(ast);
        fc.pre(printed.length <= MAX_RULE_LENGTH);
        const rule = compileMembershipRule(printed);
        for (const record of records) {
          assert.equal(rule.matches(record), reference(ast, record), `${printed} on ${JSON.stringify(record)}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/** The semantics read straight off the tree, for the well-typed records the generators make. */
function reference(ast: RuleExpr, record: Record<string, unknown>): boolean {
  switch (ast.kind) {
    case "not": return !reference(ast.operand, record);
    case "and": return reference(ast.left, record) && reference(ast.right, record);
    case "or": return reference(ast.left, record) || reference(ast.right, record);
    case "collection": {
      const elements = (record[ast.property.name] ?? []) as (string | null)[];
      const test = (element: string | null) => referenceComparison(ast.element.operator, ast.element.value, element);
      return ast.quantifier === "any" ? elements.some(test) : elements.every(test);
    }
    case "comparison":
      return referenceComparison(ast.operator, ast.value, (record[ast.property.name] ?? null) as string | boolean | null);
  }
}

function referenceComparison(operator: ComparisonOperator, value: RuleValue, actual: string | boolean | null): boolean {
  const lower = (s: unknown) => String(s).toLowerCase();
  const text = value.kind === "string" ? value.value : "";
  switch (operator) {
    case "eq":
      if (value.kind === "null") return actual === null;
      if (value.kind === "boolean") return actual === value.value;
      return actual !== null && lower(actual) === lower(text);
    case "startsWith":
      return actual !== null && lower(actual).startsWith(lower(text));
    case "contains":
      return actual !== null && lower(actual).includes(lower(text));
    case "match":
      return actual !== null && new RegExp(text, "i").test(String(actual));
    case "in":
      return actual !== null && value.kind === "list" && value.values.some((v) => lower(v) === lower(actual));
    case "ne": return !referenceComparison("eq", value, actual);
    case "notStartsWith": return !referenceComparison("startsWith", value, actual);
    case "notContains": return !referenceComparison("contains", value, actual);
    case "notMatch": return !referenceComparison("match", value, actual);
    case "notIn": return !referenceComparison("in", value, actual);
  }
}
