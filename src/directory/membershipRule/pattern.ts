// The regular expressions of -match, run as a Thompson NFA so a test costs time linear in the input. A
// backtracking engine cannot be guarded by length caps alone: `.*.*.*x`, seven characters, takes V8 over a minute
// on a 1,024-character value. The dialect is the part of .NET/JavaScript syntax that rules use, matched
// case-insensitively and unanchored: literals, `.`, classes with ranges, \d \w \s (and negations), \b \B, ^ $,
// groups (capturing or `(?:`), `|`, and the quantifiers * + ? {n} {n,} {n,m} (lazy forms accepted; they cannot
// change whether a value matches). Backreferences, lookaround, named groups and inline options are refused.

export class PatternError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

export interface CompiledPattern {
  /** Whether any part of `input` matches, ignoring case. */
  test(input: string): boolean;
}

/** Caps the automaton a pattern expands to (`(a{30}){30}` is 900 states), which bounds the cost per character. */
export const MAX_PATTERN_STATES = 500;

export function compilePattern(source: string): CompiledPattern {
  const start = buildAutomaton(new PatternParser(source).parse());
  return { test: (input) => run(start, input) };
}

// ---- Syntax -----------------------------------------------------------------------------------------------------

/** A character test sees the input character with its lower- and upper-case forms, which is how case is ignored. */
type CharTest = (variants: readonly string[]) => boolean;
type Assertion = "start" | "end" | "wordBoundary" | "notWordBoundary";

type PatternNode =
  | { readonly kind: "char"; readonly test: CharTest }
  | { readonly kind: "assert"; readonly assertion: Assertion }
  | { readonly kind: "sequence"; readonly items: readonly PatternNode[] }
  | { readonly kind: "alternation"; readonly options: readonly PatternNode[] }
  | { readonly kind: "repeat"; readonly item: PatternNode; readonly min: number; readonly max: number };

const LINE_TERMINATORS = "\n\r\u2028\u2029";
const isDigit = (c: string) => c >= "0" && c <= "9";
const isWordChar = (c: string) => /^[A-Za-z0-9_]$/.test(c);
const isSpace = (c: string) => /^\s$/.test(c);
const CLASS_ESCAPES: Readonly<Record<string, (c: string) => boolean>> = {
  d: isDigit, D: (c) => !isDigit(c),
  w: isWordChar, W: (c) => !isWordChar(c),
  s: isSpace, S: (c) => !isSpace(c),
};
const CONTROL_ESCAPES: Readonly<Record<string, string>> = { t: "\t", n: "\n", r: "\r", f: "\f", v: "\v", "0": "\0" };

function variantsOf(c: string): string[] {
  const variants = [c];
  for (const v of [c.toLowerCase(), c.toUpperCase()]) if (v.length === 1 && !variants.includes(v)) variants.push(v);
  return variants;
}

/** A set of characters, tested against every case variant; negation applies after, as in JavaScript. */
function charClass(members: readonly ((c: string) => boolean)[], negated: boolean): CharTest {
  return (variants) => {
    for (const v of variants) for (const member of members) if (member(v)) return !negated;
    return negated;
  };
}

function literal(c: string): CharTest {
  const [a, b = a, d = a] = variantsOf(c);
  return (variants) => {
    for (const v of variants) if (v === a || v === b || v === d) return true;
    return false;
  };
}

class PatternParser {
  private i = 0;

  constructor(private readonly source: string) {}

  parse(): PatternNode {
    const node = this.alternation();
    if (this.i < this.source.length) throw this.error("unmatched ')'");
    return node;
  }

  private alternation(): PatternNode {
    const options = [this.sequence()];
    while (this.source[this.i] === "|") {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : { kind: "alternation", options };
  }

  private sequence(): PatternNode {
    const items: PatternNode[] = [];
    while (this.i < this.source.length && this.source[this.i] !== "|" && this.source[this.i] !== ")") {
      items.push(this.quantified());
    }
    return items.length === 1 ? items[0] : { kind: "sequence", items };
  }

  private quantified(): PatternNode {
    const item = this.atom();
    const bounds = this.quantifier();
    if (bounds === undefined) return item;
    if (item.kind === "assert") throw this.error("nothing to repeat");
    if (this.source[this.i] === "?") this.i++; // lazy: same answer to "does it match"
    const at = this.i;
    if (this.quantifier() !== undefined) throw this.error("nothing to repeat", at);
    return { kind: "repeat", item, min: bounds.min, max: bounds.max };
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.source[this.i];
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      return { min: c === "+" ? 1 : 0, max: c === "?" ? 1 : Infinity };
    }
    const m = c === "{" ? /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.i)) : null;
    if (m === null) return undefined; // a `{` that opens no quantifier is a literal, as in JavaScript
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    if (max < min) throw this.error("numbers out of order in {} quantifier");
    this.i += m[0].length;
    return { min, max };
  }

  private atom(): PatternNode {
    const c = this.source[this.i++];
    switch (c) {
      case "(": {
        if (this.source[this.i] === "?") {
          if (this.source[this.i + 1] !== ":") throw this.error("lookaround, named groups and inline options are not supported", this.i - 1);
          this.i += 2;
        }
        const inner = this.alternation();
        if (this.source[this.i] !== ")") throw this.error("missing ')'");
        this.i++;
        return { kind: "sequence", items: [inner] }; // a group, so `(^)?` may repeat what `^?` may not
      }
      case "[":
        return { kind: "char", test: this.charClassBody() };
      case ".":
        return { kind: "char", test: charClass([(v) => LINE_TERMINATORS.includes(v)], true) };
      case "^":
        return { kind: "assert", assertion: "start" };
      case "$":
        return { kind: "assert", assertion: "end" };
      case "\\":
        return this.escape();
      case "*": case "+": case "?":
        throw this.error("nothing to repeat", this.i - 1);
      case "{":
        if (/^\{\d+(,\d*)?\}/.test(this.source.slice(this.i - 1))) throw this.error("nothing to repeat", this.i - 1);
        return { kind: "char", test: literal(c) };
      default:
        return { kind: "char", test: literal(c) };
    }
  }

  private escape(): PatternNode {
    const c = this.source[this.i++];
    if (c === "b" || c === "B") return { kind: "assert", assertion: c === "b" ? "wordBoundary" : "notWordBoundary" };
    return { kind: "char", test: this.escapedMember(c, (member) => charClass([member], false)) };
  }

  /** The character an escape stands for, or its class; shared by atoms and class members. */
  private escapedMember<T>(c: string | undefined, wrap: (member: (v: string) => boolean) => T): T {
    if (c === undefined) throw this.error("\\ at end of pattern", this.i - 1);
    const classEscape = CLASS_ESCAPES[c];
    if (classEscape !== undefined) return wrap(classEscape);
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return wrap((v) => v === control);
    if (/[A-Za-z0-9]/.test(c)) throw this.error(`unsupported escape \\${c}`, this.i - 2);
    return wrap((v) => variantsOf(c).includes(v));
  }

  /** After `[`: members and ranges up to `]`. */
  private charClassBody(): CharTest {
    const negated = this.source[this.i] === "^";
    if (negated) this.i++;
    const members: ((c: string) => boolean)[] = [];
    while (this.source[this.i] !== "]") {
      if (this.i >= this.source.length) throw this.error("missing ']'");
      const from = this.classAtom();
      if (this.source[this.i] === "-" && this.source[this.i + 1] !== "]" && this.i + 1 < this.source.length) {
        this.i++;
        const to = this.classAtom();
        if (typeof from !== "string" || typeof to !== "string") throw this.error("invalid class range");
        if (to < from) throw this.error("range out of order in character class");
        members.push((v) => v >= from && v <= to);
      } else {
        members.push(typeof from === "string" ? (v) => v === from : from);
      }
    }
    this.i++;
    return charClass(members, negated);
  }

  /** One class member: a single character (for ranges) or a class escape such as \d. */
  private classAtom(): string | ((c: string) => boolean) {
    const c = this.source[this.i++];
    if (c !== "\\") return c;
    const e = this.source[this.i++];
    if (e === "b") return "\b";
    if (e !== undefined && CONTROL_ESCAPES[e] !== undefined) return CONTROL_ESCAPES[e];
    if (e !== undefined && /[^A-Za-z0-9]/.test(e)) return e;
    return this.escapedMember(e, (member) => member);
  }

  private error(message: string, offset = this.i): PatternError {
    return new PatternError(offset, message);
  }
}

// ---- Automaton --------------------------------------------------------------------------------------------------

type State =
  | { readonly kind: "char"; readonly test: CharTest; readonly next: State; mark: number }
  | { readonly kind: "assert"; readonly assertion: Assertion; readonly next: State; mark: number }
  | { readonly kind: "split"; next: State[]; mark: number }
  | { readonly kind: "match"; mark: number };

/** Thompson's construction, built back to front: each node is compiled knowing the state that follows it. */
function buildAutomaton(root: PatternNode): State {
  let count = 0;
  const made = <S extends State>(state: S): S => {
    if (++count > MAX_PATTERN_STATES) throw new PatternError(0, `pattern expands beyond ${MAX_PATTERN_STATES} states`);
    return state;
  };
  const build = (node: PatternNode, next: State): State => {
    switch (node.kind) {
      case "char":
        return made({ kind: "char", test: node.test, next, mark: -1 });
      case "assert":
        return made({ kind: "assert", assertion: node.assertion, next, mark: -1 });
      case "sequence":
        return node.items.reduceRight((following, item) => build(item, following), next);
      case "alternation":
        return made({ kind: "split", next: node.options.map((option) => build(option, next)), mark: -1 });
      case "repeat": {
        let rest = next;
        if (node.max === Infinity) {
          const loop = made({ kind: "split", next: [] as State[], mark: -1 });
          loop.next = [build(node.item, loop), next];
          rest = loop;
        } else {
          for (let k = node.min; k < node.max; k++) rest = made({ kind: "split", next: [build(node.item, rest), next], mark: -1 });
        }
        for (let k = 0; k < node.min; k++) rest = build(node.item, rest);
        return rest;
      }
    }
  };
  return build(root, made({ kind: "match", mark: -1 }));
}

let generation = 0;
const pending: State[] = []; // the closure's work list, shared: matching is synchronous

/** Steps every live state over the input at once; `mark` keeps a state from entering one step's list twice. */
function run(start: State, input: string): boolean {
  let current: State[] = [];
  let matched = addWithClosure(current, start, input, 0, ++generation);
  for (let pos = 0; !matched && pos < input.length; pos++) {
    const variants = variantsOf(input[pos]);
    const step = ++generation;
    const next: State[] = [];
    for (const state of current) {
      if (state.kind === "char" && state.test(variants)) matched ||= addWithClosure(next, state.next, input, pos + 1, step);
    }
    matched ||= addWithClosure(next, start, input, pos + 1, step); // unanchored: a match may begin anywhere
    current = next;
  }
  return matched;
}

/** Adds `state` and what it reaches without reading a character at `pos`; true if that includes the match. */
function addWithClosure(list: State[], state: State, input: string, pos: number, step: number): boolean {
  let matched = false;
  pending.length = 0;
  pending.push(state);
  while (pending.length > 0) {
    const s = pending.pop()!;
    if (s.mark === step) continue;
    s.mark = step;
    switch (s.kind) {
      case "split":
        for (let k = s.next.length - 1; k >= 0; k--) pending.push(s.next[k]);
        break;
      case "assert":
        if (holds(s.assertion, input, pos)) pending.push(s.next);
        break;
      case "match":
        matched = true;
        break;
      default:
        list.push(s);
    }
  }
  return matched;
}

function holds(assertion: Assertion, input: string, pos: number): boolean {
  switch (assertion) {
    case "start":
      return pos === 0;
    case "end":
      return pos === input.length;
    default: {
      const boundary = isWordChar(input[pos - 1] ?? "") !== isWordChar(input[pos] ?? "");
      return assertion === "wordBoundary" ? boundary : !boundary;
    }
  }
}
