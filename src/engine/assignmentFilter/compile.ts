// Compiles a rule tree into a predicate over a plain device record, built from closures. Everything that depends
// only on the rule is done once here: literals are lower-cased, lists become loops or sets, versions are split into
// parts, and `and`/`or` chains are flattened. What remains per evaluation is a property read and a comparison, and the
// common comparisons (-eq, -in, -startsWith, -endsWith against ASCII literals, versions) allocate nothing.
//
// Semantics (README "Semantics"):
// - Strings compare ignoring case: both sides through String.prototype.toLowerCase.
// - A missing property (absent, undefined or null) matches no positive test (-eq "x", -in, -startsWith, -contains,
//   -endsWith, -gt/-ge/-lt/-le) and every negative one: each -ne/-notX is exactly `not` its positive twin.
//   `-eq $null` holds for a missing property only; "" is a value, not null. For isRooted (boolean), anything but a
//   boolean or its text ("True", "false") reads as unknown, which is null.
// - Versions compare part by part numerically, missing parts counting as 0 (10.0 = 10.0.0.0); a device value that
//   is not a version (digits and dots, optionally followed by a parenthesised build such as " (23E224)") matches
//   neither -eq nor -gt/-ge/-lt/-le, and so matches -ne.

import { entityOf, propertiesReadBy, type FilterEntity, type FilterComparison, type FilterRuleExpr } from "./ast.js";
import { parseFilterRule } from "./parser.js";
import { findProperty, type DevicePlatform } from "./properties.js";

/** Every property name a rule can read, device and app entities together. */
export type FilterPropertyName =
  | "cpuArchitecture" | "deviceCategory" | "deviceManagementType" | "deviceName" | "deviceOwnership"
  | "deviceTrustType" | "enrollmentProfileName" | "isRooted" | "manufacturer" | "model" | "operatingSystemSKU"
  | "operatingSystemVersion" | "osVersion"
  | "appVersion" | "deviceManufacturer" | "deviceModel";

/** What a rule is evaluated against: a plain record keyed by canonical property names; missing keys are null. */
export type FilterableDevice = { readonly [K in FilterPropertyName]?: string | boolean | null | undefined };

export type FilterPredicate = (device: FilterableDevice) => boolean;

export interface CompiledFilterRule {
  readonly ast: FilterRuleExpr;
  readonly entity: FilterEntity;
  /** Canonical names of the properties the rule reads, in order of first appearance. */
  readonly properties: string[];
  matches: FilterPredicate;
}

export function compileFilterRule(text: string, platform?: DevicePlatform): CompiledFilterRule {
  return compileFilterExpr(parseFilterRule(text, platform));
}

/** Compiles a tree the parser produced (or one that obeys the same rules), e.g. one cached from an earlier parse. */
export function compileFilterExpr(ast: FilterRuleExpr): CompiledFilterRule {
  return { ast, entity: entityOf(ast), properties: propertiesReadBy(ast), matches: compileNode(ast) };
}

function compileNode(ast: FilterRuleExpr): FilterPredicate {
  if (ast.kind === "comparison") return compileComparison(ast);
  const operands: FilterRuleExpr[] = [];
  flatten(ast, ast.kind, operands);
  const tests = operands.map(compileNode);
  return ast.kind === "and" ? every(tests) : some(tests);
}

/** `a and b and (c and d)` → [a, b, c, d]: and and or are associative, so the grouping does not matter. */
function flatten(node: FilterRuleExpr, kind: "and" | "or", out: FilterRuleExpr[]): void {
  if (node.kind === kind) {
    flatten(node.left, kind, out);
    flatten(node.right, kind, out);
  } else {
    out.push(node);
  }
}

function every(tests: FilterPredicate[]): FilterPredicate {
  const [a, b, c] = tests;
  switch (tests.length) {
    case 2: return (d) => a(d) && b(d);
    case 3: return (d) => a(d) && b(d) && c(d);
    default: return (d) => {
      for (let i = 0; i < tests.length; i++) if (!tests[i](d)) return false;
      return true;
    };
  }
}

function some(tests: FilterPredicate[]): FilterPredicate {
  const [a, b, c] = tests;
  switch (tests.length) {
    case 2: return (d) => a(d) || b(d);
    case 3: return (d) => a(d) || b(d) || c(d);
    default: return (d) => {
      for (let i = 0; i < tests.length; i++) if (tests[i](d)) return true;
      return false;
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparisons

type Value = string | boolean | null | undefined;
type TextTest = (actual: string) => boolean;

function compileComparison(ast: FilterComparison): FilterPredicate {
  const name = ast.property;
  const { operator, value } = ast;
  const record = (d: FilterableDevice) => (d as Readonly<Record<string, Value>>)[name];

  if (value.kind === "null" && findProperty(ast.entity, name)?.dataType === "Boolean") {
    // A boolean property is unknown (null) when it holds anything but a boolean or its text.
    return operator === "eq"
      ? (d) => readBoolean(record(d)) === null
      : (d) => readBoolean(record(d)) !== null;
  }
  if (value.kind === "null") {
    return operator === "eq"
      ? (d) => readText(record(d)) === null
      : (d) => readText(record(d)) !== null;
  }
  if (value.kind === "boolean") {
    const wanted = value.value;
    return operator === "eq"
      ? (d) => readBoolean(record(d)) === wanted
      : (d) => readBoolean(record(d)) !== wanted;
  }
  if (value.kind === "version") {
    const wanted = versionParts(value.value);
    const test = versionTest(operator, wanted);
    return (d) => {
      const v = record(d);
      return test(typeof v === "string" ? compareVersion(v, wanted) : NaN);
    };
  }
  const positive = POSITIVE[operator];
  const test = textTest(positive, value.kind === "list" ? value.values : [value.value]);
  if (positive === operator) {
    return (d) => {
      const v = record(d);
      if (typeof v === "string") return test(v);
      const text = readText(v);
      return text !== null && test(text);
    };
  }
  return (d) => {
    const v = record(d);
    if (typeof v === "string") return !test(v);
    const text = readText(v);
    return text === null || !test(text);
  };
}

type PositiveTextOperator = "eq" | "in" | "startsWith" | "contains" | "endsWith";

/** Each negative operator is the negation of its positive twin, null included. */
const POSITIVE: Readonly<Record<string, PositiveTextOperator>> = {
  eq: "eq", ne: "eq",
  in: "in", notIn: "in",
  startsWith: "startsWith", notStartsWith: "startsWith",
  contains: "contains", notContains: "contains",
  endsWith: "endsWith", notEndsWith: "endsWith",
};

function textTest(operator: PositiveTextOperator, literals: readonly string[]): TextTest {
  const folded = literals.map(fold);
  const w = folded[0];
  switch (operator) {
    case "eq":
      return isAscii(w) ? (a) => equalsAscii(a, w) : (a) => fold(a) === w;
    case "in": {
      if (folded.length <= 8 && folded.every(isAscii)) {
        return (a) => {
          for (let i = 0; i < folded.length; i++) if (equalsAscii(a, folded[i])) return true;
          return false;
        };
      }
      const set = new Set(folded);
      return (a) => set.has(fold(a));
    }
    case "startsWith":
      return isAscii(w) ? (a) => startsWithAscii(a, w) : (a) => fold(a).startsWith(w);
    case "endsWith":
      return isAscii(w) ? (a) => endsWithAscii(a, w) : (a) => fold(a).endsWith(w);
    case "contains":
      return (a) => fold(a).includes(w);
  }
}

/** Case-insensitive comparison folds both sides to lower case. */
const fold = (text: string) => text.toLowerCase();

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false;
  return true;
}

// The ASCII fast paths compare fold(a) with a lower-case ASCII literal w without allocating. They are exact:
// toLowerCase maps every ASCII character within ASCII and changes a string's length only for U+0130 (İ → i + U+0307,
// never ASCII), so when a's window is ASCII its fold is the ASCII fold, a shorter a can never fold to a match, and
// any non-ASCII character in the window (the Kelvin sign folds to "k") falls back to the general comparison.

function equalsAscii(a: string, w: string): boolean {
  const n = w.length;
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) {
    let c = a.charCodeAt(i);
    if (c > 127) return fold(a) === w;
    if (c >= 65 && c <= 90) c += 32;
    if (c !== w.charCodeAt(i)) return false;
  }
  return true;
}

function startsWithAscii(a: string, w: string): boolean {
  const n = w.length;
  if (a.length < n) return false;
  for (let i = 0; i < n; i++) {
    let c = a.charCodeAt(i);
    if (c > 127) return fold(a).startsWith(w);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== w.charCodeAt(i)) return false;
  }
  return true;
}

function endsWithAscii(a: string, w: string): boolean {
  const n = w.length;
  const offset = a.length - n;
  if (offset < 0) return false;
  for (let i = 0; i < n; i++) {
    let c = a.charCodeAt(offset + i);
    if (c > 127) return fold(a).endsWith(w);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== w.charCodeAt(i)) return false;
  }
  return true;
}

/** Device records are typed loosely at run time: booleans read as "true"/"false", numbers as their text. */
function readText(value: unknown): string | null {
  switch (typeof value) {
    case "string":
      return value;
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return String(value);
    default:
      return null;
  }
}

/** Booleans, or their text in any case ("True" as Graph sometimes reports it); anything else is unknown. */
function readBoolean(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const text = value.toLowerCase();
    if (text === "true") return true;
    if (text === "false") return false;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Versions

/** A version literal's parts without leading zeros ("" for zero) and without trailing zero parts. */
export function versionParts(literal: string): string[] {
  const parts = literal.split(".").map((part) => part.replace(/^0+/, ""));
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

function versionTest(operator: string, wanted: readonly string[]): (order: number) => boolean {
  switch (operator) {
    case "eq": return (order) => order === 0;
    case "ne": return (order) => order !== 0; // NaN (not a version) included
    case "gt": return (order) => order > 0;
    case "ge": return (order) => order >= 0;
    case "lt": return (order) => order < 0;
    case "le": return (order) => order <= 0;
    default: throw new Error(`Unreachable: -${operator} with version ${wanted.join(".")}`);
  }
}

/**
 * Compares a device's version text with parsed parts: -1, 0 or 1, or NaN when the text is not a version. Reads the
 * text once, without allocating, and compares parts of any length exactly (as digit strings, not numbers).
 */
export function compareVersion(actual: string, wanted: readonly string[]): number {
  const n = actual.length;
  let i = 0;
  let part = 0;
  let order = 0;
  for (;;) {
    const start = i;
    while (i < n && isDigit(actual.charCodeAt(i))) i++;
    if (i === start) return NaN;
    if (order === 0) {
      let s = start;
      while (s < i && actual.charCodeAt(s) === 48) s++;
      const w = part < wanted.length ? wanted[part] : "";
      const length = i - s;
      if (length !== w.length) {
        order = length < w.length ? -1 : 1;
      } else {
        for (let j = 0; j < length; j++) {
          const diff = actual.charCodeAt(s + j) - w.charCodeAt(j);
          if (diff !== 0) {
            order = diff < 0 ? -1 : 1;
            break;
          }
        }
      }
    }
    part++;
    if (i === n) break;
    const c = actual.charCodeAt(i);
    if (c === 46 /* . */) {
      i++;
    } else if (c === 32 /* space */ && isBuildSuffix(actual, i)) {
      break;
    } else {
      return NaN;
    }
  }
  if (order === 0) {
    for (let p = part; p < wanted.length; p++) if (wanted[p] !== "") return -1;
  }
  return order;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** ` (23E224)`: spaces, then a parenthesised build tag running to the end (macOS reports "14.4.1 (23E224)"). */
function isBuildSuffix(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && text.charCodeAt(i) === 32) i++;
  return i < text.length - 1 && text.charCodeAt(i) === 40 /* ( */ && text.charCodeAt(text.length - 1) === 41 /* ) */;
}

