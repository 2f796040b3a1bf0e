// Turns $filter, $orderby, $search and paging options into a store ListQuery for one table: every filter,
// sort and page runs in the database.

import type { EntityType, StorageTable } from "../odata/compiledModel.js";
import { badRequest } from "../odata/errors.js";
import { parseFilter } from "../odata/filter/parser.js";
import { logicalOperands, type FilterExpr } from "../odata/filter/ast.js";
import { filterToSql, type FilterPropertyResolver, type FilterValueType } from "../odata/filter/toSql.js";
import type { EntitySetDecl, PropertyDecl } from "../odata/model.js";
import type { QueryOptions } from "../odata/queryOptions.js";
import type { PageCursor } from "../odata/skipToken.js";
import { columnSql, propertySql } from "../store/derivedColumns.js";
import type { ListQuery, OrderTerm } from "../store/entityStore.js";
import type { SqlDialect } from "../store/sqlDialect.js";
import type { CompiledModel } from "../odata/compiledModel.js";

function valueType(model: CompiledModel, type: string): FilterValueType | undefined {
  switch (type) {
    case "Edm.String":
      return "string";
    case "Edm.Boolean":
      return "boolean";
    case "Edm.Int32":
    case "Edm.Int64":
    case "Edm.Double":
      return "number";
    case "Edm.DateTimeOffset":
      return "dateTimeOffset";
    case "Edm.Guid":
      return "guid";
    default:
      return model.enumTypes.has(type) ? "enum" : undefined;
  }
}

/** Finds a property on the declared type or any derived type (rows of derived types share the table). */
function findProperty(type: EntityType, name: string): PropertyDecl | undefined {
  const own = type.properties.get(name);
  if (own) return own;
  for (const d of type.derived) {
    const p = findProperty(d, name);
    if (p) return p;
  }
  return undefined;
}

/** Intune refuses some operators on some properties (eq on an Autopilot serialNumber): the model says which. */
function checkFilterOperators(expr: FilterExpr, type: EntityType) {
  const propertyOf = (e: FilterExpr): string | undefined =>
    e.kind === "property" ? e.path.join("/") : e.kind === "call" && (e.name === "tolower" || e.name === "toupper") ? propertyOf(e.args[0]) : undefined;
  const check = (name: string | undefined, op: string) => {
    const allowed = name === undefined ? undefined : findProperty(type, name)?.filterOperators;
    if (allowed && !allowed.includes(op as never)) {
      throw badRequest(`The operator '${op}' is not supported for the property '${name}' of '${type.qualifiedName}'; use ${allowed.join(", ")}.`);
    }
  };
  const visit = (e: FilterExpr): void => {
    switch (e.kind) {
      case "compare":
        check(propertyOf(e.left) ?? propertyOf(e.right), e.op);
        return;
      case "in":
        check(propertyOf(e.operand), "in");
        return;
      case "call":
        if (e.name === "contains" || e.name === "startswith" || e.name === "endswith") check(propertyOf(e.args[0]), e.name);
        e.args.forEach(visit);
        return;
      case "logical":
        logicalOperands(e).forEach(visit);
        return;
      case "not":
        visit(e.operand);
        return;
      case "lambda":
        check(e.collection.join("/"), e.quantifier);
        return;
      default:
        return;
    }
  };
  visit(expr);
}

export function filterResolver(model: CompiledModel, table: StorageTable, type: EntityType, dialect: SqlDialect): FilterPropertyResolver {
  return (path) => {
    const name = path.join("/");
    if (path.length !== 1) throw badRequest(`The property path '${name}' is not supported in $filter on '${type.qualifiedName}'.`);
    if (name === "id") return { collection: false, sql: "id", type: "string" };
    const p = findProperty(type, name);
    if (!p || p.writeOnly) throw badRequest(`Could not find a property named '${name}' on type '${type.qualifiedName}'.`);
    const vt = valueType(model, p.type);
    if (!p.filterable || !vt) throw badRequest(`Filtering on the property '${name}' of '${type.qualifiedName}' is not supported.`);
    if (p.collection) return { collection: true, documentSql: "doc", jsonName: name, type: vt };
    const column = table.columns.find((c) => c.property === name)!;
    const readEquals = column.readEquals;
    return {
      collection: false,
      sql: column.readSql ? column.readSql(dialect) : columnSql(dialect, column),
      type: vt,
      equalsSql: readEquals && ((param, value) => readEquals(dialect, param, value)),
    };
  };
}

function orderTerms(dialect: SqlDialect, table: StorageTable, type: EntityType, options: QueryOptions): OrderTerm[] {
  return options.orderBy.map((o) => {
    const name = o.path.join("/");
    if (name === "id") return { sql: "id", descending: o.descending };
    const p = o.path.length === 1 ? findProperty(type, name) : undefined;
    const column = table.columns.find((c) => c.property === name);
    if (!p || p.writeOnly) throw badRequest(`Could not find a property named '${name}' on type '${type.qualifiedName}'.`);
    if (!p.sortable || !column) throw badRequest(`Sorting on the property '${name}' of '${type.qualifiedName}' is not supported.`);
    const text = column.type === "Edm.String" || column.type === "enum";
    const value = column.readSql ? column.readSql(dialect) : columnSql(dialect, column);
    return { sql: text ? dialect.orderText(value) : value, descending: o.descending };
  });
}

/** `$search="displayName:foo" AND "mail:bar"` over the entity set's searchable properties. */
function searchCondition(
  dialect: SqlDialect,
  table: StorageTable,
  set: EntitySetDecl | undefined,
  search: string,
  consistencyLevel: string | undefined,
): (params: unknown[]) => string {
  if (!set?.search) throw badRequest(`$search is not supported on this collection.`);
  if ((consistencyLevel ?? "").toLowerCase() !== "eventual") {
    throw badRequest(
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
      "Request_UnsupportedQuery",
    );
  }
  const clause = /^\s*"([^"]*)"\s*(?:(AND|OR)\s+|$)/;
  const terms: { property?: string; value: string; join: string }[] = [];
  let rest = search;
  while (rest.trim() !== "") {
    const m = clause.exec(rest);
    if (!m) throw badRequest(`Syntax error in $search at '${rest.trim()}': expected a quoted clause such as "displayName:value".`);
    const [prop, ...value] = m[1].split(":");
    terms.push(value.length ? { property: prop, value: value.join(":"), join: m[2] ?? "" } : { value: m[1], join: m[2] ?? "" });
    rest = rest.slice(m[0].length);
  }
  if (terms.length === 0) throw badRequest("$search needs at least one clause.");
  for (const t of terms) {
    if (t.property !== undefined && !set.search.includes(t.property)) throw badRequest(`The property '${t.property}' cannot be used in $search.`);
  }
  return (params) =>
    terms
      .map((t, i) => {
        const props = t.property !== undefined ? [t.property] : set.search!;
        const pattern = `%${t.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const columns = props.map((p) => propertySql(dialect, table, p));
        // One bound value per use: SQLite's `?` is positional.
        const any = columns.map((c) => (params.push(pattern), dialect.likeText(c, dialect.param(params.length)))).join(" OR ");
        return `${i > 0 ? ` ${terms[i - 1].join} ` : ""}(${any})`;
      })
      .join("");
}

export function buildListQuery(args: {
  model: CompiledModel;
  dialect: SqlDialect;
  table: StorageTable;
  type: EntityType;
  set?: EntitySetDecl;
  options: QueryOptions;
  tenantId: string;
  parentId?: string;
  castTypes?: string[];
  pageSize: number;
  cursor?: PageCursor;
  consistencyLevel?: string;
}): ListQuery {
  const { model, dialect, table, type, options } = args;
  const filter = options.filter !== undefined ? parseFilter(options.filter) : undefined;
  if (filter) checkFilterOperators(filter, type);
  const resolver = filterResolver(model, table, type, dialect);
  const search = options.search !== undefined ? searchCondition(dialect, table, args.set, options.search, args.consistencyLevel) : undefined;
  const orderBy = orderTerms(dialect, table, type, options);
  const conditions = [
    ...(filter ? [(params: unknown[]) => filterToSql(filter, resolver, dialect, params)] : []),
    ...(search ? [search] : []),
  ];
  const keyset = orderBy.length === 0;
  return {
    tenantId: args.tenantId,
    parentId: args.parentId,
    types: args.castTypes,
    where: conditions.length ? (params) => conditions.map((c) => `(${c(params)})`).join(" AND ") : undefined,
    orderBy,
    top: args.pageSize,
    skip: args.cursor ? (args.cursor.offset ?? 0) : (options.skip ?? 0),
    afterSeq: keyset ? args.cursor?.afterSeq : undefined,
    count: options.count,
  };
}
