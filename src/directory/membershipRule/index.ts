// Entra dynamic group membership rules: parse, print and evaluate `membershipRule` strings.

export {
  MembershipRuleError, propertiesReadBy,
  type And, type CollectionTest, type Comparison, type ComparisonOperator, type ElementTest, type Not, type Or,
  type PropertyKind, type PropertyRef, type Quantifier, type RuleExpr, type RuleSubject, type RuleValue,
} from "./ast.js";
export { parseMembershipRule } from "./parser.js";
export { printMembershipRule } from "./printer.js";
export { compileMembershipRule, type CompiledMembershipRule } from "./evaluate.js";
