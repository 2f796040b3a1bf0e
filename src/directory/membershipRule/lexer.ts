// Turns rule text into tokens. The lexer knows shapes, not meanings: `-eq` and `-foo` are both dash words and
// `device.deviceOSType`, `and`, `_` and `true` are all words; the parser decides what each means where it stands.

import { ruleError } from "./ast.js";

export type TokenKind =
  | "word"       // device.deviceOSType, _, and, or, not, true, false, null
  | "dashWord"   // -eq, -any, -and ...
  | "string"     // "Windows" or 'Windows'
  | "(" | ")" | "[" | "]" | ","
  | "end";

export interface Token {
  readonly kind: TokenKind;
  /** Words and dash words: the text without the dash. Strings: the unescaped content. */
  readonly value: string;
  /** The source text of the token, for error messages. */
  readonly text: string;
  readonly position: number;
}

const WORD = /[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*/y;
const DASH_WORD = /-([A-Za-z]+)/y;
const PUNCTUATION = new Set(["(", ")", "[", "]", ","]);
/** Entra escapes a quote inside a string with a backtick: "Sales`"s". */
const ESCAPE = "`";

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: c as TokenKind, value: c, text: c, position: i });
      i++;
    } else if (c === '"' || c === "'") {
      const token = readString(text, i);
      tokens.push(token);
      i += token.text.length;
    } else if (c === "-") {
      DASH_WORD.lastIndex = i;
      const m = DASH_WORD.exec(text);
      if (m === null) throw ruleError(i, "an operator name after '-'", describeText(text.slice(i + 1, i + 2)));
      tokens.push({ kind: "dashWord", value: m[1], text: m[0], position: i });
      i += m[0].length;
    } else {
      WORD.lastIndex = i;
      const m = WORD.exec(text);
      if (m === null) throw ruleError(i, "a property, operator, value or parenthesis", describeText(c));
      tokens.push({ kind: "word", value: m[0], text: m[0], position: i });
      i += m[0].length;
    }
  }
  tokens.push({ kind: "end", value: "", text: "", position: text.length });
  return tokens;
}

function readString(text: string, start: number): Token {
  const quote = text[start];
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === quote) return { kind: "string", value, text: text.slice(start, i + 1), position: start };
    if (c === ESCAPE && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  throw ruleError(text.length, `a closing ${quote} for the string at position ${start}`, "the end of the rule");
}

/** How a token or character appears in an error message. */
export function describeToken(token: Token): string {
  return token.kind === "end" ? "the end of the rule" : describeText(token.text);
}

function describeText(text: string): string {
  if (text === "") return "the end of the rule";
  return `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
}

/** How the printer writes a string so that readString gives it back unchanged. */
export function quoteString(value: string): string {
  return `"${value.replace(/[`"]/g, (c) => ESCAPE + c)}"`;
}
