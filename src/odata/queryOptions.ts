// System query options of a request, parsed once. On beta the `$` prefix is optional (spec §4.1).

import { badRequest } from "./errors.js";

export interface OrderByItem {
  path: string[];
  descending: boolean;
}

export interface ExpandItem {
  navigation: string;
  select?: string[];
}

export interface QueryOptions {
  select?: string[];
  filter?: string;
  orderBy: OrderByItem[];
  top?: number;
  skip?: number;
  count: boolean;
  expand: ExpandItem[];
  search?: string;
  skipToken?: string;
  format?: string;
}

const KNOWN = new Set(["select", "filter", "orderby", "top", "skip", "count", "expand", "search", "skiptoken", "format"]);

/** Splits on commas that are not inside parentheses or quotes. */
function splitTopLevel(text: string, separator = ","): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let current = "";
  for (const ch of text) {
    if (ch === "'") quote = !quote;
    if (!quote && ch === "(") depth++;
    if (!quote && ch === ")") depth--;
    if (ch === separator && depth === 0 && !quote) {
      out.push(current);
      current = "";
    } else current += ch;
  }
  out.push(current);
  return out.map((s) => s.trim());
}

const nonNegativeInteger = (name: string, value: string) => {
  if (!/^\d{1,9}$/.test(value.trim())) throw badRequest(`Invalid value '${value}' for query option '$${name}'. It must be a non-negative integer.`);
  return Number(value.trim());
};

const propertyName = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_.]*)*$/;

/** A comma-separated list; an empty item is a syntax error, as in OData's grammar. */
function listItems(option: string, text: string): string[] {
  const items = splitTopLevel(text);
  if (items.some((s) => s === "")) throw badRequest(`Syntax error in $${option}: an empty item in '${text}'.`);
  return items;
}

function parseSelect(text: string): string[] {
  const items = listItems("select", text);
  for (const s of items) if (s !== "*" && !propertyName.test(s)) throw badRequest(`Syntax error in $select at '${s}'.`);
  return items;
}

function parseExpand(text: string): ExpandItem[] {
  return listItems("expand", text).map((item) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?$/s.exec(item);
      if (!m) throw badRequest(`Syntax error in $expand at '${item}'.`);
      const expand: ExpandItem = { navigation: m[1] };
      if (m[2] !== undefined) {
        for (const opt of splitTopLevel(m[2], ";")) {
          const [k, ...rest] = opt.split("=");
          const key = k.trim().replace(/^\$/, "").toLowerCase();
          if (key === "select") expand.select = parseSelect(rest.join("="));
          else throw badRequest(`The query option '$${key}' is not supported inside $expand.`);
        }
      }
      return expand;
    });
}

function parseOrderBy(text: string): OrderByItem[] {
  return listItems("orderby", text).map((item) => {
      const m = /^([A-Za-z_][A-Za-z0-9_/]*)(?:\s+(asc|desc))?$/i.exec(item);
      if (!m) throw badRequest(`Syntax error in $orderby at '${item}'.`);
      return { path: m[1].split("/"), descending: (m[2] ?? "asc").toLowerCase() === "desc" };
    });
}

export function parseQueryOptions(params: URLSearchParams, dollarOptional: boolean): QueryOptions {
  const raw = new Map<string, string>();
  for (const [k, v] of params) {
    const hasDollar = k.startsWith("$");
    const name = (hasDollar ? k.slice(1) : k).toLowerCase();
    if (!hasDollar && !(dollarOptional && KNOWN.has(name))) continue; // ordinary parameters are ignored
    if (!KNOWN.has(name)) throw badRequest(`The query parameter '${k}' is not supported.`);
    if (raw.has(name)) throw badRequest(`Query option '$${name}' was specified more than once, but it must be specified at most once.`);
    raw.set(name, v);
  }
  const count = raw.get("count");
  if (count !== undefined && !/^(true|false)$/i.test(count)) throw badRequest(`'${count}' is not a valid count option.`);
  const format = raw.get("format");
  if (format !== undefined && !/^(json|application\/json)$/i.test(format)) throw badRequest(`The format '${format}' is not supported.`);
  return {
    select: raw.has("select") ? parseSelect(raw.get("select")!) : undefined,
    filter: raw.get("filter"),
    orderBy: raw.has("orderby") ? parseOrderBy(raw.get("orderby")!) : [],
    top: raw.has("top") ? nonNegativeInteger("top", raw.get("top")!) : undefined,
    skip: raw.has("skip") ? nonNegativeInteger("skip", raw.get("skip")!) : undefined,
    count: (count ?? "false").toLowerCase() === "true",
    expand: raw.has("expand") ? parseExpand(raw.get("expand")!) : [],
    search: raw.get("search"),
    skipToken: raw.get("skiptoken"),
    format,
  };
}
