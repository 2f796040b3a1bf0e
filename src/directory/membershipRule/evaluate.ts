// Compiles a rule tree into a predicate over a plain record, doing the per-rule work (case folding of the rule's
// values, building regular expressions and lists) once instead of once per member evaluated.

import {
  MAX_MATCH_INPUT_LENGTH, propertyKind, subjectOf,
  type ComparisonOperator, type RuleExpr, type RuleSubject, type RuleValue,
} from "./ast.js";
import { parseMembershipRule } from "./parser.js";
import { compilePattern } from "./pattern.js";

export interface CompiledMembershipRule {
  readonly subject: RuleSubject;
  readonly ast: RuleExpr;
  /** Evaluates against a record keyed by canonical property names; missing keys count as null. */
  matches(record: Readonly<Record<string, unknown>>): boolean;
}

type MemberTest = (record: Readonly<Record<string, unknown>>) => boolean;
type StringTest = (value: string | null) => boolean;

export function compileMembershipRule(text: string): CompiledMembershipRule {
  const ast = parseMembershipRule(text);
  return { subject: subjectOf(ast), ast, matches: compileRule(ast) };
}

/** Compiles a tree the parser produced (or one that obeys the same rules). */
export function compileRule(ast: RuleExpr): MemberTest {
  switch (ast.kind) {
    case "comparison": {
      const name = ast.property.name;
      if (propertyKind(ast.property) === "boolean") {
        const test = booleanTest(ast.operator, ast.value);
        return (record) => test(readBoolean(record[name]));
      }
      const test = stringTest(ast.operator, ast.value);
      return (record) => test(readString(record[name]));
    }
    case "collection": {
      const name = ast.property.name;
      const test = stringTest(ast.element.operator, ast.element.value);
      return ast.quantifier === "any"
        ? (record) => readCollection(record[name]).some(test)
        : (record) => readCollection(record[name]).every(test); // vacuously true when empty
    }
    case "not": {
      const operand = compileRule(ast.operand);
      return (record) => !operand(record);
    }
    case "and": {
      const left = compileRule(ast.left);
      const right = compileRule(ast.right);
      return (record) => left(record) && right(record);
    }
    case "or": {
      const left = compileRule(ast.left);
      const right = compileRule(ast.right);
      return (record) => left(record) || right(record);
    }
  }
}

/** Every -notX is exactly the negation of -X, null values included: `-ne "Sales"` holds for a null department. */
const NEGATED: Partial<Record<ComparisonOperator, ComparisonOperator>> = {
  ne: "eq", notStartsWith: "startsWith", notContains: "contains", notMatch: "match", notIn: "in",
};

function stringTest(operator: ComparisonOperator, value: RuleValue): StringTest {
  const positive = NEGATED[operator];
  if (positive !== undefined) {
    const test = stringTest(positive, value);
    return (actual) => !test(actual);
  }
  if (value.kind === "null") return (actual) => actual === null;
  if (value.kind === "list") {
    const wanted = new Set(value.values.map(fold));
    return (actual) => actual !== null && wanted.has(fold(actual));
  }
  const wanted = fold(String(value.value));
  switch (operator) {
    case "eq":
      return (actual) => actual !== null && fold(actual) === wanted;
    case "startsWith":
      return (actual) => actual !== null && fold(actual).startsWith(wanted);
    case "contains":
      return (actual) => actual !== null && fold(actual).includes(wanted);
    case "match": {
      const pattern = compilePattern(String(value.value));
      return (actual) => actual !== null && pattern.test(actual.slice(0, MAX_MATCH_INPUT_LENGTH));
    }
    default:
      throw new Error(`Unreachable: -${operator} with a ${value.kind} value`);
  }
}

function booleanTest(operator: ComparisonOperator, value: RuleValue): (actual: boolean | null) => boolean {
  const wanted = value.kind === "boolean" ? value.value : null;
  return operator === "eq" ? (actual) => actual === wanted : (actual) => actual !== wanted;
}

/** Case-insensitive comparison folds both sides to lower case. */
const fold = (text: string) => text.toLowerCase();

/** Record values are loosely typed: numbers and booleans read as their text, anything else as null. */
function readString(value: unknown): string | null {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    default:
      return null;
  }
}

/** Booleans, or their text in any case (directory records sometimes hold "True"); anything else is null. */
function readBoolean(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const text = value.toLowerCase();
    if (text === "true" || text === "false") return text === "true";
  }
  return null;
}

/** An array is read element by element; null or missing is empty; a lone scalar is a collection of one. */
function readCollection(value: unknown): (string | null)[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value.map(readString) : [readString(value)];
}
