// Recursive descent over the token list, one function per grammar rule (see README.md). Besides syntax the parser
// checks what only it can point at, against the catalogue in properties.ts: unknown properties, a second entity, an
// entity or property the platform does not have, operators the property does not support, and values that do not
// fit the property and operator.

import {
  FILTER_OPERATORS, MAX_NESTING_DEPTH, MAX_RULE_LENGTH, ruleError,
  type FilterEntity, type FilterOperator, type FilterRuleExpr, type FilterValue,
} from "./ast.js";
import { describeToken, tokenize, type Token } from "./lexer.js";
import {
  VERSION_PATTERN, appliesTo, entityForPlatform, findProperty, supportedValuesFor,
  type DevicePlatform, type FilterPropertyDefinition,
} from "./properties.js";

/** Operators are matched case-insensitively, with or without the dash: `-StartsWith`, `startswith`. */
const OPERATOR_SPELLINGS: ReadonlyMap<string, FilterOperator> = new Map(
  FILTER_OPERATORS.map((op) => [op.toLowerCase(), op]),
);

export function parseFilterRule(text: string, platform?: DevicePlatform): FilterRuleExpr {
  if (text.length > MAX_RULE_LENGTH) {
    throw ruleError(MAX_RULE_LENGTH, `a rule of at most ${MAX_RULE_LENGTH} characters`, `${text.length} characters`);
  }
  return new Parser(tokenize(text), platform).parseRule();
}

class Parser {
  private index = 0;
  private depth = 0;
  private entity: FilterEntity | undefined;

  constructor(private readonly tokens: readonly Token[], private readonly platform: DevicePlatform | undefined) {}

  // rule = orExpr end
  parseRule(): FilterRuleExpr {
    const expr = this.parseOr();
    const next = this.peek();
    if (next.kind !== "end") throw ruleError(next.position, "and, or or the end of the rule", describeToken(next));
    return expr;
  }

  // orExpr = andExpr { ("or" | "-or") andExpr }
  private parseOr(): FilterRuleExpr {
    let left = this.parseAnd();
    while (this.acceptLogical("or")) left = { kind: "or", left, right: this.parseAnd() };
    return left;
  }

  // andExpr = primary { ("and" | "-and") primary }
  private parseAnd(): FilterRuleExpr {
    let left = this.parsePrimary();
    while (this.acceptLogical("and")) left = { kind: "and", left, right: this.parsePrimary() };
    return left;
  }

  // primary = "(" orExpr ")" | condition
  private parsePrimary(): FilterRuleExpr {
    const open = this.peek();
    if (open.kind !== "(") return this.parseCondition();
    if (++this.depth > MAX_NESTING_DEPTH) {
      throw ruleError(open.position, `at most ${MAX_NESTING_DEPTH} levels of nesting`, "deeper nesting");
    }
    this.index++;
    const expr = this.parseOr();
    this.expect(")", "')'");
    this.depth--;
    return expr;
  }

  // condition = property operator value
  private parseCondition(): FilterRuleExpr {
    const definition = this.parseProperty();
    const operator = this.parseOperator(definition);
    return {
      kind: "comparison", entity: definition.entity, property: definition.name, operator,
      value: this.parseValue(definition, operator),
    };
  }

  // property = ("device" | "app") "." propertyName
  private parseProperty(): FilterPropertyDefinition {
    const token = this.peek();
    const expectedProperty = this.entity === undefined
      ? "a property such as device.deviceName"
      : `${anEntity(this.entity)} property`;
    const dot = token.kind === "word" ? token.value.indexOf(".") : -1;
    if (dot < 0) throw ruleError(token.position, expectedProperty, describeToken(token));
    const entityName = token.value.slice(0, dot).toLowerCase();
    if (entityName !== "device" && entityName !== "app") {
      throw ruleError(token.position, "a property of device or app", describeToken(token));
    }
    const platformEntity = entityForPlatform(this.platform);
    if (platformEntity === null) {
      throw ruleError(token.position, "a property the platform supports", describeToken(token),
        `assignment filters do not support platform ${this.platform}`);
    }
    if (platformEntity !== undefined && platformEntity !== entityName) {
      throw ruleError(token.position, `${anEntity(platformEntity)} property`, describeToken(token),
        `${this.platform} is a managed-${platformEntity === "device" ? "device" : "app"} platform`);
    }
    if (this.entity !== undefined && this.entity !== entityName) {
      throw ruleError(token.position, expectedProperty, describeToken(token),
        "a rule reads either device or app properties, not both");
    }
    const name = token.value.slice(dot + 1);
    const definition = findProperty(entityName, name);
    if (definition === undefined) {
      throw ruleError(token.position, `${anEntity(entityName)} property`, describeToken(token),
        `'${name}' is not ${anEntity(entityName)} property`);
    }
    if (!appliesTo(definition, this.platform)) {
      const expected = `${anEntity(entityName)} property supported on ${this.platform}`;
      throw ruleError(token.position, expected, describeToken(token),
        `${entityName}.${definition.name} does not apply to ${this.platform}`);
    }
    this.entity = entityName;
    this.index++;
    return definition;
  }

  // operator = [ "-" ] ( "eq" | "ne" | "startsWith" | ... | "le" ), one the property supports
  private parseOperator(definition: FilterPropertyDefinition): FilterOperator {
    const token = this.peek();
    const operator = token.kind === "dashWord" || token.kind === "word"
      ? OPERATOR_SPELLINGS.get(token.value.toLowerCase())
      : undefined;
    const expected = `an operator (${listOf(definition.operators.map((op) => `-${op}`))})`;
    if (operator === undefined) throw ruleError(token.position, expected, describeToken(token));
    if (!definition.operators.includes(operator)) {
      throw ruleError(token.position, expected, describeToken(token),
        `${definition.entity}.${definition.name} does not support -${operator}`);
    }
    this.index++;
    return operator;
  }

  // value = string | list | null | boolean | version, as the property and operator allow
  private parseValue(definition: FilterPropertyDefinition, operator: FilterOperator): FilterValue {
    const token = this.peek();
    const equality = operator === "eq" || operator === "ne";
    if (equality && isNull(token)) {
      this.index++;
      return { kind: "null" };
    }
    switch (definition.dataType) {
      case "Boolean":
        return this.parseBoolean();
      case "Version":
        return this.parseVersion(equality);
      case "String":
        if (operator === "in" || operator === "notIn") return this.parseList(definition);
        if (token.kind !== "string") {
          const why = isNull(token) ? "$null goes with -eq and -ne only" : undefined;
          const expected = equality ? "a quoted string or $null" : "a quoted string";
          throw ruleError(token.position, expected, describeToken(token), why);
        }
        if (equality) this.checkSupported(definition, token);
        this.index++;
        return { kind: "string", value: token.value };
    }
  }

  // boolean = "true" | "false" | '"true"' | '"false"' (any case)
  private parseBoolean(): FilterValue {
    const token = this.peek();
    const text = token.kind === "word" || token.kind === "string" ? token.value.toLowerCase() : "";
    if (text !== "true" && text !== "false") {
      throw ruleError(token.position, "True, False or $null", describeToken(token));
    }
    this.index++;
    return { kind: "boolean", value: text === "true" };
  }

  // version = digits { "." digits }, bare or in double quotes
  private parseVersion(equality: boolean): FilterValue {
    const token = this.peek();
    if ((token.kind !== "word" && token.kind !== "string") || !VERSION_PATTERN.test(token.value)) {
      const expected = `a version such as 10.0.22000.1000${equality ? " or $null" : ""}`;
      throw ruleError(token.position, expected, describeToken(token));
    }
    this.index++;
    return { kind: "version", value: token.value };
  }

  // list = "[" string { "," string } "]"
  private parseList(definition: FilterPropertyDefinition): FilterValue {
    this.expect("[", 'a list such as ["a", "b"]');
    const values: string[] = [];
    do {
      const token = this.expect("string", "a quoted string");
      this.checkSupported(definition, token);
      values.push(token.value);
    } while (this.accept(","));
    this.expect("]", "',' or ']'");
    return { kind: "list", values };
  }

  /** Properties with a closed value set take only those values with -eq, -ne, -in and -notIn. */
  private checkSupported(definition: FilterPropertyDefinition, token: Token): void {
    const supported = supportedValuesFor(definition, this.platform);
    if (supported.length === 0) return;
    const wanted = token.value.toLowerCase();
    if (supported.some((value) => value.toLowerCase() === wanted)) return;
    const shown = supported.slice(0, 10).map((value) => `"${value}"`);
    if (supported.length > 10) shown.push("…");
    const where = this.platform === undefined ? "" : ` on ${this.platform}`;
    const expected = `${anEntity(definition.entity)}.${definition.name} value${where} (${shown.join(", ")})`;
    throw ruleError(token.position, expected, describeToken(token));
  }

  /** Logical operators are accepted with or without the dash: `-and` and `and`. */
  private acceptLogical(name: "and" | "or"): boolean {
    const token = this.peek();
    if ((token.kind === "word" || token.kind === "dashWord") && token.value.toLowerCase() === name) {
      this.index++;
      return true;
    }
    return false;
  }

  private accept(kind: Token["kind"]): boolean {
    if (this.peek().kind !== kind) return false;
    this.index++;
    return true;
  }

  private expect(kind: Token["kind"], expected: string): Token {
    const token = this.peek();
    if (token.kind !== kind) throw ruleError(token.position, expected, describeToken(token));
    this.index++;
    return token;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }
}

/** "a device", "an app" */
const anEntity = (entity: FilterEntity) => (entity === "app" ? "an app" : "a device");

/** `null` and `$null` in any case, unquoted. */
function isNull(token: Token): boolean {
  if (token.kind !== "word") return false;
  const word = token.value.toLowerCase();
  return word === "null" || word === "$null";
}

/** "a, b or c" */
function listOf(items: readonly string[]): string {
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
