// Recursive descent over the token list, one function per grammar rule (see README.md). Besides syntax the
// parser checks what only it can point at: unknown properties, a second subject, operators that do not fit the
// property's kind, values that do not fit the operator, and -match patterns.

import {
  COMPARISON_OPERATORS, MAX_NESTING_DEPTH, MAX_PATTERN_LENGTH, MAX_RULE_LENGTH, findProperty, ruleError,
  type ComparisonOperator, type ElementTest, type PropertyKind, type PropertyRef, type Quantifier,
  type RuleExpr, type RuleSubject, type RuleValue,
} from "./ast.js";
import { describeToken, tokenize, type Token } from "./lexer.js";
import { PatternError, compilePattern } from "./pattern.js";

/** Operators are matched case-insensitively: `-startswith` is `-startsWith`. */
const OPERATOR_SPELLINGS: ReadonlyMap<string, ComparisonOperator> = new Map(
  COMPARISON_OPERATORS.map((op) => [op.toLowerCase(), op]),
);
const OPERATOR_LIST = `${COMPARISON_OPERATORS.slice(0, -1).map((op) => `-${op}`).join(", ")} or -notIn`;

export function parseMembershipRule(text: string): RuleExpr {
  if (text.length > MAX_RULE_LENGTH) {
    throw ruleError(MAX_RULE_LENGTH, `a rule of at most ${MAX_RULE_LENGTH} characters`, `${text.length} characters`);
  }
  return new Parser(tokenize(text)).parseRule();
}

class Parser {
  private index = 0;
  private depth = 0;
  private subject: RuleSubject | undefined;

  constructor(private readonly tokens: readonly Token[]) {}

  // rule = orExpr end
  parseRule(): RuleExpr {
    const expr = this.parseOr();
    const next = this.peek();
    if (next.kind !== "end") throw ruleError(next.position, "-and, -or or the end of the rule", describeToken(next));
    return expr;
  }

  // orExpr = andExpr { ("-or" | "or") andExpr }
  private parseOr(): RuleExpr {
    let left = this.parseAnd();
    while (this.acceptLogical("or")) left = { kind: "or", left, right: this.parseAnd() };
    return left;
  }

  // andExpr = notExpr { ("-and" | "and") notExpr }
  private parseAnd(): RuleExpr {
    let left = this.parseNot();
    while (this.acceptLogical("and")) left = { kind: "and", left, right: this.parseNot() };
    return left;
  }

  // notExpr = ("-not" | "not") notExpr | primary
  private parseNot(): RuleExpr {
    const start = this.peek();
    if (!this.acceptLogical("not")) return this.parsePrimary();
    return this.nested(start, () => ({ kind: "not", operand: this.parseNot() }));
  }

  // primary = "(" orExpr ")" | condition
  private parsePrimary(): RuleExpr {
    const open = this.peek();
    if (open.kind !== "(") return this.parseCondition();
    this.index++;
    const expr = this.nested(open, () => this.parseOr());
    this.expect(")", "')'");
    return expr;
  }

  // condition = property ( comparisonOperator value | quantifier "(" elementTest ")" )
  private parseCondition(): RuleExpr {
    const { property, kind } = this.parseProperty();
    const opToken = this.peek();
    const quantifier = quantifierOf(opToken);
    if (kind === "multiValued") {
      if (quantifier === undefined) {
        throw ruleError(opToken.position, "-any or -all", describeToken(opToken),
          `${property.subject}.${property.name} is multi-valued`);
      }
      this.index++;
      const open = this.expect("(", "'(' after -" + quantifier);
      const element = this.nested(open, () => this.parseElementTest());
      this.expect(")", "')'");
      return { kind: "collection", property, quantifier, element };
    }
    if (quantifier !== undefined) {
      throw ruleError(opToken.position, "a comparison operator", describeToken(opToken),
        `-${quantifier} applies only to multi-valued properties and ${property.subject}.${property.name} is single-valued`);
    }
    const operator = this.parseOperator(kind, `${property.subject}.${property.name}`);
    return { kind: "comparison", property, operator, value: this.parseValue(operator, kind) };
  }

  // elementTest = "_" comparisonOperator value | "(" elementTest ")"
  private parseElementTest(): ElementTest {
    const token = this.peek();
    if (token.kind === "(") {
      this.index++;
      const test = this.nested(token, () => this.parseElementTest());
      this.expect(")", "')'");
      return test;
    }
    if (token.kind !== "word" || token.value !== "_") throw ruleError(token.position, "'_'", describeToken(token));
    this.index++;
    const operator = this.parseOperator("string", "_");
    return { operator, value: this.parseValue(operator, "string") };
  }

  // property = subject "." propertyName
  private parseProperty(): { property: PropertyRef; kind: PropertyKind } {
    const token = this.peek();
    const expectedSubject = this.subject === undefined ? "a property such as device.deviceOSType" : `a ${this.subject} property`;
    if (token.kind !== "word" || !token.value.includes(".")) {
      throw ruleError(token.position, expectedSubject, describeToken(token));
    }
    const dot = token.value.indexOf(".");
    const subjectName = token.value.slice(0, dot).toLowerCase();
    if (subjectName !== "device" && subjectName !== "user") {
      throw ruleError(token.position, "a property of device or user", describeToken(token));
    }
    if (this.subject !== undefined && this.subject !== subjectName) {
      throw ruleError(token.position, expectedSubject, describeToken(token),
        "a rule reads either device or user properties, not both");
    }
    const definition = findProperty(subjectName, token.value.slice(dot + 1));
    if (definition === undefined) {
      throw ruleError(token.position, `a ${subjectName} property`, describeToken(token),
        `'${token.value.slice(dot + 1)}' is not a ${subjectName} property`);
    }
    this.subject = subjectName;
    this.index++;
    return { property: { subject: subjectName, name: definition.name }, kind: definition.kind };
  }

  // comparisonOperator = "-eq" | "-ne" | "-startsWith" | ... | "-notIn"
  private parseOperator(kind: PropertyKind, subjectText: string): ComparisonOperator {
    const token = this.peek();
    const operator = token.kind === "dashWord" ? OPERATOR_SPELLINGS.get(token.value.toLowerCase()) : undefined;
    if (operator === undefined) throw ruleError(token.position, `an operator (${OPERATOR_LIST})`, describeToken(token));
    if (kind === "boolean" && operator !== "eq" && operator !== "ne") {
      throw ruleError(token.position, "-eq or -ne", describeToken(token), `${subjectText} is boolean`);
    }
    this.index++;
    return operator;
  }

  // value = string | "true" | "false" | "null" | list, as the operator and property kind allow
  private parseValue(operator: ComparisonOperator, kind: PropertyKind): RuleValue {
    const token = this.peek();
    if (kind === "boolean") {
      const word = token.kind === "word" ? token.value.toLowerCase() : "";
      if (word !== "true" && word !== "false" && word !== "null") {
        throw ruleError(token.position, "true, false or null", describeToken(token));
      }
      this.index++;
      return word === "null" ? { kind: "null" } : { kind: "boolean", value: word === "true" };
    }
    if (operator === "in" || operator === "notIn") return this.parseList();
    if ((operator === "eq" || operator === "ne") && token.kind === "word" && token.value.toLowerCase() === "null") {
      this.index++;
      return { kind: "null" };
    }
    if (token.kind !== "string") {
      const expected = operator === "eq" || operator === "ne" ? "a quoted string or null" : "a quoted string";
      throw ruleError(token.position, expected, describeToken(token));
    }
    if (operator === "match" || operator === "notMatch") checkPattern(token);
    this.index++;
    return { kind: "string", value: token.value };
  }

  // list = "[" [ string { "," string } ] "]"
  private parseList(): RuleValue {
    this.expect("[", "a list such as [\"a\", \"b\"]");
    const values: string[] = [];
    if (this.peek().kind !== "]") {
      do values.push(this.expect("string", "a quoted string").value);
      while (this.accept(","));
    }
    this.expect("]", "',' or ']'");
    return { kind: "list", values };
  }

  private nested<T>(at: Token, parse: () => T): T {
    if (++this.depth > MAX_NESTING_DEPTH) {
      throw ruleError(at.position, `at most ${MAX_NESTING_DEPTH} levels of nesting`, "deeper nesting");
    }
    const result = parse();
    this.depth--;
    return result;
  }

  /** Logical operators are accepted with or without the dash: `-and` and `and`. */
  private acceptLogical(name: "and" | "or" | "not"): boolean {
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

function quantifierOf(token: Token): Quantifier | undefined {
  if (token.kind !== "dashWord") return undefined;
  const name = token.value.toLowerCase();
  return name === "any" || name === "all" ? name : undefined;
}

/** -match patterns are checked here so that a rule that parses can always be compiled and evaluated. */
function checkPattern(token: Token): void {
  const pattern = token.value;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw ruleError(token.position, `a pattern of at most ${MAX_PATTERN_LENGTH} characters`, `${pattern.length} characters`);
  }
  try {
    compilePattern(pattern);
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    throw ruleError(token.position, "a supported regular expression", describeToken(token),
      `${error.message} at offset ${error.offset} of the pattern`);
  }
}
