// The vocabulary of Intune assignment filter rules (spec §2.9): entities, operators, the syntax tree, the limits and
// the one error type every layer throws. The tree carries no source positions, so a printed rule parses back to a
// deep-equal tree; positions live only in errors, which the parser raises while it still has its tokens.
// Which property exists where, and what it accepts, lives in properties.ts.

/** `device.` reads a managed device (managementType `devices`), `app.` a managed app (managementType `apps`). */
export type FilterEntity = "device" | "app";

/**
 * Comparison operators as the rule text spells them (after the optional dash). The first seven are the rule-syntax
 * doc's, the next three exist in Graph's assignmentFilterOperator enum only, the last four are for
 * `operatingSystemVersion`.
 */
export type FilterOperator =
  | "eq" | "ne"
  | "startsWith" | "notStartsWith"
  | "contains" | "notContains"
  | "in" | "notIn"
  | "endsWith" | "notEndsWith"
  | "gt" | "ge" | "lt" | "le";

export const FILTER_OPERATORS: readonly FilterOperator[] = [
  "eq", "ne", "startsWith", "notStartsWith", "contains", "notContains", "in", "notIn", "endsWith", "notEndsWith",
  "gt", "ge", "lt", "le",
];

/** Graph's assignmentFilterOperator member for each rule operator (getPlatformSupportedProperties speaks these). */
export const OPERATOR_ENUM_NAMES: Readonly<Record<FilterOperator, AssignmentFilterOperatorName>> = {
  eq: "equals",
  ne: "notEquals",
  startsWith: "startsWith",
  notStartsWith: "notStartsWith",
  contains: "contains",
  notContains: "notContains",
  in: "in",
  notIn: "notIn",
  endsWith: "endsWith",
  notEndsWith: "notEndsWith",
  gt: "greaterThan",
  ge: "greaterThanOrEquals",
  lt: "lessThan",
  le: "lessThanOrEquals",
};

/** The assignmentFilterOperator enum of Graph beta, without notSet and unknownFutureValue. */
export type AssignmentFilterOperatorName =
  | "equals" | "notEquals"
  | "startsWith" | "notStartsWith"
  | "contains" | "notContains"
  | "in" | "notIn"
  | "endsWith" | "notEndsWith"
  | "greaterThan" | "greaterThanOrEquals" | "lessThan" | "lessThanOrEquals";

export type FilterValue =
  /** `"Surface Book 3"`: never contains a double quote, which the language cannot escape. */
  | { readonly kind: "string"; readonly value: string }
  /** `True`, `"false"`: boolean properties only. */
  | { readonly kind: "boolean"; readonly value: boolean }
  /** `$null` or `null`, with -eq and -ne only. */
  | { readonly kind: "null" }
  /** `["a", "b"]`, with -in and -notIn; never empty. */
  | { readonly kind: "list"; readonly values: readonly string[] }
  /** `10.0.22000.1000`, as written (leading zeros kept): operatingSystemVersion only. */
  | { readonly kind: "version"; readonly value: string };

/** `(device.deviceTrustType -eq "Azure AD joined")` */
export interface FilterComparison {
  readonly kind: "comparison";
  readonly entity: FilterEntity;
  /** Canonical spelling, e.g. `operatingSystemVersion`, whatever case the rule used. */
  readonly property: string;
  readonly operator: FilterOperator;
  readonly value: FilterValue;
}

/** Binary and left-associative, as parsed: `a and b and c` is `and(and(a, b), c)`. */
export interface FilterAnd { readonly kind: "and"; readonly left: FilterRuleExpr; readonly right: FilterRuleExpr }
export interface FilterOr { readonly kind: "or"; readonly left: FilterRuleExpr; readonly right: FilterRuleExpr }

export type FilterRuleExpr = FilterComparison | FilterAnd | FilterOr;

/** The documented per-filter limit [D MEM filters overview]. */
export const MAX_RULE_LENGTH = 3072;
/** Parentheses deeper than this are refused, so a hostile rule cannot exhaust the stack. */
export const MAX_NESTING_DEPTH = 100;

export class AssignmentFilterRuleError extends Error {
  constructor(
    /** 0-based character offset into the rule text, as in JSON.parse's messages. */
    readonly position: number,
    message: string,
    /** What the parser wanted at `position`, as the message says it. */
    readonly expected?: string,
  ) {
    super(message);
    this.name = "AssignmentFilterRuleError";
  }
}

/** The one message shape: where, what was expected, what was found, and optionally why. */
export function ruleError(position: number, expected: string, found: string, why?: string): AssignmentFilterRuleError {
  const reason = why === undefined ? "" : `; ${why}`;
  return new AssignmentFilterRuleError(
    position,
    `Syntax error at position ${position}: expected ${expected} but found ${found}${reason}.`,
    expected,
  );
}

/** The entity a rule reads; a parsed rule reads exactly one. */
export function entityOf(ast: FilterRuleExpr): FilterEntity {
  let node = ast;
  while (node.kind !== "comparison") node = node.left;
  return node.entity;
}

/** The canonical names of the properties a rule reads, in order of first appearance. */
export function propertiesReadBy(ast: FilterRuleExpr): string[] {
  const names = new Set<string>();
  const visit = (node: FilterRuleExpr): void => {
    if (node.kind === "comparison") {
      names.add(node.property);
    } else {
      visit(node.left);
      visit(node.right);
    }
  };
  visit(ast);
  return [...names];
}
