// The syntax tree of an OData $filter expression. The parser builds it, the printer turns it back into
// canonical text, and toSql translates it; nothing here knows about any entity's properties.

export type LiteralValue =
  | { type: "string"; value: string }
  | { type: "number"; value: number; text: string } // text = as written, e.g. "1.50", "-3"
  | { type: "boolean"; value: boolean }
  | { type: "null" }
  | { type: "guid"; value: string } // unquoted GUID, lower-cased
  | { type: "dateTimeOffset"; value: string } // unquoted, kept as written, e.g. 2024-01-02T03:04:05Z
  | { type: "enum"; enumType: string; value: string }; // microsoft.graph.complianceState'compliant'

export type ComparisonOperator = "eq" | "ne" | "gt" | "ge" | "lt" | "le";
export type LogicalOperator = "and" | "or";
export type FunctionName = "contains" | "startswith" | "endswith" | "tolower" | "toupper";
export type LambdaQuantifier = "any" | "all";

export type FilterExpr =
  | { kind: "literal"; literal: LiteralValue }
  | { kind: "property"; path: string[] } // a/b/c → ["a","b","c"]; inside a lambda the variable is path[0]
  | { kind: "compare"; op: ComparisonOperator; left: FilterExpr; right: FilterExpr }
  | { kind: "logical"; op: LogicalOperator; left: FilterExpr; right: FilterExpr }
  | { kind: "not"; operand: FilterExpr }
  | { kind: "in"; operand: FilterExpr; values: LiteralValue[] }
  | { kind: "call"; name: FunctionName; args: FilterExpr[] }
  /**
   * `any()` without an argument ("the collection is not empty") is represented with variable "" and the
   * predicate `true`; no real lambda variable can be empty, so the printer can tell it apart from `any(x:true)`.
   */
  | { kind: "lambda"; quantifier: LambdaQuantifier; collection: string[]; variable: string; predicate: FilterExpr };

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = ["eq", "ne", "gt", "ge", "lt", "le"];

/** How many arguments each supported function takes. */
export const FUNCTION_ARITY: Readonly<Record<FunctionName, number>> = {
  contains: 2,
  startswith: 2,
  endswith: 2,
  tolower: 1,
  toupper: 1,
};

/** Words that are operators or literals wherever they appear, so they cannot start a property path. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  "and", "or", "not", "in", ...COMPARISON_OPERATORS, "true", "false", "null",
]);

/** The variable of an argument-less `any()`. */
export const NOT_EMPTY_VARIABLE = "";
/** The predicate of an argument-less `any()`. */
export const notEmptyPredicate = (): FilterExpr => ({ kind: "literal", literal: { type: "boolean", value: true } });

/**
 * The operands of a run of the same logical operator, left to right: `a or (b or c) or d` → [a, b, c, d]. Walked
 * with a stack, not recursion: a run of 800 ORs fits in 8,000 characters and would otherwise be 800 frames deep.
 */
export function logicalOperands(expr: Extract<FilterExpr, { kind: "logical" }>): FilterExpr[] {
  const operands: FilterExpr[] = [];
  const pending: FilterExpr[] = [expr];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (next.kind === "logical" && next.op === expr.op) pending.push(next.right, next.left);
    else operands.push(next);
  }
  return operands;
}
