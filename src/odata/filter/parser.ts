// Tokens → FilterExpr by recursive descent, one function per rule of the grammar in README.md.
// Precedence, lowest first: or, and, not, comparison/in, primary. Keywords and function names are
// case-insensitive; property names are kept as written.

import { badRequest } from "../errors.js";
import {
  COMPARISON_OPERATORS,
  FUNCTION_ARITY,
  NOT_EMPTY_VARIABLE,
  RESERVED_WORDS,
  notEmptyPredicate,
  type ComparisonOperator,
  type FilterExpr,
  type FunctionName,
  type LiteralValue,
} from "./ast.js";
import { describeToken, syntaxError, tokenize, type Punctuation, type Token } from "./lexer.js";

export const MAX_FILTER_LENGTH = 8000;
export const MAX_NESTING_DEPTH = 100;

export function parseFilter(text: string): FilterExpr {
  if (text.length > MAX_FILTER_LENGTH) {
    throw badRequest(`The $filter expression is ${text.length} characters long; the limit is ${MAX_FILTER_LENGTH}.`);
  }
  const parser = new Parser(tokenize(text));
  const expr = parser.orExpr();
  parser.expectEnd();
  return expr;
}

class Parser {
  private next = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  // filter = orExpr END
  expectEnd(): void {
    if (this.peek().kind !== "end") throw this.expected("'and', 'or' or end of input");
  }

  // orExpr = andExpr { "or" andExpr }
  orExpr(): FilterExpr {
    let left = this.andExpr();
    while (this.acceptKeyword("or")) left = { kind: "logical", op: "or", left, right: this.andExpr() };
    return left;
  }

  // andExpr = notExpr { "and" notExpr }
  andExpr(): FilterExpr {
    let left = this.notExpr();
    while (this.acceptKeyword("and")) left = { kind: "logical", op: "and", left, right: this.notExpr() };
    return left;
  }

  // notExpr = "not" notExpr | comparison
  notExpr(): FilterExpr {
    const not = this.peek();
    if (!this.acceptKeyword("not")) return this.comparison();
    return { kind: "not", operand: this.nested(not, () => this.notExpr()) };
  }

  // comparison = primary [ compareOp primary | "in" list ]
  comparison(): FilterExpr {
    const left = this.primary("an expression");
    const op = this.keyword(this.peek());
    if (op !== undefined && (COMPARISON_OPERATORS as readonly string[]).includes(op)) {
      this.advance();
      return { kind: "compare", op: op as ComparisonOperator, left, right: this.primary("a literal") };
    }
    if (op === "in") {
      this.advance();
      return { kind: "in", operand: left, values: this.list() };
    }
    return left;
  }

  // primary = "(" orExpr ")" | literal | call | pathOrLambda
  primary(expectation: string): FilterExpr {
    const token = this.peek();
    if (token.kind === "(") {
      this.advance();
      const inner = this.nested(token, () => this.orExpr());
      this.expect(")");
      return inner;
    }
    const literal = this.tryLiteral();
    if (literal !== undefined) return { kind: "literal", literal };
    if (token.kind !== "identifier" || RESERVED_WORDS.has(token.text.toLowerCase())) throw this.expected(expectation);
    if (this.peek(1).kind === "(") return this.call();
    return this.pathOrLambda();
  }

  // call = functionName "(" [ orExpr { "," orExpr } ] ")"
  call(): FilterExpr {
    const nameToken = this.advance();
    const name = nameToken.text.toLowerCase();
    if (!Object.hasOwn(FUNCTION_ARITY, name)) {
      throw badRequest(`An unknown function with name '${nameToken.text}' was found.`);
    }
    this.expect("(");
    const args: FilterExpr[] = [];
    if (this.peek().kind !== ")") {
      do args.push(this.nested(nameToken, () => this.orExpr()));
      while (this.accept(","));
    }
    this.expect(")", args.length > 0 ? "',' or ')'" : undefined);
    const arity = FUNCTION_ARITY[name as FunctionName];
    if (args.length !== arity) throw noMatchingSignature(name as FunctionName);
    return { kind: "call", name: name as FunctionName, args };
  }

  // pathOrLambda = identifier { "/" identifier } [ "/" ("any" | "all") lambda ]
  pathOrLambda(): FilterExpr {
    const path = [this.advance().text];
    while (this.accept("/")) {
      const segment = this.peek();
      if (segment.kind !== "identifier" || RESERVED_WORDS.has(segment.text.toLowerCase())) throw this.expected("a property name");
      const quantifier = segment.text.toLowerCase();
      if ((quantifier === "any" || quantifier === "all") && this.peek(1).kind === "(") {
        this.advance();
        return this.lambda(quantifier, path, segment);
      }
      path.push(this.advance().text);
    }
    return { kind: "property", path };
  }

  // lambda = "(" [ variable ":" orExpr ] ")"   (the empty form only for any)
  lambda(quantifier: "any" | "all", collection: string[], at: Token): FilterExpr {
    this.expect("(");
    if (quantifier === "any" && this.accept(")")) {
      return { kind: "lambda", quantifier, collection, variable: NOT_EMPTY_VARIABLE, predicate: notEmptyPredicate() };
    }
    const variable = this.peek();
    if (variable.kind !== "identifier" || variable.text.includes(".") || RESERVED_WORDS.has(variable.text.toLowerCase())) {
      throw this.expected(quantifier === "any" ? "a lambda variable or ')'" : "a lambda variable");
    }
    this.advance();
    this.expect(":");
    const predicate = this.nested(at, () => this.orExpr());
    this.expect(")");
    return { kind: "lambda", quantifier, collection, variable: variable.text, predicate };
  }

  // list = "(" [ literal { "," literal } ] ")"
  list(): LiteralValue[] {
    this.expect("(");
    const values: LiteralValue[] = [];
    if (this.accept(")")) return values;
    do values.push(this.literal());
    while (this.accept(","));
    this.expect(")", "',' or ')'");
    return values;
  }

  // literal = string | number | "true" | "false" | "null" | guid | dateTimeOffset | enum
  literal(): LiteralValue {
    const literal = this.tryLiteral();
    if (literal === undefined) throw this.expected("a literal");
    return literal;
  }

  private tryLiteral(): LiteralValue | undefined {
    const token = this.peek();
    const literal = literalOf(token);
    if (literal !== undefined) this.advance();
    return literal;
  }

  /** Runs a rule one nesting level deeper, refusing input that nests beyond the cap. */
  private nested<T>(at: Token, rule: () => T): T {
    if (++this.depth > MAX_NESTING_DEPTH) {
      throw badRequest(`The $filter expression nests deeper than ${MAX_NESTING_DEPTH} levels (at position ${at.start}).`);
    }
    try {
      return rule();
    } finally {
      this.depth--;
    }
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.next + ahead, this.tokens.length - 1)];
  }

  private advance(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.next++;
    return token;
  }

  private accept(kind: Punctuation): boolean {
    if (this.peek().kind !== kind) return false;
    this.advance();
    return true;
  }

  private expect(kind: Punctuation, expectation = `'${kind}'`): void {
    if (!this.accept(kind)) throw this.expected(expectation);
  }

  private keyword(token: Token): string | undefined {
    return token.kind === "identifier" ? token.text.toLowerCase() : undefined;
  }

  private acceptKeyword(word: string): boolean {
    if (this.keyword(this.peek()) !== word) return false;
    this.advance();
    return true;
  }

  private expected(expectation: string) {
    const found = this.peek();
    return syntaxError(found.start, `expected ${expectation} but found ${describeToken(found)}`);
  }
}

function literalOf(token: Token): LiteralValue | undefined {
  switch (token.kind) {
    case "string":
      return { type: "string", value: token.value };
    case "number":
      return { type: "number", value: token.value, text: token.text };
    case "guid":
      return { type: "guid", value: token.text.toLowerCase() };
    case "dateTimeOffset":
      return { type: "dateTimeOffset", value: token.text };
    case "enum":
      return { type: "enum", enumType: token.enumType, value: token.value };
    case "identifier":
      switch (token.text.toLowerCase()) {
        case "true":
          return { type: "boolean", value: true };
        case "false":
          return { type: "boolean", value: false };
        case "null":
          return { type: "null" };
      }
  }
  return undefined;
}

/** OData's wording when a function is called with the wrong number or kinds of arguments. */
export function noMatchingSignature(name: FunctionName) {
  const parameters = FUNCTION_ARITY[name] === 2 ? "Edm.String Nullable=true, Edm.String Nullable=true" : "Edm.String Nullable=true";
  return badRequest(
    `No function signature for the function with name '${name}' matches the specified arguments. ` +
      `The function signatures considered are: ${name}(${parameters}).`,
  );
}
