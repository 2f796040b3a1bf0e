// FilterExpr → canonical $filter text: lower-case keywords, single spaces around operators, no space after
// commas, and only the parentheses the precedence rules need. parseFilter(printFilter(e)) deep-equals e.

import { NOT_EMPTY_VARIABLE, type FilterExpr, type LiteralValue } from "./ast.js";

/** Binding strength, lowest first; an operand binding more loosely than its position requires gets parentheses. */
const Strength = { Or: 1, And: 2, Not: 3, Comparison: 4, Primary: 5 } as const;
type Strength = (typeof Strength)[keyof typeof Strength];

export function printFilter(expr: FilterExpr): string {
  switch (expr.kind) {
    case "literal":
      return printLiteral(expr.literal);
    case "property":
      return expr.path.join("/");
    case "logical": {
      // Left-associative: a right operand of the same strength needs parentheses to keep its grouping. The left
      // spine of a run (`a or b or c` nests leftwards) is walked in a loop so a long run cannot exhaust the stack.
      const strength = strengthOf(expr);
      const rights: FilterExpr[] = [];
      let leftmost: FilterExpr = expr;
      while (leftmost.kind === "logical" && leftmost.op === expr.op) {
        rights.push(leftmost.right);
        leftmost = leftmost.left;
      }
      const tail = rights.reverse().map((right) => ` ${expr.op} ${printAt(right, (strength + 1) as Strength)}`);
      return printAt(leftmost, strength) + tail.join("");
    }
    case "not":
      return `not ${printAt(expr.operand, Strength.Not)}`;
    case "compare":
      return `${printAt(expr.left, Strength.Primary)} ${expr.op} ${printAt(expr.right, Strength.Primary)}`;
    case "in":
      return `${printAt(expr.operand, Strength.Primary)} in (${expr.values.map(printLiteral).join(",")})`;
    case "call":
      return `${expr.name}(${expr.args.map(printFilter).join(",")})`;
    case "lambda": {
      const body = expr.variable === NOT_EMPTY_VARIABLE ? "" : `${expr.variable}:${printFilter(expr.predicate)}`;
      return `${expr.collection.join("/")}/${expr.quantifier}(${body})`;
    }
  }
}

export function printLiteral(literal: LiteralValue): string {
  switch (literal.type) {
    case "string":
      return quote(literal.value);
    case "number":
      return literal.text;
    case "boolean":
      return String(literal.value);
    case "null":
      return "null";
    case "guid":
    case "dateTimeOffset":
      return literal.value;
    case "enum":
      return `${literal.enumType}${quote(literal.value)}`;
  }
}

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

function printAt(expr: FilterExpr, required: Strength): string {
  const text = printFilter(expr);
  return strengthOf(expr) < required ? `(${text})` : text;
}

function strengthOf(expr: FilterExpr): Strength {
  switch (expr.kind) {
    case "logical":
      return expr.op === "or" ? Strength.Or : Strength.And;
    case "not":
      return Strength.Not;
    case "compare":
    case "in":
      return Strength.Comparison;
    default:
      return Strength.Primary;
  }
}
