// $filter text → tokens. Every token keeps its 0-based start so the parser can say where it went wrong.
// Literals that look alike (GUIDs, date-times, numbers all start with digits) are told apart here, by
// trying the longest shapes first.

import { badRequest, type GraphError } from "../errors.js";

export type Punctuation = "(" | ")" | "," | "/" | ":";

export type Token =
  | { kind: "identifier"; text: string; start: number } // a name or keyword; may be dotted (microsoft.graph.x)
  | { kind: "string"; text: string; start: number; value: string }
  | { kind: "number"; text: string; start: number; value: number }
  | { kind: "guid"; text: string; start: number }
  | { kind: "dateTimeOffset"; text: string; start: number }
  | { kind: "enum"; text: string; start: number; enumType: string; value: string }
  | { kind: Punctuation; text: string; start: number }
  | { kind: "end"; text: ""; start: number };

export const syntaxError = (position: number, detail: string): GraphError =>
  badRequest(`Syntax error at position ${position} in $filter: ${detail}.`);

/** How a token is named in "expected … but found …" messages. */
export function describeToken(token: Token): string {
  if (token.kind === "end") return "end of input";
  const text = token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text;
  return token.kind === "string" ? `the string ${text}` : `'${text}'`;
}

const WHITESPACE = /[ \t\r\n]+/y;
const NAME = /[\p{L}_][\p{L}\p{N}_]*(?:\.[\p{L}_][\p{L}\p{N}_]*)*/uy;
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\p{L}\p{N}_])/iuy;
const DATE_TIME_OFFSET =
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,12})?)?(?:Z|[+-]\d{2}:\d{2})(?![\p{L}\p{N}_.])/iuy;
const DATE_ONLY = /\d{4}-\d{2}-\d{2}/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/iy;
/** What must not follow a number directly: `12abc` or `1.2.3` is one malformed literal, not two tokens. */
const NUMBER_TAIL = /[\p{L}\p{N}_.]/uy;
const PUNCTUATION = new Set<string>(["(", ")", ",", "/", ":"]);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (true) {
    at = skip(WHITESPACE, text, at);
    if (at >= text.length) break;
    const token = readToken(text, at);
    tokens.push(token);
    at = token.start + token.text.length;
  }
  tokens.push({ kind: "end", text: "", start: text.length });
  return tokens;
}

function readToken(text: string, at: number): Token {
  const char = text[at];
  if (PUNCTUATION.has(char)) return { kind: char as Punctuation, text: char, start: at };
  if (char === "'") return readString(text, at);
  const guid = match(GUID, text, at);
  if (guid !== undefined) return { kind: "guid", text: guid, start: at };
  if (/[0-9-]/.test(char)) return readNumberOrDateTime(text, at);
  const name = match(NAME, text, at);
  if (name !== undefined) {
    // A qualified name directly followed by a quote is an enum literal: microsoft.graph.state'value'.
    if (name.includes(".") && text[at + name.length] === "'") {
      const quoted = readString(text, at + name.length);
      return { kind: "enum", text: name + quoted.text, start: at, enumType: name, value: quoted.value };
    }
    return { kind: "identifier", text: name, start: at };
  }
  throw syntaxError(at, `unexpected character '${String.fromCodePoint(text.codePointAt(at)!)}'`);
}

/** A quoted string; `''` inside stands for one quote. */
function readString(text: string, start: number): Extract<Token, { kind: "string" }> {
  let value = "";
  let at = start + 1;
  while (at < text.length) {
    const close = text.indexOf("'", at);
    if (close < 0) break;
    value += text.slice(at, close);
    if (text[close + 1] !== "'") {
      return { kind: "string", text: text.slice(start, close + 1), start, value };
    }
    value += "'";
    at = close + 2;
  }
  throw syntaxError(text.length, `expected ''' to close the string that starts at position ${start} but found end of input`);
}

function readNumberOrDateTime(text: string, at: number): Token {
  const dateTime = match(DATE_TIME_OFFSET, text, at);
  if (dateTime !== undefined) return { kind: "dateTimeOffset", text: dateTime, start: at };
  if (match(DATE_ONLY, text, at) !== undefined) {
    throw syntaxError(at, `expected a date-time such as 2024-01-02T03:04:05Z but found '${wordAt(text, at)}'`);
  }
  const number = match(NUMBER, text, at);
  if (number === undefined) throw syntaxError(at, `unexpected character '${text[at]}'`);
  if (match(NUMBER_TAIL, text, at + number.length) !== undefined) {
    throw syntaxError(at, `expected a number but found '${wordAt(text, at)}'`);
  }
  const value = Number(number);
  if (!Number.isFinite(value)) throw syntaxError(at, `the number '${number}' is out of range`);
  return { kind: "number", text: number, start: at, value };
}

function match(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}

function skip(pattern: RegExp, text: string, at: number): number {
  return at + (match(pattern, text, at)?.length ?? 0);
}

/** The run of non-separator characters at `at`, for quoting a malformed literal in a message. */
function wordAt(text: string, at: number): string {
  const word = /[^\s(),/']*/y;
  word.lastIndex = at;
  return word.exec(text)![0].slice(0, 40);
}
