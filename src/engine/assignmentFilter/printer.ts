// Canonical rule text in the Intune portal's style: every condition in its own parentheses, dashed operators in their
// documented spelling, bare lower-case `and`/`or`, double-quoted strings, `$null`, `"True"`/`"False"`, bare versions,
// and only the grouping parentheses the precedence (and > or, both left-associative) needs, so parse(print(ast))
// deep-equals ast.

import type { FilterRuleExpr, FilterValue } from "./ast.js";
import { quoteString } from "./lexer.js";

export function printFilterRule(ast: FilterRuleExpr): string {
  switch (ast.kind) {
    case "comparison":
      return `(${ast.entity}.${ast.property} -${ast.operator} ${printValue(ast.value)})`;
    case "and": {
      const left = printOperand(ast.left, ast.left.kind === "or");
      return `${left} and ${printOperand(ast.right, ast.right.kind !== "comparison")}`;
    }
    case "or":
      return `${printFilterRule(ast.left)} or ${printOperand(ast.right, ast.right.kind === "or")}`;
  }
}

function printOperand(ast: FilterRuleExpr, parenthesize: boolean): string {
  const text = printFilterRule(ast);
  return parenthesize ? `(${text})` : text;
}

function printValue(value: FilterValue): string {
  switch (value.kind) {
    case "string":
      return quoteString(value.value);
    case "boolean":
      return value.value ? '"True"' : '"False"';
    case "null":
      return "$null";
    case "list":
      return `[${value.values.map(quoteString).join(", ")}]`;
    case "version":
      return value.value;
  }
}
