// Canonical rule text: dashed operators in their documented spelling, double-quoted strings, and only the
// parentheses the precedence (not > and > or, both left-associative) needs, so parse(print(ast)) deep-equals ast.

import type { ElementTest, RuleExpr, RuleValue } from "./ast.js";
import { quoteString } from "./lexer.js";

export function printMembershipRule(ast: RuleExpr): string {
  switch (ast.kind) {
    case "comparison":
      return `${ast.property.subject}.${ast.property.name} -${ast.operator} ${printValue(ast.value)}`;
    case "collection":
      return `${ast.property.subject}.${ast.property.name} -${ast.quantifier} (${printElementTest(ast.element)})`;
    case "not":
      return `-not ${printOperand(ast.operand, ast.operand.kind === "and" || ast.operand.kind === "or")}`;
    case "and":
      return `${printOperand(ast.left, ast.left.kind === "or")} -and ${printOperand(ast.right, ast.right.kind === "and" || ast.right.kind === "or")}`;
    case "or":
      return `${printMembershipRule(ast.left)} -or ${printOperand(ast.right, ast.right.kind === "or")}`;
  }
}

function printOperand(ast: RuleExpr, parenthesize: boolean): string {
  const text = printMembershipRule(ast);
  return parenthesize ? `(${text})` : text;
}

function printElementTest(test: ElementTest): string {
  return `_ -${test.operator} ${printValue(test.value)}`;
}

function printValue(value: RuleValue): string {
  switch (value.kind) {
    case "string":
      return quoteString(value.value);
    case "boolean":
      return String(value.value);
    case "null":
      return "null";
    case "list":
      return `[${value.values.map(quoteString).join(", ")}]`;
  }
}
