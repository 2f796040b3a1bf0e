// FilterExpr → a SQL WHERE fragment with bound parameters. Property paths are resolved by the caller (the
// entity's model); everything backend-specific is asked of the SqlDialect. Literal values are always bound,
// never written into the SQL text.
//
// Null semantics follow OData, not SQL: `null gt 1` is false (not unknown), so `not (x gt 1)` matches rows
// where x is null, and `x ne 'a'` matches them too. SQL's NULL already behaves as "no match" inside AND/OR,
// so only two places need care: `ne` adds `OR x IS NULL`, and under an odd number of NOTs a test that can be
// NULL is guarded with `x IS NOT NULL AND …` so NOT turns it into true.

import type { ComparisonOperator as SqlOperator, SqlDialect } from "../../store/sqlDialect.js";
import { badRequest } from "../errors.js";
import { logicalOperands, type ComparisonOperator, type FilterExpr, type LiteralValue } from "./ast.js";
import { noMatchingSignature } from "./parser.js";

export type FilterValueType = "string" | "number" | "boolean" | "guid" | "dateTimeOffset" | "enum";

/**
 * `edmType` (optional) is the property's type name for error messages, e.g. 'Edm.Int64' or, for an enum,
 * 'microsoft.graph.complianceState'; when given for an enum, enum literals must name that type.
 */
export type ResolvedFilterProperty =
  | { collection: false; sql: string; type: FilterValueType; edmType?: string; equalsSql?: EqualsSql } // a real column, e.g. `t.display_name`
  | { collection: true; documentSql: string; jsonName: string; type: FilterValueType; edmType?: string }; // a JSON array of primitives in the row's document

/**
 * An index-friendly form of `sql = value` for an operand whose `sql` is an overlay expression (a CASE over the
 * stored column, which no index serves): the same truth value, NULL included, with the stored column compared
 * directly. `paramSql` is the bound value, `value` what was bound.
 */
export type EqualsSql = (paramSql: string, value: unknown) => string;

/** Resolves a property path to SQL; throws badRequest itself for unknown or non-filterable properties. */
export type FilterPropertyResolver = (path: string[]) => ResolvedFilterProperty;

export function filterToSql(expr: FilterExpr, resolve: FilterPropertyResolver, dialect: SqlDialect, params: unknown[]): string {
  return predicate(expr, { resolve, dialect, params, scopes: [], negated: false });
}

interface Translation {
  resolve: FilterPropertyResolver;
  dialect: SqlDialect;
  params: unknown[];
  /** Lambda variables in scope, innermost last. */
  scopes: LambdaScope[];
  /** Whether the fragment being built sits under an odd number of NOTs. */
  negated: boolean;
}

interface LambdaScope {
  variable: string;
  elementSql: string;
  type: FilterValueType;
  edmType?: string;
}

/** Something a literal can be compared with: a column, or the element of the innermost lambda. */
interface Operand {
  sql: string;
  type: FilterValueType;
  edmType?: string;
  /** Lambda elements come out of JSON as text (PostgreSQL) or JSON scalars (SQLite) and need casting. */
  element: boolean;
  equalsSql?: EqualsSql;
}

/** A test on one operand; `nullable` when it is NULL (not false) for a NULL operand. */
interface Test {
  sql: string;
  nullable: boolean;
}

const SQL_OPERATOR: Record<ComparisonOperator, SqlOperator> = { eq: "=", ne: "<>", gt: ">", ge: ">=", lt: "<", le: "<=" };
const MIRRORED: Record<ComparisonOperator, ComparisonOperator> = { eq: "eq", ne: "ne", gt: "lt", ge: "le", lt: "gt", le: "ge" };
const OPERATOR_KIND: Record<ComparisonOperator, string> = {
  eq: "Equal",
  ne: "NotEqual",
  gt: "GreaterThan",
  ge: "GreaterThanOrEqual",
  lt: "LessThan",
  le: "LessThanOrEqual",
};
const EDM_TYPE: Record<FilterValueType, string> = {
  string: "Edm.String",
  number: "Edm.Int32",
  boolean: "Edm.Boolean",
  guid: "Edm.Guid",
  dateTimeOffset: "Edm.DateTimeOffset",
  enum: "Edm.Enum",
};

function predicate(expr: FilterExpr, t: Translation): string {
  switch (expr.kind) {
    case "logical":
      return balanced(logicalOperands(expr).map((operand) => predicate(operand, t)), expr.op === "and" ? "AND" : "OR");
    case "not":
      return `NOT (${predicate(expr.operand, { ...t, negated: !t.negated })})`;
    case "compare":
      return comparison(expr, t);
    case "in":
      return membership(expr, t);
    case "call":
      return textMatch(expr, t);
    case "lambda":
      return lambda(expr, t);
    case "literal":
      if (expr.literal.type !== "boolean") throw notBoolean();
      return bind(t, t.dialect.bindBoolean(expr.literal.value));
    case "property": {
      const operand = operandOf(expr, t);
      if (operand.type !== "boolean") throw notBoolean();
      return guard({ sql: `${typed(operand)} = ${bind(t, t.dialect.bindBoolean(true))}`, nullable: true }, operand, t);
    }
  }
}

function comparison(expr: Extract<FilterExpr, { kind: "compare" }>, t: Translation): string {
  let { left, right, op } = expr;
  const flipped = isLiteral(left) && isOperand(right);
  if (flipped) [left, right, op] = [right, left, MIRRORED[op]];
  if (!isOperand(left) || !isLiteral(right)) {
    throw invalid("A comparison must have a property on one side and a literal on the other.");
  }
  const operand = operandOf(left, t);
  return guard(test(operand, op, right.literal, t, flipped), operand, t);
}

function membership(expr: Extract<FilterExpr, { kind: "in" }>, t: Translation): string {
  if (!isOperand(expr.operand)) throw invalid("The left side of 'in' must be a property.");
  const operand = operandOf(expr.operand, t);
  if (expr.values.length === 0) return bind(t, t.dialect.bindBoolean(false));
  const tests = expr.values.map((value) => test(operand, "eq", value, t, false));
  const sql = balanced(tests.map((each) => each.sql), "OR");
  return guard({ sql, nullable: tests.every((each) => each.nullable) }, operand, t);
}

/** contains / startswith / endswith, as a case-insensitive LIKE with the literal's wildcards escaped. */
function textMatch(expr: Extract<FilterExpr, { kind: "call" }>, t: Translation): string {
  const { name, args } = expr;
  if (name === "tolower" || name === "toupper") throw notBoolean();
  if (args.length !== 2) throw noMatchingSignature(name);
  const [subject, pattern] = args;
  if (!isOperand(subject) || !isLiteral(pattern)) {
    throw invalid(`The function '${name}' needs a property as its first argument and a literal as its second.`);
  }
  const operand = operandOf(subject, t);
  if (operand.type !== "string" || pattern.literal.type !== "string") throw noMatchingSignature(name);
  const escaped = pattern.literal.value.replace(/[\\%_]/g, "\\$&");
  const like = name === "contains" ? `%${escaped}%` : name === "startswith" ? `${escaped}%` : `%${escaped}`;
  return guard({ sql: t.dialect.likeText(operand.sql, bind(t, like)), nullable: true }, operand, t);
}

/** any → EXISTS over the array's elements; all → no element fails the predicate. */
function lambda(expr: Extract<FilterExpr, { kind: "lambda" }>, t: Translation): string {
  const { quantifier, collection, variable } = expr;
  const path = collection.join("/");
  if (t.scopes.some((scope) => scope.variable === collection[0])) {
    throw invalid(`The lambda variable '${collection[0]}' stands for a single value, so '${quantifier}' cannot be applied to '${path}'.`);
  }
  const property = t.resolve(collection);
  if (!property.collection) {
    throw invalid(`The property '${path}' is not a collection, so '${quantifier}' cannot be applied to it.`);
  }
  // EXISTS is never NULL, so the element predicate starts afresh: negated only by the NOT that `all` adds.
  const element = (elementSql: string, negated: boolean) => {
    const scope = { variable, elementSql, type: property.type, edmType: property.edmType };
    return predicate(expr.predicate, { ...t, scopes: [...t.scopes, scope], negated });
  };
  const { documentSql, jsonName } = property;
  if (quantifier === "any") return t.dialect.jsonArrayAny(documentSql, jsonName, (el) => element(el, false));
  return `NOT (${t.dialect.jsonArrayAny(documentSql, jsonName, (el) => `NOT (${element(el, true)})`)})`;
}

/**
 * Joins parts with AND or OR as a balanced tree of parentheses. SQLite caps expression trees at depth 1000,
 * which a flat run of a thousand ORs (easy within 8,000 characters) would exceed; balanced, the depth is log2.
 */
function balanced(parts: string[], op: "AND" | "OR"): string {
  if (parts.length === 1) return parts[0];
  const middle = parts.length >> 1;
  return `(${balanced(parts.slice(0, middle), op)} ${op} ${balanced(parts.slice(middle), op)})`;
}

/** The SQL test `operand op literal`, after checking that the literal's type fits the operand's. */
function test(operand: Operand, op: ComparisonOperator, literal: LiteralValue, t: Translation, flipped: boolean): Test {
  if (literal.type === "null") {
    if (op === "eq") return { sql: `${operand.sql} IS NULL`, nullable: false };
    if (op === "ne") return { sql: `${operand.sql} IS NOT NULL`, nullable: false };
    throw invalid(`Only 'eq' and 'ne' can compare with null; found '${op}'.`);
  }
  if (operand.type === "enum" && op !== "eq" && op !== "ne") {
    throw invalid(`Enumeration properties can only be compared with 'eq', 'ne' or 'in'; found '${op}'.`);
  }
  const value = bindableValue(operand, literal, t.dialect);
  if (value === undefined) {
    const types = [edmTypeOf(operand), edmTypeOfLiteral(literal)];
    if (flipped) types.reverse();
    throw badRequest(
      `A binary operator with incompatible types was detected. ` +
        `Found operand types '${types[0]}' and '${types[1]}' for operator kind '${OPERATOR_KIND[flipped ? MIRRORED[op] : op]}'.`,
    );
  }
  const param = bind(t, value);
  const sqlOp = SQL_OPERATOR[op];
  const sql =
    op === "eq" && operand.equalsSql ? operand.equalsSql(param, value)
    : operand.type === "number" ? `${typed(operand)} ${sqlOp} CAST(${param} AS NUMERIC)`
    : operand.type === "boolean" ? `${typed(operand)} ${sqlOp} ${param}`
    : t.dialect.compareText(operand.sql, sqlOp, param);
  // OData's `ne` is true when the operand is null; SQL's <> would be NULL.
  return op === "ne" ? { sql: `(${sql} OR ${operand.sql} IS NULL)`, nullable: false } : { sql, nullable: true };
}

/** The value to bind for `literal` compared with `operand`, or undefined when their types do not fit. */
function bindableValue(operand: Operand, literal: LiteralValue, dialect: SqlDialect): unknown {
  switch (operand.type) {
    case "string":
      return literal.type === "string" ? literal.value : undefined;
    case "guid": // GUIDs are stored as text; Graph clients often quote them
      return literal.type === "guid" || literal.type === "string" ? literal.value : undefined;
    case "number":
      return literal.type === "number" ? literal.value : undefined;
    case "boolean":
      return literal.type === "boolean" ? dialect.bindBoolean(literal.value) : undefined;
    case "dateTimeOffset":
      return literal.type === "dateTimeOffset" ? canonicalDateTime(literal.value) : undefined;
    case "enum":
      if (literal.type === "string") return literal.value;
      if (literal.type !== "enum") return undefined;
      return operand.edmType === undefined || operand.edmType.toLowerCase() === literal.enumType.toLowerCase()
        ? literal.value
        : undefined;
  }
}

/** The store keeps date-times as toISOString() text, so a literal in that form compares correctly as text. */
function canonicalDateTime(text: string): string {
  const date = new Date(text.toUpperCase());
  if (!dateTimeFieldsInRange(text) || Number.isNaN(date.getTime())) {
    throw badRequest(
      `The DateTimeOffset text '${text}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.`,
    );
  }
  return date.toISOString();
}

/** Date parses 2024-02-30 as March 1st, so the fields are checked first. */
function dateTimeFieldsInRange(text: string): boolean {
  const fields = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/i.exec(text);
  if (fields === null) return false;
  const [year, month, day, hour, minute, second = 0, offsetHours = 0, offsetMinutes = 0] = fields
    .slice(1)
    .map((field) => (field === undefined ? undefined : Number(field)));
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return (
    month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour! <= 23 && minute! <= 59 &&
    second <= 59 && offsetHours <= 14 && offsetMinutes <= 59
  );
}

/** The column or lambda element behind a property path, or behind tolower/toupper of one. */
function operandOf(expr: FilterExpr, t: Translation): Operand {
  if (expr.kind === "call" && (expr.name === "tolower" || expr.name === "toupper")) {
    if (expr.args.length !== 1) throw noMatchingSignature(expr.name);
    if (!isOperand(expr.args[0])) throw invalid(`The function '${expr.name}' can only be applied to a property.`);
    const inner = operandOf(expr.args[0], t);
    if (inner.type !== "string") throw noMatchingSignature(expr.name);
    return inner; // a no-op: every string comparison is already case-insensitive
  }
  if (expr.kind !== "property") throw invalid("Expected a property.");
  const [head, ...rest] = expr.path;
  const scopeIndex = lastIndexWhere(t.scopes, (scope) => scope.variable === head);
  if (scopeIndex >= 0) {
    // Both dialects name the element alike in every EXISTS, so an inner lambda hides the outer element.
    if (scopeIndex !== t.scopes.length - 1) {
      throw invalid(`The lambda variable '${head}' cannot be used inside a nested lambda.`);
    }
    if (rest.length > 0) throw invalid(`The lambda variable '${head}' stands for a single value and has no property '${rest.join("/")}'.`);
    const scope = t.scopes[scopeIndex];
    return { sql: scope.elementSql, type: scope.type, edmType: scope.edmType, element: true };
  }
  const property = t.resolve(expr.path);
  if (property.collection) {
    throw invalid(`The property '${expr.path.join("/")}' is a collection; filter it with any() or all().`);
  }
  return { sql: property.sql, type: property.type, edmType: property.edmType, element: false, equalsSql: property.equalsSql };
}

/** The operand as SQL of its own type: JSON elements arrive as text or JSON scalars. */
function typed(operand: Operand): string {
  if (!operand.element) return operand.sql;
  if (operand.type === "number") return `CAST(${operand.sql} AS NUMERIC)`;
  if (operand.type === "boolean") return `CAST(${operand.sql} AS BOOLEAN)`;
  return operand.sql;
}

/** Under NOT, a test that would be NULL for a NULL operand must be false instead (see the top of the file). */
function guard(test: Test, operand: Operand, t: Translation): string {
  return t.negated && test.nullable ? `(${operand.sql} IS NOT NULL AND ${test.sql})` : test.sql;
}

function bind(t: Translation, value: unknown): string {
  t.params.push(value);
  return t.dialect.param(t.params.length);
}

const isLiteral = (expr: FilterExpr): expr is Extract<FilterExpr, { kind: "literal" }> => expr.kind === "literal";

/** Shapes that stand for a value of the row: a property path, or tolower/toupper around one. */
const isOperand = (expr: FilterExpr) =>
  expr.kind === "property" || (expr.kind === "call" && (expr.name === "tolower" || expr.name === "toupper"));

function edmTypeOf(operand: Operand): string {
  return operand.edmType ?? EDM_TYPE[operand.type];
}

function edmTypeOfLiteral(literal: LiteralValue): string {
  switch (literal.type) {
    case "string":
      return "Edm.String";
    case "boolean":
      return "Edm.Boolean";
    case "guid":
      return "Edm.Guid";
    case "dateTimeOffset":
      return "Edm.DateTimeOffset";
    case "enum":
      return literal.enumType;
    case "null":
      return "null";
    case "number":
      if (/e/i.test(literal.text)) return "Edm.Double";
      if (literal.text.includes(".")) return "Edm.Decimal";
      return Math.abs(literal.value) <= 2 ** 31 - 1 || literal.value === -(2 ** 31) ? "Edm.Int32" : "Edm.Int64";
  }
}

function lastIndexWhere<T>(items: T[], matches: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (matches(items[i])) return i;
  return -1;
}

const invalid = (reason: string) => badRequest(`The query specified in the URI is not valid. ${reason}`);
const notBoolean = () => invalid("The $filter expression must evaluate to a single boolean value.");
