// Turns rule text into tokens. The lexer knows shapes, not meanings: `-eq` and `-foo` are both dash words, and
// `device.deviceName`, `and`, `eq`, `$null`, `True` and `10.0.22000` are all words; the parser decides what each
// means where it stands.

import { ruleError } from "./ast.js";

export type TokenKind =
  | "word"       // device.deviceName, and, or, eq, true, null, $null, 10.0.22000.1000
  | "dashWord"   // -eq, -startsWith, -and ...
  | "string"     // "Surface Book 3"
  | "(" | ")" | "[" | "]" | ","
  | "end";

export interface Token {
  readonly kind: TokenKind;
  /** Words and dash words: the text without the dash. Strings: the content between the quotes. */
  readonly value: string;
  /** The source text of the token, for error messages. */
  readonly text: string;
  readonly position: number;
}

const WORD = /\$?[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*/y;
const DASH_WORD = /-([A-Za-z]+)/y;
const WHITESPACE = /\s/;
const PUNCTUATION = new Set(["(", ")", "[", "]", ","]);
/** Quotes people paste by mistake: the language only has straight double quotes. */
const OTHER_QUOTES = new Set(["'", "\u2018", "\u2019", "\u201C", "\u201D", "`"]);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (WHITESPACE.test(c)) {
      i++;
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: c as TokenKind, value: c, text: c, position: i });
      i++;
    } else if (c === '"') {
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
      if (m === null) {
        const why = OTHER_QUOTES.has(c) ? "strings take straight double quotes" : undefined;
        throw ruleError(i, "a property, operator, value or parenthesis", describeText(c), why);
      }
      tokens.push({ kind: "word", value: m[0], text: m[0], position: i });
      i += m[0].length;
    }
  }
  tokens.push({ kind: "end", value: "", text: "", position: text.length });
  return tokens;
}

/** A string runs to the next double quote: Intune has no escape, so a value cannot contain `"`. */
function readString(text: string, start: number): Token {
  const close = text.indexOf('"', start + 1);
  if (close < 0) throw ruleError(text.length, `a closing " for the string at position ${start}`, "the end of the rule");
  return { kind: "string", value: text.slice(start + 1, close), text: text.slice(start, close + 1), position: start };
}

/** How a token appears in an error message. */
export function describeToken(token: Token): string {
  return token.kind === "end" ? "the end of the rule" : describeText(token.text);
}

function describeText(text: string): string {
  if (text === "") return "the end of the rule";
  return `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
}

/** How the printer writes a string; throws for a value the language cannot express. */
export function quoteString(value: string): string {
  if (value.includes('"')) throw new TypeError(`A filter rule string cannot contain a double quote: ${value}`);
  return `"${value}"`;
}
