import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import pg from "pg";
import fc from "fast-check";
import { GraphError, badRequest } from "../../src/odata/errors.js";
import { postgresDialect, sqliteDialect, type SqlDialect } from "../../src/store/sqlDialect.js";
import {
  COMPARISON_OPERATORS,
  FUNCTION_ARITY,
  NOT_EMPTY_VARIABLE,
  RESERVED_WORDS,
  notEmptyPredicate,
  type ComparisonOperator,
  type FilterExpr,
  type FunctionName,
  type LiteralValue,
} from "../../src/odata/filter/ast.js";
import { tokenize } from "../../src/odata/filter/lexer.js";
import { MAX_FILTER_LENGTH, parseFilter } from "../../src/odata/filter/parser.js";
import { printFilter } from "../../src/odata/filter/printer.js";
import {
  filterToSql,
  type FilterPropertyResolver,
  type FilterValueType,
  type ResolvedFilterProperty,
} from "../../src/odata/filter/toSql.js";

// ---------------------------------------------------------------------------------------------------------
// Helpers

const lit = (literal: LiteralValue): FilterExpr => ({ kind: "literal", literal });
const str = (value: string): FilterExpr => lit({ type: "string", value });
const num = (text: string): FilterExpr => lit({ type: "number", value: Number(text), text });
const prop = (...path: string[]): FilterExpr => ({ kind: "property", path });
const cmp = (left: FilterExpr, op: ComparisonOperator, right: FilterExpr): FilterExpr => ({ kind: "compare", op, left, right });
const and = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: "logical", op: "and", left, right });
const or = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: "logical", op: "or", left, right });
const not = (operand: FilterExpr): FilterExpr => ({ kind: "not", operand });

/** Asserts that `run` throws a 400 GraphError whose message equals `message` (or matches it, for a RegExp). */
function assertBadRequest(run: () => unknown, message: string | RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof GraphError, `expected a GraphError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.equal(error.code, "BadRequest");
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Lexer

describe("lexer", () => {
  it("gives every token its kind, text and 0-based start", () => {
    const tokens = tokenize("a/b eq 'x' and (n ge -1.5e3)");
    assert.deepEqual(
      tokens.map(({ kind, text, start }) => [kind, text, start]),
      [
        ["identifier", "a", 0],
        ["/", "/", 1],
        ["identifier", "b", 2],
        ["identifier", "eq", 4],
        ["string", "'x'", 7],
        ["identifier", "and", 11],
        ["(", "(", 15],
        ["identifier", "n", 16],
        ["identifier", "ge", 18],
        ["number", "-1.5e3", 21],
        [")", ")", 27],
        ["end", "", 28],
      ],
    );
  });

  it("decodes doubled quotes inside strings", () => {
    const [token] = tokenize("'it''s ''quoted'''");
    assert.equal(token.kind, "string");
    assert.equal(token.kind === "string" && token.value, "it's 'quoted'");
    assert.equal(token.text, "'it''s ''quoted'''");
    const [empty] = tokenize("''");
    assert.equal(empty.kind === "string" && empty.value, "");
  });

  it("tells GUIDs, date-times and numbers apart although all may start with digits", () => {
    const kinds = (text: string) => tokenize(text).slice(0, -1).map((token) => token.kind);
    assert.deepEqual(kinds("12345678-aaaa-bbbb-cccc-1234567890ab"), ["guid"]);
    assert.deepEqual(kinds("ABCDEF01-aaaa-bbbb-cccc-1234567890ab"), ["guid"]);
    assert.deepEqual(kinds("abcdef01"), ["identifier"]);
    assert.deepEqual(kinds("2024-01-02T03:04:05Z"), ["dateTimeOffset"]);
    assert.deepEqual(kinds("2024-01-02T03:04:05.1234567+05:30"), ["dateTimeOffset"]);
    assert.deepEqual(kinds("2024-01-02T03:04-08:00"), ["dateTimeOffset"]);
    assert.deepEqual(kinds("2024"), ["number"]);
    assert.deepEqual(kinds("-0.5E-7"), ["number"]);
  });

  it("reads a qualified name followed by a quoted value as one enum literal", () => {
    const [token] = tokenize("microsoft.graph.complianceState'in''Grace'");
    assert.equal(token.kind, "enum");
    if (token.kind !== "enum") return;
    assert.equal(token.enumType, "microsoft.graph.complianceState");
    assert.equal(token.value, "in'Grace");
  });

  it("reports malformed input with its position", () => {
    assertBadRequest(() => tokenize("a eq $x"), "Syntax error at position 5 in $filter: unexpected character '$'.");
    assertBadRequest(() => tokenize("a eq - 1"), "Syntax error at position 5 in $filter: unexpected character '-'.");
    assertBadRequest(
      () => tokenize("a eq 'abc''"),
      "Syntax error at position 11 in $filter: expected ''' to close the string that starts at position 5 but found end of input.",
    );
    assertBadRequest(() => tokenize("a eq 12abc"), "Syntax error at position 5 in $filter: expected a number but found '12abc'.");
    assertBadRequest(() => tokenize("a eq 1.2.3"), "Syntax error at position 5 in $filter: expected a number but found '1.2.3'.");
    assertBadRequest(() => tokenize("a eq 1e999"), "Syntax error at position 5 in $filter: the number '1e999' is out of range.");
    assertBadRequest(
      () => tokenize("d gt 2024-01-02"),
      "Syntax error at position 5 in $filter: expected a date-time such as 2024-01-02T03:04:05Z but found '2024-01-02'.",
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Parser

describe("parser", () => {
  it("binds and tighter than or, and not tighter than and", () => {
    assert.deepEqual(
      parseFilter("a eq 1 or b eq 2 and c eq 3"),
      or(cmp(prop("a"), "eq", num("1")), and(cmp(prop("b"), "eq", num("2")), cmp(prop("c"), "eq", num("3")))),
    );
    assert.deepEqual(
      parseFilter("not a eq 1 and b eq 2"),
      and(not(cmp(prop("a"), "eq", num("1"))), cmp(prop("b"), "eq", num("2"))),
    );
    assert.deepEqual(parseFilter("not not a"), not(not(prop("a"))));
  });

  it("groups and and or to the left", () => {
    const [a, b, c] = ["a", "b", "c"].map((name) => cmp(prop(name), "eq", num("1")));
    assert.deepEqual(parseFilter("a eq 1 or b eq 1 or c eq 1"), or(or(a, b), c));
    assert.deepEqual(parseFilter("a eq 1 and b eq 1 and c eq 1"), and(and(a, b), c));
  });

  it("lets parentheses override precedence", () => {
    const [a, b, c] = ["a", "b", "c"].map((name) => cmp(prop(name), "eq", num("1")));
    assert.deepEqual(parseFilter("(a eq 1 or b eq 1) and c eq 1"), and(or(a, b), c));
    assert.deepEqual(parseFilter("a eq 1 or (b eq 1 or c eq 1)"), or(a, or(b, c)));
    assert.deepEqual(parseFilter("not (a eq 1 and b eq 1)"), not(and(a, b)));
    assert.deepEqual(parseFilter("((((a eq 1))))"), a);
  });

  it("parses every literal form", () => {
    const right = (text: string) => {
      const expr = parseFilter(`x eq ${text}`);
      assert.equal(expr.kind, "compare");
      return expr.kind === "compare" && expr.right.kind === "literal" ? expr.right.literal : undefined;
    };
    assert.deepEqual(right("'text'"), { type: "string", value: "text" });
    assert.deepEqual(right("'O''Brien'''"), { type: "string", value: "O'Brien'" });
    assert.deepEqual(right("''"), { type: "string", value: "" });
    assert.deepEqual(right("42"), { type: "number", value: 42, text: "42" });
    assert.deepEqual(right("1.50"), { type: "number", value: 1.5, text: "1.50" });
    assert.deepEqual(right("-3"), { type: "number", value: -3, text: "-3" });
    assert.deepEqual(right("6.02e23"), { type: "number", value: 6.02e23, text: "6.02e23" });
    assert.deepEqual(right("1E-2"), { type: "number", value: 0.01, text: "1E-2" });
    assert.deepEqual(right("true"), { type: "boolean", value: true });
    assert.deepEqual(right("false"), { type: "boolean", value: false });
    assert.deepEqual(right("null"), { type: "null" });
    assert.deepEqual(right("7C9E6679-7425-40DE-944B-E07FC1F90AE7"), { type: "guid", value: "7c9e6679-7425-40de-944b-e07fc1f90ae7" });
    assert.deepEqual(right("2024-01-02T03:04:05Z"), { type: "dateTimeOffset", value: "2024-01-02T03:04:05Z" });
    assert.deepEqual(right("2024-01-02T03:04:05.123+01:00"), { type: "dateTimeOffset", value: "2024-01-02T03:04:05.123+01:00" });
    assert.deepEqual(right("2024-01-02T03:04Z"), { type: "dateTimeOffset", value: "2024-01-02T03:04Z" });
    assert.deepEqual(right("microsoft.graph.complianceState'compliant'"), {
      type: "enum",
      enumType: "microsoft.graph.complianceState",
      value: "compliant",
    });
  });

  it("treats operators, keywords, literals and function names case-insensitively", () => {
    assert.deepEqual(
      parseFilter("A EQ TRUE AnD NOT b Ne NULL OR c IN ('x') or CONTAINS(d,'y') or e/ANY(v:v Gt 1) or f/All(w:FALSE)"),
      or(
        or(
          or(
            or(and(cmp(prop("A"), "eq", lit({ type: "boolean", value: true })), not(cmp(prop("b"), "ne", lit({ type: "null" })))), {
              kind: "in",
              operand: prop("c"),
              values: [{ type: "string", value: "x" }],
            }),
            { kind: "call", name: "contains", args: [prop("d"), str("y")] },
          ),
          { kind: "lambda", quantifier: "any", collection: ["e"], variable: "v", predicate: cmp(prop("v"), "gt", num("1")) },
        ),
        { kind: "lambda", quantifier: "all", collection: ["f"], variable: "w", predicate: lit({ type: "boolean", value: false }) },
      ),
    );
  });

  it("keeps property names as written and splits paths on /", () => {
    assert.deepEqual(parseFilter("deviceHealth/lastSeen/UTC eq 1"), cmp(prop("deviceHealth", "lastSeen", "UTC"), "eq", num("1")));
    // any/all are only quantifiers when an opening parenthesis follows
    assert.deepEqual(parseFilter("x/any/all eq 1"), cmp(prop("x", "any", "all"), "eq", num("1")));
  });

  it("parses in-lists, including the empty list", () => {
    assert.deepEqual(parseFilter("x in ('a', 2, null, true)"), {
      kind: "in",
      operand: prop("x"),
      values: [{ type: "string", value: "a" }, { type: "number", value: 2, text: "2" }, { type: "null" }, { type: "boolean", value: true }],
    });
    assert.deepEqual(parseFilter("x in ()"), { kind: "in", operand: prop("x"), values: [] });
  });

  it("parses function calls and checks their names and argument counts", () => {
    assert.deepEqual(parseFilter("startswith(tolower(displayName), 'ab')"), {
      kind: "call",
      name: "startswith",
      args: [{ kind: "call", name: "tolower", args: [prop("displayName")] }, str("ab")],
    });
    assertBadRequest(() => parseFilter("substringof('a', b)"), "An unknown function with name 'substringof' was found.");
    assertBadRequest(() => parseFilter("foo(a) eq 1"), "An unknown function with name 'foo' was found.");
    assertBadRequest(
      () => parseFilter("contains(a)"),
      "No function signature for the function with name 'contains' matches the specified arguments. " +
        "The function signatures considered are: contains(Edm.String Nullable=true, Edm.String Nullable=true).",
    );
    assertBadRequest(() => parseFilter("tolower(a, b) eq 'x'"), /^No function signature for the function with name 'tolower'/);
  });

  it("parses lambdas, nested lambdas and argument-less any()", () => {
    assert.deepEqual(parseFilter("groupTypes/any(c:c eq 'Unified')"), {
      kind: "lambda",
      quantifier: "any",
      collection: ["groupTypes"],
      variable: "c",
      predicate: cmp(prop("c"), "eq", str("Unified")),
    });
    assert.deepEqual(parseFilter("a/b/all(v: v ne 'a')"), {
      kind: "lambda",
      quantifier: "all",
      collection: ["a", "b"],
      variable: "v",
      predicate: cmp(prop("v"), "ne", str("a")),
    });
    assert.deepEqual(parseFilter("roleScopeTagIds/any()"), {
      kind: "lambda",
      quantifier: "any",
      collection: ["roleScopeTagIds"],
      variable: NOT_EMPTY_VARIABLE,
      predicate: notEmptyPredicate(),
    });
    assert.deepEqual(parseFilter("a/any(x: b/all(y: y eq x))"), {
      kind: "lambda",
      quantifier: "any",
      collection: ["a"],
      variable: "x",
      predicate: { kind: "lambda", quantifier: "all", collection: ["b"], variable: "y", predicate: cmp(prop("y"), "eq", prop("x")) },
    });
  });

  it("names the position and what was expected in syntax errors", () => {
    const cases: [string, string][] = [
      ["", "expected an expression but found end of input"],
      ["displayName eq", "expected a literal but found end of input"],
      ["(displayName eq 'a' ", "expected ')' but found end of input"],
      ["(displayName eq 'a' eq 'b')", "expected ')' but found 'eq'"],
      ["a eq 1 eq 2", "expected 'and', 'or' or end of input but found 'eq'"],
      ["a eq 1 b", "expected 'and', 'or' or end of input but found 'b'"],
      ["a eq 1 and", "expected an expression but found end of input"],
      ["and a eq 1", "expected an expression but found 'and'"],
      ["a eq and", "expected a literal but found 'and'"],
      ["a eq )", "expected a literal but found ')'"],
      ["a in 'x'", "expected '(' but found the string 'x'"],
      ["a in ('x' 'y')", "expected ',' or ')' but found the string 'y'"],
      ["a in ('x', b)", "expected a literal but found 'b'"],
      ["contains(a, 'b' 'c')", "expected ',' or ')' but found the string 'c'"],
      ["a/ eq 1", "expected a property name but found 'eq'"],
      ["t/any(x x eq 1)", "expected ':' but found 'x'"],
      ["t/any(x: x eq 1", "expected ')' but found end of input"],
      ["t/all()", "expected a lambda variable but found ')'"],
      ["t/any(1: x)", "expected a lambda variable or ')' but found '1'"],
      ["t/any(not: x)", "expected a lambda variable or ')' but found 'not'"],
    ];
    for (const [text, detail] of cases) {
      const position = expectedPosition(text, detail);
      assertBadRequest(() => parseFilter(text), `Syntax error at position ${position} in $filter: ${detail}.`);
    }
    assertBadRequest(() => parseFilter("displayName eq 'x' and (id eq"), "Syntax error at position 29 in $filter: expected a literal but found end of input.");
    assertBadRequest(() => parseFilter("isEnabled eq true and (id eq 1 and"), "Syntax error at position 34 in $filter: expected an expression but found end of input.");
    assertBadRequest(() => parseFilter("(isEnabled eq true) or"), /position 22/);
  });

  it("caps nesting at 100 levels", () => {
    const nestedParens = (depth: number) => `${"(".repeat(depth)}a eq 1${")".repeat(depth)}`;
    assert.deepEqual(parseFilter(nestedParens(100)), cmp(prop("a"), "eq", num("1")));
    assertBadRequest(() => parseFilter(nestedParens(101)), "The $filter expression nests deeper than 100 levels (at position 100).");
    assert.equal(parseFilter(`${"not ".repeat(100)}a`).kind, "not");
    assertBadRequest(() => parseFilter(`${"not ".repeat(101)}a`), /nests deeper than 100 levels/);
    const nestedCalls = (depth: number) => `${"tolower(".repeat(depth)}a${")".repeat(depth)} eq 'x'`;
    assert.equal(parseFilter(nestedCalls(100)).kind, "compare");
    assertBadRequest(() => parseFilter(nestedCalls(101)), /nests deeper than 100 levels/);
    const nestedLambdas = (depth: number) => `${"t/any(x:".repeat(depth)}true${")".repeat(depth)}`;
    assert.equal(parseFilter(nestedLambdas(100)).kind, "lambda");
    assertBadRequest(() => parseFilter(nestedLambdas(101)), /nests deeper than 100 levels/);
  });

  it("caps the input at 8,000 characters", () => {
    const filter = (length: number) => `a eq '${"x".repeat(length - 7)}'`;
    assert.equal(filter(MAX_FILTER_LENGTH).length, 8000);
    assert.equal(parseFilter(filter(8000)).kind, "compare");
    assertBadRequest(() => parseFilter(filter(8001)), "The $filter expression is 8001 characters long; the limit is 8000.");
    // A long left-associative chain is parsed iteratively and stays well within the stack.
    const chain = Array.from({ length: 700 }, (_, i) => `a eq ${i}`).join(" or ").slice(0, 8000);
    assert.equal(parseFilter(chain.slice(0, chain.lastIndexOf(" or "))).kind, "logical");
  });
});

/** The position of the token a syntax error names: the end for "end of input", else the found token. */
function expectedPosition(text: string, detail: string): number {
  if (detail.endsWith("end of input")) return text.length;
  const found = detail.slice(detail.indexOf(" but found ") + " but found ".length);
  const quoted = found.startsWith("the string ") ? found.slice("the string ".length) : found.slice(1, -1);
  return text.lastIndexOf(quoted);
}

// ---------------------------------------------------------------------------------------------------------
// Printer

describe("printer", () => {
  it("prints canonical text with only the parentheses precedence needs", () => {
    const cases: [string, string][] = [
      ["A EQ 1 AND (B EQ 2) OR NOT (C EQ 3)", "A eq 1 and B eq 2 or not C eq 3"],
      ["a eq 1 or (b eq 2 or c eq 3)", "a eq 1 or (b eq 2 or c eq 3)"],
      ["(a eq 1 or b eq 2) and c eq 3", "(a eq 1 or b eq 2) and c eq 3"],
      ["not (a eq 1 and b eq 2)", "not (a eq 1 and b eq 2)"],
      ["(a eq 1) eq true", "(a eq 1) eq true"],
      ["x   in   ( 'a' ,  'b' )", "x in ('a','b')"],
      ["contains( displayName , 'it''s' )", "contains(displayName,'it''s')"],
      ["groupTypes/ANY( c : c eq 'Unified' )", "groupTypes/any(c:c eq 'Unified')"],
      ["tags/any()", "tags/any()"],
      ["tags/any(t:true)", "tags/any(t:true)"],
      ["id eq 7C9E6679-7425-40DE-944B-E07FC1F90AE7", "id eq 7c9e6679-7425-40de-944b-e07fc1f90ae7"],
      ["n eq 1.50 or n eq -3 or n eq 1E5", "n eq 1.50 or n eq -3 or n eq 1E5"],
      ["s eq microsoft.graph.state'a''b'", "s eq microsoft.graph.state'a''b'"],
    ];
    for (const [input, canonical] of cases) {
      assert.equal(printFilter(parseFilter(input)), canonical, input);
      assert.deepEqual(parseFilter(canonical), parseFilter(input), canonical);
    }
  });

  it("round-trips random syntax trees: parse(print(ast)) deep-equals ast", () => {
    fc.assert(
      fc.property(filterExprArbitrary, (expr) => {
        const text = printFilter(expr);
        assert.deepStrictEqual(parseFilter(text), expr, text);
      }),
      { numRuns: 1000 },
    );
  });

  it("never fails on arbitrary text with anything but a 400 GraphError, and never hangs", () => {
    fc.assert(
      fc.property(noisyFilterText, (text) => {
        const started = performance.now();
        try {
          const expr = parseFilter(text);
          assert.deepStrictEqual(parseFilter(printFilter(expr)), expr);
        } catch (error) {
          assert.ok(error instanceof GraphError, `non-GraphError for ${JSON.stringify(text)}: ${String(error)}`);
          assert.equal(error.status, 400);
        }
        assert.ok(performance.now() - started < 500, `slow on ${JSON.stringify(text)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it("handles adversarial inputs at the length limit quickly", () => {
    const adversarial = [
      "(".repeat(8000),
      "not ".repeat(2000),
      "'".repeat(7999),
      "a/".repeat(3999) + "a",
      "a eq 1 or ".repeat(799) + "a eq 1",
      "b or ".repeat(1599) + "b",
      "x in (" + "1,".repeat(3990) + "1)",
      "tolower(".repeat(1000),
      "t/any(x:".repeat(1000),
    ];
    assert.ok(!sameTree(parseFilter("a eq 1 or a eq 2"), parseFilter("a eq 1 or a eq 1")), "sameTree tells trees apart");
    for (const text of adversarial) {
      const started = performance.now();
      try {
        const expr = parseFilter(text);
        // deepStrictEqual recurses a few large frames per level, and an 800-deep run of ORs overflows it.
        assert.ok(sameTree(parseFilter(printFilter(expr)), expr), `round trip changed ${text.slice(0, 30)}…`);
        filterToSql(expr, testResolver, sqliteDialect, []);
      } catch (error) {
        assert.ok(error instanceof GraphError && error.status === 400, String(error));
      }
      assert.ok(performance.now() - started < 1000, `slow on ${text.slice(0, 30)}…`);
    }
  });
});

/** Deep equality of plain JSON-like trees, walked with a stack so that any depth the parser allows fits. */
function sameTree(left: unknown, right: unknown): boolean {
  const pending: [unknown, unknown][] = [[left, right]];
  while (pending.length > 0) {
    const [a, b] = pending.pop()!;
    if (Object.is(a, b)) continue;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(b, key)) return false;
      pending.push([(a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]]);
    }
  }
  return true;
}

const identifier = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/)
  .filter((name) => !RESERVED_WORDS.has(name.toLowerCase()));
const qualifiedName = fc.array(identifier, { minLength: 2, maxLength: 3 }).map((parts) => parts.join("."));
const pathSegment = fc.oneof({ weight: 6, arbitrary: identifier }, { weight: 1, arbitrary: qualifiedName });
const path = fc.array(pathSegment, { minLength: 1, maxLength: 3 });
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: fc.constantFrom("'", "''", " ", "a", "%", "_", "\\", "é", "\n", ")"), maxLength: 8 }),
);
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.stringMatching(/^\d{1,6}$/),
    fc.option(fc.stringMatching(/^\d{1,4}$/)),
    fc.option(fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), fc.stringMatching(/^\d{1,2}$/))),
  )
  .map(([negative, whole, fraction, exponent]) =>
    `${negative ? "-" : ""}${whole}${fraction === null ? "" : `.${fraction}`}${exponent === null ? "" : exponent.join("")}`,
  );
const literalArbitrary: fc.Arbitrary<LiteralValue> = fc.oneof(
  anyString.map((value): LiteralValue => ({ type: "string", value })),
  numberText.map((text): LiteralValue => ({ type: "number", value: Number(text), text })),
  fc.boolean().map((value): LiteralValue => ({ type: "boolean", value })),
  fc.constant<LiteralValue>({ type: "null" }),
  fc.uuid().map((value): LiteralValue => ({ type: "guid", value: value.toLowerCase() })),
  fc
    .stringMatching(/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?([Zz]|[+-]\d{2}:\d{2})$/)
    .map((value): LiteralValue => ({ type: "dateTimeOffset", value })),
  fc.tuple(qualifiedName, anyString).map(([enumType, value]): LiteralValue => ({ type: "enum", enumType, value })),
);

const filterExprArbitrary: fc.Arbitrary<FilterExpr> = fc.letrec<{ expr: FilterExpr }>((tie) => {
  const expr = tie("expr");
  const functionName = fc.constantFrom(...(Object.keys(FUNCTION_ARITY) as FunctionName[]));
  return {
    expr: fc.oneof(
      { depthSize: "small", maxDepth: 6 },
      literalArbitrary.map((literal): FilterExpr => ({ kind: "literal", literal })),
      path.map((segments): FilterExpr => ({ kind: "property", path: segments })),
      fc
        .tuple(fc.constantFrom(...COMPARISON_OPERATORS), expr, expr)
        .map(([op, left, right]): FilterExpr => ({ kind: "compare", op, left, right })),
      fc
        .tuple(fc.constantFrom("and" as const, "or" as const), expr, expr)
        .map(([op, left, right]): FilterExpr => ({ kind: "logical", op, left, right })),
      expr.map((operand): FilterExpr => ({ kind: "not", operand })),
      fc
        .tuple(expr, fc.array(literalArbitrary, { maxLength: 4 }))
        .map(([operand, values]): FilterExpr => ({ kind: "in", operand, values })),
      functionName.chain((name) =>
        fc
          .array(expr, { minLength: FUNCTION_ARITY[name], maxLength: FUNCTION_ARITY[name] })
          .map((args): FilterExpr => ({ kind: "call", name, args })),
      ),
      fc
        .tuple(fc.constantFrom("any" as const, "all" as const), path, identifier.filter((v) => !v.includes(".")), expr)
        .map(([quantifier, collection, variable, predicate]): FilterExpr => ({ kind: "lambda", quantifier, collection, variable, predicate })),
      path.map((collection): FilterExpr => ({
        kind: "lambda",
        quantifier: "any",
        collection,
        variable: NOT_EMPTY_VARIABLE,
        predicate: notEmptyPredicate(),
      })),
    ),
  };
}).expr;

const filterFragments = [
  "(", ")", "'", "''", " ", "  ", ",", "/", ":", "eq", "EQ", "ne", "gt", "and", "or", "not", "in", "any", "all", "any(",
  "all(", "a", "b/c", "x:", "1", "-", ".", "e5", "1.5", "2024-01-02T03:04:05Z", "2024-01-02", "12:00",
  "0f8fad5b-d9cb-469f-a165-70867728950e", "contains(", "tolower(", "startswith", "true", "null", "microsoft.graph.s",
  "microsoft.graph.s'", "$", "é", "\t", "\n", "()", "in (", "😀",
];
const noisyFilterText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 120 }),
  fc.array(fc.constantFrom(...filterFragments), { maxLength: 60 }).map((parts) => parts.join("")),
  fc.array(fc.constantFrom(...filterFragments), { maxLength: 60 }).map((parts) => parts.join(" ")),
);

// ---------------------------------------------------------------------------------------------------------
// toSql: a device table with one column of each filterable type and a JSON document holding two arrays

interface Device {
  id: number;
  displayName: string | null;
  document: { tags?: (string | null)[]; ports?: number[] };
  count: number | null;
  isEnabled: boolean | null;
  createdDateTime: string | null;
  complianceState: string;
  deviceId: string | null;
}

const DEVICES: Device[] = [
  {
    id: 1,
    displayName: "Alpha Laptop",
    document: { tags: ["Unified", "DynamicMembership"], ports: [80, 443] },
    count: 3,
    isEnabled: true,
    createdDateTime: "2024-01-02T03:04:05.000Z",
    complianceState: "compliant",
    deviceId: "0f8fad5b-d9cb-469f-a165-70867728950e",
  },
  {
    id: 2,
    displayName: "beta_phone",
    document: { tags: ["unified"], ports: [22] },
    count: 10,
    isEnabled: false,
    createdDateTime: "2024-06-01T00:00:00.000Z",
    complianceState: "noncompliant",
    deviceId: "7C9E6679-7425-40DE-944B-E07FC1F90AE7",
  },
  {
    id: 3,
    displayName: "100% Gamma",
    document: { tags: [], ports: [] },
    count: null,
    isEnabled: true,
    createdDateTime: "2023-12-31T23:59:59.999Z",
    complianceState: "compliant",
    deviceId: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  },
  {
    id: 4,
    displayName: null,
    document: { tags: ["Security"], ports: [8080] },
    count: 0,
    isEnabled: null,
    createdDateTime: null,
    complianceState: "unknown",
    deviceId: null,
  },
  {
    id: 5,
    displayName: "back\\slash",
    document: {},
    count: -5,
    isEnabled: true,
    createdDateTime: "2025-02-28T12:00:00.000Z",
    complianceState: "inGracePeriod",
    deviceId: "16fd2706-8baf-433b-82eb-8c7fada847da",
  },
  {
    id: 6,
    displayName: "Delta",
    document: { tags: ["Unified", null], ports: [443, 1.5] },
    count: 25,
    isEnabled: false,
    createdDateTime: "2024-01-02T03:04:05.001Z",
    complianceState: "noncompliant",
    deviceId: "886313e1-3b8a-5372-9b90-0c9aee199e5d",
  },
];

const COLUMNS: Record<string, { sql: string; type: FilterValueType; edmType?: string }> = {
  displayName: { sql: "t.display_name", type: "string" },
  count: { sql: "t.count", type: "number" },
  isEnabled: { sql: "t.enabled", type: "boolean" },
  createdDateTime: { sql: "t.created", type: "dateTimeOffset" },
  complianceState: { sql: "t.state", type: "enum", edmType: "microsoft.graph.complianceState" },
  deviceId: { sql: "t.device_id", type: "guid" },
};
const ARRAYS: Record<string, FilterValueType> = { tags: "string", ports: "number" };

const testResolver: FilterPropertyResolver = (path): ResolvedFilterProperty => {
  const [name] = path;
  if (path.length === 1 && Object.hasOwn(COLUMNS, name)) return { collection: false, ...COLUMNS[name] };
  if (path.length === 1 && Object.hasOwn(ARRAYS, name)) {
    return { collection: true, documentSql: "t.doc", jsonName: name, type: ARRAYS[name] };
  }
  throw badRequest(`Could not find a property named '${path.join("/")}' on type 'microsoft.graph.managedDevice'.`);
};

function translate(filter: string, dialect: SqlDialect, params: unknown[] = []) {
  const sql = filterToSql(parseFilter(filter), testResolver, dialect, params);
  return { sql, params };
}

describe("filterToSql", () => {
  it("writes dialect-specific SQL and binds every literal", () => {
    const cases: { filter: string; sqlite: string; postgres: string; sqliteParams: unknown[]; postgresParams?: unknown[] }[] = [
      {
        filter: "displayName eq 'Alpha'",
        sqlite: "t.display_name = ?",
        postgres: "lower(t.display_name) = lower($1)",
        sqliteParams: ["Alpha"],
      },
      {
        filter: "tolower(displayName) eq 'alpha'",
        sqlite: "t.display_name = ?",
        postgres: "lower(t.display_name) = lower($1)",
        sqliteParams: ["alpha"],
      },
      {
        filter: "'a' lt displayName",
        sqlite: "t.display_name > ?",
        postgres: "lower(t.display_name) > lower($1)",
        sqliteParams: ["a"],
      },
      {
        filter: "displayName ne 'a'",
        sqlite: "(t.display_name <> ? OR t.display_name IS NULL)",
        postgres: "(lower(t.display_name) <> lower($1) OR t.display_name IS NULL)",
        sqliteParams: ["a"],
      },
      {
        filter: "contains(displayName,'10%_x\\')",
        sqlite: "t.display_name LIKE ? ESCAPE '\\'",
        postgres: "t.display_name ILIKE $1 ESCAPE '\\'",
        sqliteParams: ["%10\\%\\_x\\\\%"],
      },
      {
        filter: "startswith(displayName,'a') or endswith(displayName,'z')",
        sqlite: "(t.display_name LIKE ? ESCAPE '\\' OR t.display_name LIKE ? ESCAPE '\\')",
        postgres: "(t.display_name ILIKE $1 ESCAPE '\\' OR t.display_name ILIKE $2 ESCAPE '\\')",
        sqliteParams: ["a%", "%z"],
      },
      {
        filter: "count gt 2 and isEnabled eq true",
        sqlite: "(t.count > CAST(? AS NUMERIC) AND t.enabled = ?)",
        postgres: "(t.count > CAST($1 AS NUMERIC) AND t.enabled = $2)",
        sqliteParams: [2, 1],
        postgresParams: [2, true],
      },
      {
        filter: "isEnabled",
        sqlite: "t.enabled = ?",
        postgres: "t.enabled = $1",
        sqliteParams: [1],
        postgresParams: [true],
      },
      { filter: "displayName eq null", sqlite: "t.display_name IS NULL", postgres: "t.display_name IS NULL", sqliteParams: [] },
      { filter: "null ne count", sqlite: "t.count IS NOT NULL", postgres: "t.count IS NOT NULL", sqliteParams: [] },
      {
        filter: "not (displayName eq 'a')",
        sqlite: "NOT ((t.display_name IS NOT NULL AND t.display_name = ?))",
        postgres: "NOT ((t.display_name IS NOT NULL AND lower(t.display_name) = lower($1)))",
        sqliteParams: ["a"],
      },
      {
        filter: "count in (1, 2.5)",
        sqlite: "(t.count = CAST(? AS NUMERIC) OR t.count = CAST(? AS NUMERIC))",
        postgres: "(t.count = CAST($1 AS NUMERIC) OR t.count = CAST($2 AS NUMERIC))",
        sqliteParams: [1, 2.5],
      },
      { filter: "count in ()", sqlite: "?", postgres: "$1", sqliteParams: [0], postgresParams: [false] },
      {
        filter: "createdDateTime ge 2024-01-02T04:04:05+01:00",
        sqlite: "t.created >= ?",
        postgres: "lower(t.created) >= lower($1)",
        sqliteParams: ["2024-01-02T03:04:05.000Z"],
      },
      {
        filter: "complianceState eq microsoft.graph.complianceState'compliant'",
        sqlite: "t.state = ?",
        postgres: "lower(t.state) = lower($1)",
        sqliteParams: ["compliant"],
      },
      {
        filter: "deviceId eq 7C9E6679-7425-40DE-944B-E07FC1F90AE7",
        sqlite: "t.device_id = ?",
        postgres: "lower(t.device_id) = lower($1)",
        sqliteParams: ["7c9e6679-7425-40de-944b-e07fc1f90ae7"],
      },
      {
        filter: "tags/any(c:c eq 'Unified')",
        sqlite: "EXISTS (SELECT 1 FROM json_each(t.doc, '$.tags') AS e WHERE e.value COLLATE NOCASE = ?)",
        postgres: "EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.doc->'tags') AS e(v) WHERE lower(e.v) = lower($1))",
        sqliteParams: ["Unified"],
      },
      {
        filter: "tags/all(c:c ne 'a')",
        sqlite:
          "NOT (EXISTS (SELECT 1 FROM json_each(t.doc, '$.tags') AS e WHERE NOT ((e.value COLLATE NOCASE <> ? OR e.value COLLATE NOCASE IS NULL))))",
        postgres:
          "NOT (EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.doc->'tags') AS e(v) WHERE NOT ((lower(e.v) <> lower($1) OR e.v IS NULL))))",
        sqliteParams: ["a"],
      },
      {
        filter: "ports/any(p:p gt 100)",
        sqlite: "EXISTS (SELECT 1 FROM json_each(t.doc, '$.ports') AS e WHERE CAST(e.value COLLATE NOCASE AS NUMERIC) > CAST(? AS NUMERIC))",
        postgres: "EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.doc->'ports') AS e(v) WHERE CAST(e.v AS NUMERIC) > CAST($1 AS NUMERIC))",
        sqliteParams: [100],
      },
      {
        filter: "tags/any()",
        sqlite: "EXISTS (SELECT 1 FROM json_each(t.doc, '$.tags') AS e WHERE ?)",
        postgres: "EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.doc->'tags') AS e(v) WHERE $1)",
        sqliteParams: [1],
        postgresParams: [true],
      },
    ];
    for (const { filter, sqlite, postgres, sqliteParams, postgresParams = sqliteParams } of cases) {
      assert.deepEqual(translate(filter, sqliteDialect), { sql: sqlite, params: sqliteParams }, filter);
      assert.deepEqual(translate(filter, postgresDialect), { sql: postgres, params: postgresParams }, filter);
    }
  });

  it("numbers placeholders after the caller's own parameters", () => {
    const { sql, params } = translate("displayName eq 'a' and count eq 1", postgresDialect, ["tenant-1"]);
    assert.equal(sql, "(lower(t.display_name) = lower($2) AND t.count = CAST($3 AS NUMERIC))");
    assert.deepEqual(params, ["tenant-1", "a", 1]);
  });

  it("never writes a literal value into the SQL text", () => {
    const { sql } = translate("displayName eq 'x'' OR 1=1 --' or contains(displayName,'zz9') or count eq 987654", sqliteDialect);
    assert.doesNotMatch(sql, /OR 1=1|zz9|987654/);
  });

  it("balances long chains of and/or so SQLite's expression depth limit is not reached", () => {
    const { sql } = translate(Array.from({ length: 8 }, (_, i) => `count eq ${i}`).join(" or "), sqliteDialect);
    assert.equal(sql, "(((t.count = CAST(? AS NUMERIC) OR t.count = CAST(? AS NUMERIC)) OR (t.count = CAST(? AS NUMERIC) OR t.count = CAST(? AS NUMERIC))) OR ((t.count = CAST(? AS NUMERIC) OR t.count = CAST(? AS NUMERIC)) OR (t.count = CAST(? AS NUMERIC) OR t.count = CAST(? AS NUMERIC))))");
  });

  it("rejects type mismatches with Graph's wording", () => {
    const incompatible = (left: string, right: string, kind: string) =>
      `A binary operator with incompatible types was detected. Found operand types '${left}' and '${right}' for operator kind '${kind}'.`;
    const cases: [string, string][] = [
      ["displayName eq 1", incompatible("Edm.String", "Edm.Int32", "Equal")],
      ["displayName ne 3000000000", incompatible("Edm.String", "Edm.Int64", "NotEqual")],
      ["1.5 lt displayName", incompatible("Edm.Decimal", "Edm.String", "LessThan")],
      ["displayName ge 1e3", incompatible("Edm.String", "Edm.Double", "GreaterThanOrEqual")],
      ["isEnabled eq 'true'", incompatible("Edm.Boolean", "Edm.String", "Equal")],
      ["count gt 2024-01-01T00:00:00Z", incompatible("Edm.Int32", "Edm.DateTimeOffset", "GreaterThan")],
      ["createdDateTime le '2024-01-01'", incompatible("Edm.DateTimeOffset", "Edm.String", "LessThanOrEqual")],
      ["displayName eq 7c9e6679-7425-40de-944b-e07fc1f90ae7", incompatible("Edm.String", "Edm.Guid", "Equal")],
      ["deviceId eq true", incompatible("Edm.Guid", "Edm.Boolean", "Equal")],
      ["complianceState eq microsoft.graph.other'compliant'", incompatible("microsoft.graph.complianceState", "microsoft.graph.other", "Equal")],
      ["complianceState in ('compliant', 2)", incompatible("microsoft.graph.complianceState", "Edm.Int32", "Equal")],
      ["tags/any(c:c eq 1)", incompatible("Edm.String", "Edm.Int32", "Equal")],
      ["ports/any(p:p eq 'a')", incompatible("Edm.Int32", "Edm.String", "Equal")],
    ];
    for (const [filter, message] of cases) assertBadRequest(() => translate(filter, sqliteDialect), message);
  });

  it("rejects shapes it cannot translate, with a short reason", () => {
    const invalid = (reason: string) => `The query specified in the URI is not valid. ${reason}`;
    const comparisonShape = invalid("A comparison must have a property on one side and a literal on the other.");
    const cases: [string, string | RegExp][] = [
      ["displayName eq deviceId", comparisonShape],
      ["'a' eq 'b'", comparisonShape],
      ["displayName eq tolower('a')", comparisonShape],
      ["contains(displayName,'a') eq true", comparisonShape],
      ["(count eq 1) eq true", comparisonShape],
      ["count gt null", invalid("Only 'eq' and 'ne' can compare with null; found 'gt'.")],
      ["complianceState gt 'compliant'", invalid("Enumeration properties can only be compared with 'eq', 'ne' or 'in'; found 'gt'.")],
      ["'a' in ('a')", invalid("The left side of 'in' must be a property.")],
      ["displayName", invalid("The $filter expression must evaluate to a single boolean value.")],
      ["tolower(displayName)", invalid("The $filter expression must evaluate to a single boolean value.")],
      ["count eq 1 and 'x'", invalid("The $filter expression must evaluate to a single boolean value.")],
      ["displayName/any(c:c eq 'a')", invalid("The property 'displayName' is not a collection, so 'any' cannot be applied to it.")],
      ["tags eq 'a'", invalid("The property 'tags' is a collection; filter it with any() or all().")],
      ["contains(tags,'a')", invalid("The property 'tags' is a collection; filter it with any() or all().")],
      ["tags/any(c:c/name eq 'a')", invalid("The lambda variable 'c' stands for a single value and has no property 'name'.")],
      ["tags/any(c:c/all(d:d eq 'a'))", invalid("The lambda variable 'c' stands for a single value, so 'all' cannot be applied to 'c'.")],
      ["tags/any(c:ports/any(p:c eq 'a'))", invalid("The lambda variable 'c' cannot be used inside a nested lambda.")],
      ["contains('abc',displayName)", invalid("The function 'contains' needs a property as its first argument and a literal as its second.")],
      ["tolower('A') eq 'a'", invalid("The function 'tolower' can only be applied to a property.")],
      ["contains(count,'1')", /^No function signature for the function with name 'contains' matches the specified arguments\./],
      ["startswith(displayName,1)", /^No function signature for the function with name 'startswith'/],
      ["tolower(count) eq 'a'", /^No function signature for the function with name 'tolower'/],
      ["nope eq 1", "Could not find a property named 'nope' on type 'microsoft.graph.managedDevice'."],
      ["tags/any(c:nope eq 1)", "Could not find a property named 'nope' on type 'microsoft.graph.managedDevice'."],
      [
        "createdDateTime gt 2024-02-30T00:00:00Z",
        "The DateTimeOffset text '2024-02-30T00:00:00Z' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.",
      ],
      ["createdDateTime gt 2024-13-01T00:00:00Z", /^The DateTimeOffset text '2024-13-01T00:00:00Z'/],
      ["createdDateTime gt 2024-01-01T24:00:00Z", /^The DateTimeOffset text/],
      ["createdDateTime gt 2024-01-01T00:00:00+15:00", /^The DateTimeOffset text/],
    ];
    for (const [filter, message] of cases) assertBadRequest(() => translate(filter, postgresDialect), message);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The generated SQL, executed on real databases

/** [filter, ids of the matching devices] — the same expectations hold for SQLite and PostgreSQL. */
const EXECUTION_CASES: [string, number[]][] = [
  // case-insensitive equality and text matching
  ["displayName eq 'ALPHA LAPTOP'", [1]],
  ["'delta' eq displayName", [6]],
  ["tolower(displayName) eq 'DELTA'", [6]],
  ["contains(displayName,'PHONE')", [2]],
  ["endswith(displayName,'A')", [3, 6]],
  ["startswith(displayName,'al')", [1]],
  // LIKE wildcards in the literal match themselves only
  ["contains(displayName,'%')", [3]],
  ["contains(displayName,'_')", [2]],
  ["startswith(displayName,'100%')", [3]],
  ["startswith(displayName,'1_0')", []],
  ["contains(displayName,'a%a')", []],
  ["contains(displayName,'\\')", [5]],
  ["displayName ge 'c'", [6]],
  // nulls, with OData's two-valued logic
  ["displayName eq null", [4]],
  ["displayName ne null", [1, 2, 3, 5, 6]],
  ["displayName ne 'delta'", [1, 2, 3, 4, 5]],
  ["not (displayName eq 'delta')", [1, 2, 3, 4, 5]],
  ["not contains(displayName,'a')", [4]],
  ["count eq null", [3]],
  ["not (count gt 2)", [3, 4, 5]],
  ["not (count gt 2 or isEnabled)", [4]],
  ["not not (count gt 2)", [1, 2, 6]],
  // numbers
  ["count gt 2", [1, 2, 6]],
  ["count le 0", [4, 5]],
  ["count ge -5 and count lt 3.5", [1, 4, 5]],
  ["3 lt count", [2, 6]],
  ["count eq 1e1", [2]],
  // in
  ["count in (3, 25)", [1, 6]],
  ["displayName in ('delta', 'BETA_PHONE')", [2, 6]],
  ["displayName in ('delta', null)", [4, 6]],
  ["displayName in ()", []],
  ["not (displayName in ())", [1, 2, 3, 4, 5, 6]],
  ["not (displayName in ('delta'))", [1, 2, 3, 4, 5]],
  ["complianceState in ('COMPLIANT', microsoft.graph.complianceState'unknown')", [1, 3, 4]],
  // booleans
  ["isEnabled", [1, 3, 5]],
  ["isEnabled eq false", [2, 6]],
  ["not isEnabled", [2, 4, 6]],
  ["isEnabled ne true", [2, 4, 6]],
  ["isEnabled eq null", [4]],
  ["true", [1, 2, 3, 4, 5, 6]],
  ["not true", []],
  // dates: offsets and fractions are normalised before the text comparison
  ["createdDateTime gt 2024-01-02T03:04:05Z", [2, 5, 6]],
  ["createdDateTime ge 2024-01-02T04:04:05+01:00", [1, 2, 5, 6]],
  ["createdDateTime lt 2024-01-01T00:00Z", [3]],
  ["createdDateTime eq 2024-01-02T03:04:05.001Z", [6]],
  ["createdDateTime eq null", [4]],
  ["not (createdDateTime lt 2024-06-01T00:00:00Z)", [2, 4, 5]],
  // enums and GUIDs
  ["complianceState eq 'COMPLIANT'", [1, 3]],
  ["complianceState eq microsoft.graph.complianceState'noncompliant'", [2, 6]],
  ["complianceState ne 'compliant'", [2, 4, 5, 6]],
  ["deviceId eq 7c9e6679-7425-40de-944b-e07fc1f90ae7", [2]],
  ["deviceId eq '0F8FAD5B-D9CB-469F-A165-70867728950E'", [1]],
  ["deviceId ne 0f8fad5b-d9cb-469f-a165-70867728950e", [2, 3, 4, 5, 6]],
  // lambdas
  ["tags/any(c:c eq 'unified')", [1, 2, 6]],
  ["tags/any()", [1, 2, 4, 6]],
  ["not tags/any()", [3, 5]],
  ["tags/all(c:c eq 'Unified')", [2, 3, 5]],
  ["tags/all(c:c ne 'security')", [1, 2, 3, 5, 6]],
  ["tags/any(c:startswith(c,'DYN'))", [1]],
  ["tags/any(c:tolower(c) eq 'security')", [4]],
  ["tags/any(c:c eq null)", [6]],
  ["tags/any(c:not (c eq 'unified'))", [1, 4, 6]],
  ["tags/any(c:c in ('security', 'dynamicmembership'))", [1, 4]],
  ["tags/any(c:c eq 'unified') and count lt 20", [1, 2]],
  ["tags/any(c:c eq 'unified' and isEnabled)", [1]],
  ["tags/any(c:c eq 'unified' and ports/any(p:p eq 443))", [1, 6]],
  ["ports/any(p:p gt 1000)", [4]],
  ["ports/any(p:p lt 2)", [6]],
  ["ports/any(p:p eq 1.5)", [6]],
  ["ports/all(p:p ge 80)", [1, 3, 4, 5]],
  ["not ports/all(p:p ge 80)", [2, 6]],
];

interface FilterDatabase {
  /** Ids of the devices matching the SQL fragment, in ascending order. */
  matching(sql: string, params: unknown[]): Promise<number[]>;
}

function openSqlite(): FilterDatabase & { close(): void } {
  const db = new Database(":memory:");
  db.exec(`CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    display_name TEXT COLLATE NOCASE,
    doc TEXT NOT NULL,
    count INTEGER,
    enabled INTEGER,
    created TEXT,
    state TEXT COLLATE NOCASE,
    device_id TEXT COLLATE NOCASE
  )`);
  const insert = db.prepare("INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const d of DEVICES) {
    const enabled = d.isEnabled === null ? null : d.isEnabled ? 1 : 0;
    insert.run(d.id, d.displayName, JSON.stringify(d.document), d.count, enabled, d.createdDateTime, d.complianceState, d.deviceId);
  }
  return {
    matching: async (sql, params) =>
      db.prepare(`SELECT t.id FROM devices AS t WHERE ${sql} ORDER BY t.id`).pluck().all(...params) as number[],
    close: () => db.close(),
  };
}

async function openPostgres(client: pg.Client): Promise<FilterDatabase> {
  // COLLATE "C" makes text ordering byte-wise, as SQLite's NOCASE is, whatever the server's default collation.
  await client.query(`CREATE TEMP TABLE devices (
    id integer PRIMARY KEY,
    display_name text COLLATE "C",
    doc jsonb NOT NULL,
    count integer,
    enabled boolean,
    created text,
    state text,
    device_id text
  )`);
  for (const d of DEVICES) {
    await client.query("INSERT INTO devices VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)", [
      d.id, d.displayName, JSON.stringify(d.document), d.count, d.isEnabled, d.createdDateTime, d.complianceState, d.deviceId,
    ]);
  }
  return {
    matching: async (sql, params) =>
      (await client.query<{ id: number }>(`SELECT t.id FROM devices AS t WHERE ${sql} ORDER BY t.id`, params)).rows.map((row) => row.id),
  };
}

/** `isEnabled or isEnabled or …`, left-deep as the parser builds it; as text it would exceed 8,000 characters. */
function longOrChain(terms: number): FilterExpr {
  let chain = prop("isEnabled");
  for (let i = 1; i < terms; i++) chain = or(chain, prop("isEnabled"));
  return chain;
}

async function runExecutionCases(db: FilterDatabase, dialect: SqlDialect) {
  for (const [filter, expected] of EXECUTION_CASES) {
    const { sql, params } = translate(filter, dialect);
    assert.deepEqual(await db.matching(sql, params), expected, `${filter}\n  ${sql}\n  ${JSON.stringify(params)}`);
  }
}

/** Random well-typed filters must select exactly the devices a direct evaluation of OData's semantics selects. */
async function runDifferentialProperty(db: FilterDatabase, dialect: SqlDialect, numRuns: number) {
  await fc.assert(
    fc.asyncProperty(deviceFilterArbitrary, async (expr) => {
      const text = printFilter(expr);
      const params: unknown[] = [];
      const sql = filterToSql(parseFilter(text), testResolver, dialect, params);
      const expected = DEVICES.filter((device) => evaluate(expr, device)).map((device) => device.id);
      assert.deepEqual(await db.matching(sql, params), expected, `${text}\n  ${sql}`);
    }),
    { numRuns },
  );
}

describe("filterToSql on SQLite (better-sqlite3)", () => {
  let db: ReturnType<typeof openSqlite>;
  before(() => {
    db = openSqlite();
  });
  after(() => db.close());

  it("selects the expected rows for every execution case", () => runExecutionCases(db, sqliteDialect));

  it("agrees with a direct evaluation on random filters", () => runDifferentialProperty(db, sqliteDialect, 500));

  it("runs a 1,600-term or-chain and in-list (beyond SQLite's expression depth limit of 1,000 if left unbalanced)", async () => {
    const params: unknown[] = [];
    const sql = filterToSql(longOrChain(1600), testResolver, sqliteDialect, params);
    assert.deepEqual(await db.matching(sql, params), [1, 3, 5]);
    const list = translate(`count in (${Array(1600).fill("25").join(",")})`, sqliteDialect);
    assert.deepEqual(await db.matching(list.sql, list.params), [6]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The oracle for the differential property: OData semantics evaluated directly on DEVICES

/** The lambda element in scope while evaluating a lambda's predicate. */
interface Element {
  variable: string;
  value: string | number | null;
  type: FilterValueType;
}

function evaluate(expr: FilterExpr, device: Device, element?: Element): boolean {
  switch (expr.kind) {
    case "logical":
      return expr.op === "and"
        ? evaluate(expr.left, device, element) && evaluate(expr.right, device, element)
        : evaluate(expr.left, device, element) || evaluate(expr.right, device, element);
    case "not":
      return !evaluate(expr.operand, device, element);
    case "literal":
      return expr.literal.type === "boolean" && expr.literal.value;
    case "property":
      return valueOf(expr, device, element).value === true;
    case "compare": {
      const flipped = expr.left.kind === "literal";
      const subject = valueOf(flipped ? expr.right : expr.left, device, element);
      const literal = (flipped ? expr.left : expr.right) as Extract<FilterExpr, { kind: "literal" }>;
      const op = flipped ? ({ eq: "eq", ne: "ne", gt: "lt", ge: "le", lt: "gt", le: "ge" } as const)[expr.op] : expr.op;
      return compareValues(subject, op, literal.literal);
    }
    case "in": {
      const subject = valueOf(expr.operand, device, element);
      return expr.values.some((value) => compareValues(subject, "eq", value));
    }
    case "call": {
      const { value } = valueOf(expr.args[0], device, element);
      const pattern = expr.args[1] as Extract<FilterExpr, { kind: "literal" }>;
      if (typeof value !== "string" || pattern.literal.type !== "string") return false;
      const [text, part] = [value.toLowerCase(), pattern.literal.value.toLowerCase()];
      return expr.name === "contains" ? text.includes(part) : expr.name === "startswith" ? text.startsWith(part) : text.endsWith(part);
    }
    case "lambda": {
      const name = expr.collection[0] as "tags" | "ports";
      const items: (string | number | null)[] = device.document[name] ?? [];
      const holds = (value: string | number | null) =>
        evaluate(expr.predicate, device, { variable: expr.variable, value, type: ARRAYS[name] });
      return expr.quantifier === "any" ? items.some(holds) : items.every(holds);
    }
  }
}

function valueOf(expr: FilterExpr, device: Device, element?: Element): { value: unknown; type: FilterValueType } {
  if (expr.kind === "call") return valueOf(expr.args[0], device, element); // tolower/toupper
  const [name] = (expr as Extract<FilterExpr, { kind: "property" }>).path;
  if (element !== undefined && name === element.variable) return { value: element.value, type: element.type };
  return { value: device[name as keyof Device], type: COLUMNS[name].type };
}

function compareValues(subject: { value: unknown; type: FilterValueType }, op: ComparisonOperator, literal: LiteralValue): boolean {
  if (literal.type === "null") return op === "eq" ? subject.value === null : subject.value !== null;
  if (subject.value === null || subject.value === undefined) return op === "ne";
  const normalise = (value: unknown): unknown => {
    if (subject.type === "dateTimeOffset") return new Date(String(value).toUpperCase()).toISOString();
    return typeof value === "string" ? value.toLowerCase() : value;
  };
  const left = normalise(subject.value) as string | number | boolean;
  const right = normalise("value" in literal ? literal.value : null) as string | number | boolean;
  switch (op) {
    case "eq":
      return left === right;
    case "ne":
      return left !== right;
    case "gt":
      return left > right;
    case "ge":
      return left >= right;
    case "lt":
      return left < right;
    case "le":
      return left <= right;
  }
}

// Generators of well-typed filters over DEVICES, with literals chosen to hit the data.

const STRINGS = ["alpha laptop", "ALPHA LAPTOP", "beta_phone", "Delta", "delta", "100% Gamma", "b", "c", "z", "", "back\\slash"];
const PATTERNS = ["a", "A", "%", "_", "\\", "ph", "LAP", "0% g", "alpha", "x", "'", "ta"];
const NUMBERS = ["-5", "0", "3", "3.0", "2.5", "10", "1e1", "25", "100", "443", "1.5", "22"];
const DATES = [
  "2024-01-02T03:04:05Z",
  "2024-01-02T04:04:05+01:00",
  "2024-01-02T03:04:05.001Z",
  "2024-01-01T00:00Z",
  "2024-06-01T00:00:00.000Z",
  "2023-12-31T23:59:59.999Z",
  "2025-02-28t07:00:00-05:00",
];
const STATES = ["compliant", "COMPLIANT", "noncompliant", "unknown", "inGracePeriod", "conflict"];
const GUIDS = DEVICES.map((d) => d.deviceId).filter((id): id is string => id !== null);
const TAGS = ["unified", "Unified", "dynamicmembership", "security", "none"];

const operator = fc.constantFrom(...COMPARISON_OPERATORS);
const equality = fc.constantFrom<ComparisonOperator>("eq", "ne");
const numberLiteral = fc.constantFrom(...NUMBERS).map((text): LiteralValue => ({ type: "number", value: Number(text), text }));
const stringLiteral = (pool: string[]) => fc.constantFrom(...pool).map((value): LiteralValue => ({ type: "string", value }));
const nullLiteral = fc.constant<LiteralValue>({ type: "null" });

/** `subject op literal`, sometimes written the other way round. */
function comparison(subject: fc.Arbitrary<FilterExpr>, op: fc.Arbitrary<ComparisonOperator>, literal: fc.Arbitrary<LiteralValue>) {
  return fc.tuple(subject, op, literal, fc.boolean()).map(([left, op, literal, flip]): FilterExpr => {
    const value = lit(literal);
    if (!flip) return cmp(left, op, value);
    return cmp(value, ({ eq: "eq", ne: "ne", gt: "lt", ge: "le", lt: "gt", le: "ge" } as const)[op], left);
  });
}

function membership(subject: fc.Arbitrary<FilterExpr>, literal: fc.Arbitrary<LiteralValue>) {
  return fc.tuple(subject, fc.array(literal, { maxLength: 3 })).map(([operand, values]): FilterExpr => ({ kind: "in", operand, values }));
}

function textMatch(subject: fc.Arbitrary<FilterExpr>) {
  return fc
    .tuple(fc.constantFrom<FunctionName>("contains", "startswith", "endswith"), subject, fc.constantFrom(...PATTERNS))
    .map(([name, operand, pattern]): FilterExpr => ({ kind: "call", name, args: [operand, str(pattern)] }));
}

const displayName = fc.oneof(
  fc.constant(prop("displayName")),
  fc.constantFrom<FunctionName>("tolower", "toupper").map((name): FilterExpr => ({ kind: "call", name, args: [prop("displayName")] })),
);

const rowTest: fc.Arbitrary<FilterExpr> = fc.oneof(
  comparison(displayName, operator, stringLiteral(STRINGS)),
  textMatch(displayName),
  membership(displayName, fc.oneof(stringLiteral(STRINGS), nullLiteral)),
  comparison(
    fc.constantFrom("displayName", "count", "isEnabled", "createdDateTime", "deviceId").map((name) => prop(name)),
    equality,
    nullLiteral,
  ),
  comparison(fc.constant(prop("count")), operator, numberLiteral),
  membership(fc.constant(prop("count")), fc.oneof(numberLiteral, nullLiteral)),
  comparison(fc.constant(prop("isEnabled")), equality, fc.boolean().map((value): LiteralValue => ({ type: "boolean", value }))),
  fc.constant(prop("isEnabled")),
  comparison(
    fc.constant(prop("createdDateTime")),
    operator,
    fc.constantFrom(...DATES).map((value): LiteralValue => ({ type: "dateTimeOffset", value })),
  ),
  comparison(
    fc.constant(prop("complianceState")),
    equality,
    fc.oneof(
      stringLiteral(STATES),
      fc.constantFrom(...STATES).map((value): LiteralValue => ({ type: "enum", enumType: "microsoft.graph.complianceState", value })),
    ),
  ),
  comparison(
    fc.constant(prop("deviceId")),
    equality,
    fc.oneof(
      fc.constantFrom(...GUIDS).map((value): LiteralValue => ({ type: "guid", value: value.toLowerCase() })),
      stringLiteral(GUIDS.map((g) => g.toUpperCase())),
    ),
  ),
);

function elementTest(collection: "tags" | "ports", variable: string): fc.Arbitrary<FilterExpr> {
  const element = fc.constant(prop(variable));
  if (collection === "ports") {
    return fc.oneof(comparison(element, operator, numberLiteral), membership(element, numberLiteral));
  }
  return fc.oneof(
    comparison(element, equality, fc.oneof(stringLiteral(TAGS), nullLiteral)),
    textMatch(element),
    membership(element, stringLiteral(TAGS)),
  );
}

/** A boolean filter nested `depth` levels deep; inside a lambda it may also test the element. */
function deviceFilter(depth: number, lambda?: { collection: "tags" | "ports"; variable: string }): fc.Arbitrary<FilterExpr> {
  const leaves = lambda === undefined ? [rowTest] : [elementTest(lambda.collection, lambda.variable), rowTest];
  if (depth === 0) return fc.oneof(...leaves);
  const inner = deviceFilter(depth - 1, lambda);
  const branches = [
    ...leaves,
    fc.tuple(fc.constantFrom("and" as const, "or" as const), inner, inner).map(([op, left, right]): FilterExpr => ({ kind: "logical", op, left, right })),
    inner.map(not),
  ];
  if (lambda === undefined) {
    for (const [collection, variable] of [["tags", "c"], ["ports", "p"]] as const) {
      branches.push(
        fc
          .tuple(fc.constantFrom("any" as const, "all" as const), deviceFilter(depth - 1, { collection, variable }))
          .map(([quantifier, predicate]): FilterExpr => ({ kind: "lambda", quantifier, collection: [collection], variable, predicate })),
        fc.constant<FilterExpr>({ kind: "lambda", quantifier: "any", collection: [collection], variable: NOT_EMPTY_VARIABLE, predicate: notEmptyPredicate() }),
      );
    }
  }
  return fc.oneof(...branches);
}

const deviceFilterArbitrary = deviceFilter(3);

describe("filterToSql on arbitrary syntax trees", () => {
  it("either translates or throws a 400 GraphError", () => {
    fc.assert(
      fc.property(filterExprArbitrary, fc.constantFrom(sqliteDialect, postgresDialect), (expr, dialect) => {
        const params: unknown[] = [];
        try {
          const sql = filterToSql(expr, permissiveResolver, dialect, params);
          const placeholders = dialect === sqliteDialect ? sql.split("?").length - 1 : new Set(sql.match(/\$\d+/g)).size;
          assert.equal(placeholders, params.length, sql);
        } catch (error) {
          assert.ok(error instanceof GraphError && error.status === 400, String(error));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/** Resolves any path, choosing a type from the name, so random trees reach the type checks. */
const permissiveResolver: FilterPropertyResolver = (path) => {
  const types: FilterValueType[] = ["string", "number", "boolean", "guid", "dateTimeOffset", "enum"];
  const type = types[path.join("/").length % types.length];
  return path[0].startsWith("c")
    ? { collection: true, documentSql: "t.doc", jsonName: path.join("_"), type }
    : { collection: false, sql: `t.${path.join("_")}`, type };
};

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL: connected last, because the test runner starts the tests above while this module awaits.

const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const postgres = await connectPostgres();

async function connectPostgres(): Promise<pg.Client | Error> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  client.on("error", () => {}); // a dropped connection fails the running query; no need to crash the process
  try {
    await client.connect();
    return client;
  } catch (error) {
    return error as Error;
  }
}

if (postgres instanceof Error && process.env.CI === "true") {
  it("reaches PostgreSQL (required when CI=true)", () => {
    assert.fail(`PostgreSQL at ${POSTGRES_URL} is unreachable: ${postgres.message}`);
  });
}

describe(
  "filterToSql on PostgreSQL (pg)",
  { skip: postgres instanceof Error ? `PostgreSQL at ${POSTGRES_URL} is unreachable (${postgres.message}); skipping` : false },
  () => {
    const client = postgres as pg.Client;
    let db: FilterDatabase;
    before(async () => {
      db = await openPostgres(client);
    });
    after(() => client.end());

    it("selects the expected rows for every execution case", () => runExecutionCases(db, postgresDialect));

    it("agrees with a direct evaluation on random filters", () => runDifferentialProperty(db, postgresDialect, 300));

    it("runs a 1,600-term or-chain", async () => {
      const params: unknown[] = [];
      const sql = filterToSql(longOrChain(1600), testResolver, postgresDialect, params);
      assert.deepEqual(await db.matching(sql, params), [1, 3, 5]);
    });
  },
);
