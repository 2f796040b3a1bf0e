// The vocabulary of Entra dynamic membership rules: subjects, their properties, operators, the syntax tree and
// the one error type every layer throws. The tree carries no source positions, so a printed rule parses back to
// a deep-equal tree; positions live only in errors, which the parser raises while it still has its tokens.

export type RuleSubject = "device" | "user";

/** How a property holds its value; decides which operators and values a condition may use. */
export type PropertyKind = "string" | "boolean" | "multiValued";

export type ComparisonOperator =
  | "eq" | "ne"
  | "startsWith" | "notStartsWith"
  | "contains" | "notContains"
  | "match" | "notMatch"
  | "in" | "notIn";

export type Quantifier = "any" | "all";

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = [
  "eq", "ne", "startsWith", "notStartsWith", "contains", "notContains", "match", "notMatch", "in", "notIn",
];

export type RuleValue =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "boolean"; readonly value: boolean }
  | { readonly kind: "null" }
  | { readonly kind: "list"; readonly values: readonly string[] };

export interface PropertyRef {
  readonly subject: RuleSubject;
  /** Canonical spelling, e.g. `deviceOSType`, whatever case the rule used. */
  readonly name: string;
}

/** `device.deviceOSType -eq "Windows"` */
export interface Comparison {
  readonly kind: "comparison";
  readonly property: PropertyRef;
  readonly operator: ComparisonOperator;
  readonly value: RuleValue;
}

/** `_ -startsWith "[ZTDId]"`: the test applied to each element of a multi-valued property. */
export interface ElementTest {
  readonly operator: ComparisonOperator;
  readonly value: RuleValue;
}

/** `device.devicePhysicalIds -any (_ -startsWith "[ZTDId]")` */
export interface CollectionTest {
  readonly kind: "collection";
  readonly property: PropertyRef;
  readonly quantifier: Quantifier;
  readonly element: ElementTest;
}

export interface Not { readonly kind: "not"; readonly operand: RuleExpr }
/** Binary and left-associative, as parsed: `a -and b -and c` is `and(and(a, b), c)`. */
export interface And { readonly kind: "and"; readonly left: RuleExpr; readonly right: RuleExpr }
export interface Or { readonly kind: "or"; readonly left: RuleExpr; readonly right: RuleExpr }

export type RuleExpr = Comparison | CollectionTest | Not | And | Or;

const extensionAttributes = Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`);

const DEVICE_PROPERTIES: Readonly<Record<string, PropertyKind>> = {
  accountEnabled: "boolean",
  displayName: "string",
  deviceOSType: "string",
  deviceOSVersion: "string",
  deviceCategory: "string",
  deviceManufacturer: "string",
  deviceModel: "string",
  deviceOwnership: "string",
  enrollmentProfileName: "string",
  isRooted: "boolean",
  managementType: "string",
  deviceId: "string",
  objectId: "string",
  profileType: "string",
  systemLabels: "multiValued",
  devicePhysicalIds: "multiValued",
  ...Object.fromEntries(extensionAttributes.map((name) => [name, "string" as const])),
};

const USER_PROPERTIES: Readonly<Record<string, PropertyKind>> = {
  accountEnabled: "boolean",
  displayName: "string",
  userPrincipalName: "string",
  mail: "string",
  mailNickname: "string",
  department: "string",
  jobTitle: "string",
  companyName: "string",
  city: "string",
  country: "string",
  state: "string",
  usageLocation: "string",
  employeeId: "string",
  userType: "string",
  onPremisesSecurityIdentifier: "string",
  otherMails: "multiValued",
  proxyAddresses: "multiValued",
  ...Object.fromEntries(extensionAttributes.map((name) => [name, "string" as const])),
};

export const SUBJECT_PROPERTIES: Readonly<Record<RuleSubject, Readonly<Record<string, PropertyKind>>>> = {
  device: DEVICE_PROPERTIES,
  user: USER_PROPERTIES,
};

export interface PropertyDefinition {
  readonly name: string;
  readonly kind: PropertyKind;
}

/** Rules spell property names in any case; look them up by their lower-case form. */
const byLowerName = (properties: Readonly<Record<string, PropertyKind>>) =>
  new Map(Object.entries(properties).map(([name, kind]) => [name.toLowerCase(), { name, kind }]));

const LOOKUP: Readonly<Record<RuleSubject, ReadonlyMap<string, PropertyDefinition>>> = {
  device: byLowerName(DEVICE_PROPERTIES),
  user: byLowerName(USER_PROPERTIES),
};

export function findProperty(subject: RuleSubject, name: string): PropertyDefinition | undefined {
  return LOOKUP[subject].get(name.toLowerCase());
}

export function propertyKind(property: PropertyRef): PropertyKind {
  const kind = SUBJECT_PROPERTIES[property.subject][property.name];
  if (kind === undefined) throw new Error(`Not a ${property.subject} property: ${property.name}`);
  return kind;
}

/** Limits that keep a hostile rule from costing more than a bounded amount of work. */
export const MAX_RULE_LENGTH = 3072;
export const MAX_NESTING_DEPTH = 100;
export const MAX_PATTERN_LENGTH = 200;
/** -match reads at most this much of a value; every Entra string attribute fits (extensionAttributeN: 1,024). */
export const MAX_MATCH_INPUT_LENGTH = 1024;

export class MembershipRuleError extends Error {
  constructor(
    /** 0-based character offset into the rule text, as in JSON.parse's messages. */
    readonly position: number,
    message: string,
    readonly expected?: string,
  ) {
    super(message);
    this.name = "MembershipRuleError";
  }
}

/** The one message shape: where, what was expected, what was found, and optionally why. */
export function ruleError(position: number, expected: string, found: string, why?: string): MembershipRuleError {
  const reason = why === undefined ? "" : `; ${why}`;
  return new MembershipRuleError(
    position,
    `Syntax error at position ${position}: expected ${expected} but found ${found}${reason}.`,
    expected,
  );
}

/** The subject a rule reads; a parsed rule reads exactly one. */
export function subjectOf(ast: RuleExpr): RuleSubject {
  switch (ast.kind) {
    case "comparison":
    case "collection":
      return ast.property.subject;
    case "not":
      return subjectOf(ast.operand);
    case "and":
    case "or":
      return subjectOf(ast.left);
  }
}

/** The canonical names of the properties a rule reads, in order of first appearance. */
export function propertiesReadBy(ast: RuleExpr): string[] {
  const names = new Set<string>();
  const visit = (node: RuleExpr): void => {
    switch (node.kind) {
      case "comparison":
      case "collection":
        names.add(node.property.name);
        return;
      case "not":
        visit(node.operand);
        return;
      case "and":
      case "or":
        visit(node.left);
        visit(node.right);
    }
  };
  visit(ast);
  return [...names];
}
