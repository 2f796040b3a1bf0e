// Intune assignment filter rules (spec §2.9, §3.2): parse, validate, print and evaluate
// deviceAndAppManagementAssignmentFilter.rule strings, and list the properties each platform supports.

import { AssignmentFilterRuleError } from "./ast.js";
import { parseFilterRule } from "./parser.js";
import type { DevicePlatform } from "./properties.js";

export {
  AssignmentFilterRuleError, FILTER_OPERATORS, MAX_NESTING_DEPTH, MAX_RULE_LENGTH, OPERATOR_ENUM_NAMES,
  entityOf, propertiesReadBy,
  type AssignmentFilterOperatorName, type FilterAnd, type FilterComparison, type FilterEntity, type FilterOperator,
  type FilterOr, type FilterRuleExpr, type FilterValue,
} from "./ast.js";
export { parseFilterRule } from "./parser.js";
export { printFilterRule } from "./printer.js";
export {
  compileFilterExpr, compileFilterRule,
  type CompiledFilterRule, type FilterPredicate, type FilterPropertyName, type FilterableDevice,
} from "./compile.js";
export {
  DEVICE_PLATFORMS, supportedProperties,
  type AssignmentFilterSupportedProperty, type DevicePlatform,
} from "./properties.js";

export interface FilterRuleValidation {
  isValidRule: boolean;
  error?: { message: string; position: number };
}

/** validateFilter: never throws for a bad rule; the first error found, with its 0-based position. */
export function validateFilterRule(text: string, platform?: DevicePlatform): FilterRuleValidation {
  try {
    parseFilterRule(text, platform);
    return { isValidRule: true };
  } catch (error) {
    if (!(error instanceof AssignmentFilterRuleError)) throw error;
    return { isValidRule: false, error: { message: error.message, position: error.position } };
  }
}
