// The model with its declarations cross-linked: inheritance resolved, every property and navigation visible on
// the types that inherit it, and every entity collection bound to the table that stores it.

import type { SqlDialect } from "../store/sqlDialect.js";
import type {
  BoundOperationDecl,
  ComplexTypeDecl,
  EdmPrimitive,
  EntitySetDecl,
  EntityTypeDecl,
  EnumTypeDecl,
  ModelDecl,
  NavigationDecl,
  PropertyDecl,
  SingletonDecl,
} from "./model.js";

const PRIMITIVES = new Set<string>([
  "Edm.String",
  "Edm.Boolean",
  "Edm.Int32",
  "Edm.Int64",
  "Edm.Double",
  "Edm.DateTimeOffset",
  "Edm.Guid",
  "Edm.Binary",
]);

export const isPrimitive = (type: string): type is EdmPrimitive => PRIMITIVES.has(type);

export type ColumnType = EdmPrimitive | "enum";

/** A real column holding one filterable or sortable primitive property, indexed unless the model says not. */
export interface StorageColumn {
  property: string;
  column: string;
  type: ColumnType;
  indexed: boolean;
  /** Written on every backend even when unindexed (see PropertyDecl.stored). */
  stored?: boolean;
  /**
   * The value reads show, when it is not the stored column (`$filter`, `$orderby`, `$count`): a SQL expression
   * over the row (referred to by its table's name) with no bound values. Set by the area that overlays it.
   */
  readSql?: (dialect: SqlDialect) => string;
  /**
   * With readSql: `$filter` equality with a value in a form an index on the stored column can serve, the same
   * truth value as `readSql = value` (see EqualsSql in src/odata/filter/toSql.ts).
   */
  readEquals?: (dialect: SqlDialect, paramSql: string, value: unknown) => string;
}

/** Where the rows of one entity collection live. */
export interface StorageTable {
  name: string;
  /** The declared type of the rows; derived types share the table. */
  entityType: EntityType;
  /** True for navigations contained in an entity: rows carry their parent's id. */
  parented: boolean;
  columns: StorageColumn[];
  /** The declared type's `rewrittenInPlace`. */
  rewrittenInPlace: boolean;
}

export interface StructuredType {
  kind: "entity" | "complex";
  name: string;
  qualifiedName: string;
  abstract: boolean;
  base?: StructuredType;
  derived: StructuredType[];
  /** Own and inherited properties. */
  properties: Map<string, PropertyDecl>;
}

export interface EntityType extends StructuredType {
  kind: "entity";
  base?: EntityType;
  derived: EntityType[];
  navigation: Map<string, NavigationDecl & { name: string; table?: StorageTable }>;
  decl: EntityTypeDecl;
}

export interface ComplexType extends StructuredType {
  kind: "complex";
}

export type NavigationProperty = NavigationDecl & { name: string; table?: StorageTable };

export const snakeCase = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();

export class CompiledModel {
  readonly namespace: string;
  readonly entityTypes = new Map<string, EntityType>();
  readonly complexTypes = new Map<string, ComplexType>();
  readonly enumTypes = new Map<string, EnumTypeDecl>();
  readonly entitySets = new Map<string, EntitySetDecl & { table: StorageTable }>();
  readonly singletons = new Map<string, SingletonDecl>();
  readonly tables: StorageTable[] = [];
  /** Bound operations by binding type name, then by operation name. */
  private readonly operations = new Map<string, BoundOperationDecl[]>();

  constructor(readonly decl: ModelDecl) {
    this.namespace = decl.namespace;
    for (const e of decl.enumTypes) this.enumTypes.set(e.name, e);
    for (const c of decl.complexTypes) this.complexTypes.set(c.name, this.newStructured("complex", c) as ComplexType);
    for (const e of decl.entityTypes) {
      const t = this.newStructured("entity", e) as EntityType;
      t.navigation = new Map();
      t.decl = e;
      this.entityTypes.set(e.name, t);
    }
    this.linkInheritance(decl.complexTypes, this.complexTypes);
    this.linkInheritance(decl.entityTypes, this.entityTypes);
    for (const e of decl.entityTypes) this.inheritMembers(this.entityTypes.get(e.name)!);
    for (const c of decl.complexTypes) this.inheritMembers(this.complexTypes.get(c.name)!);
    for (const op of decl.operations) {
      this.entityType(op.bindingType);
      const list = this.operations.get(op.bindingType) ?? [];
      list.push(op);
      this.operations.set(op.bindingType, list);
    }
    for (const s of decl.singletons) this.singletons.set(s.name, s);
    for (const s of decl.entitySets) {
      const table = this.addTable(snakeCase(s.name), this.entityType(s.entityType), false);
      this.entitySets.set(s.name, { ...s, table });
    }
    this.bindContainedNavigations();
    this.checkPropertyTypes();
  }

  entityType(name: string): EntityType {
    const t = this.entityTypes.get(stripNamespace(name, this.namespace) ?? "");
    if (!t) throw new Error(`model: unknown entity type ${name}`);
    return t;
  }

  /** Resolves an entity or complex type by qualified or unqualified name, with or without '#'. */
  findStructuredType(name: string): StructuredType | undefined {
    const short = stripNamespace(name.replace(/^#/, ""), this.namespace);
    if (short === undefined) return undefined;
    return this.entityTypes.get(short) ?? this.complexTypes.get(short);
  }

  /** The operations bound to a type (or its ancestors), to an entity or to its collection. */
  boundOperation(type: EntityType, name: string, collection: boolean): BoundOperationDecl | undefined {
    const short = stripNamespace(name, this.namespace) ?? name;
    for (let t: EntityType | undefined = type; t; t = t.base) {
      const op = this.operations.get(t.name)?.find((o) => o.name === short && o.bindingCollection === collection);
      if (op) return op;
    }
    return undefined;
  }

  /**
   * A navigation the type does not declare but some of its derived types do, reached without a type-cast segment
   * (seed 004: `deviceConfigurations/{id}/rootCertificate/…`). Every declaration must agree on storage and
   * cardinality; the path then addresses the nearest common ancestor of their targets, and the executor accepts
   * the step only for an entity that actually is one of the declaring types. Undefined when none or ambiguous.
   */
  navigationOnDerived(type: EntityType, name: string): { nav: NavigationProperty; declaredOn: EntityType[]; target: EntityType } | undefined {
    const found: { owner: EntityType; nav: NavigationProperty }[] = [];
    const visit = (t: EntityType) => {
      const nav = t.navigation.get(name);
      if (nav && !t.base?.navigation.has(name)) found.push({ owner: t, nav });
      else t.derived.forEach(visit);
    };
    type.derived.forEach(visit);
    if (found.length === 0) return undefined;
    const first = found[0].nav;
    const storageKey = (n: NavigationProperty) => JSON.stringify(n.storage) + (n.table?.name ?? "");
    if (found.some((f) => f.nav.collection !== first.collection || storageKey(f.nav) !== storageKey(first))) return undefined;
    const targets = found.map((f) => this.entityType(f.nav.target));
    let target: EntityType | undefined = targets[0];
    while (target && !targets.every((t) => this.isAssignable(t, target!))) target = target.base;
    if (!target) return undefined;
    return { nav: { ...first, target: target.name }, declaredOn: found.map((f) => f.owner), target };
  }

  allOperations(): BoundOperationDecl[] {
    return [...this.operations.values()].flat();
  }

  /** True when `type` is `ancestor` or derives from it. */
  isAssignable(type: StructuredType, ancestor: StructuredType): boolean {
    for (let t: StructuredType | undefined = type; t; t = t.base) if (t === ancestor) return true;
    return false;
  }

  /** A collection or property of a type with derived types carries @odata.type on every member. */
  isPolymorphic(type: StructuredType): boolean {
    return type.abstract || type.derived.length > 0;
  }

  /** Complex values of a type hierarchy (assignment targets, …) always say which type they are. */
  isInHierarchy(type: StructuredType): boolean {
    return type.base !== undefined || type.derived.length > 0;
  }

  private newStructured(kind: "entity" | "complex", d: ComplexTypeDecl): StructuredType {
    return {
      kind,
      name: d.name,
      qualifiedName: `${this.namespace}.${d.name}`,
      abstract: d.abstract ?? false,
      derived: [],
      properties: new Map(Object.entries(d.properties ?? {})),
    };
  }

  private linkInheritance(decls: ComplexTypeDecl[], types: Map<string, StructuredType>) {
    for (const d of decls) {
      if (!d.baseType) continue;
      const base = types.get(d.baseType);
      if (!base) throw new Error(`model: ${d.name} derives from unknown ${d.baseType}`);
      const t = types.get(d.name)!;
      t.base = base;
      base.derived.push(t);
    }
  }

  private inheritMembers(t: StructuredType) {
    const chain: StructuredType[] = [];
    for (let x: StructuredType | undefined = t; x; x = x.base) chain.unshift(x);
    const props = new Map<string, PropertyDecl>();
    for (const x of chain) {
      const own = x === t ? t.properties : new Map(Object.entries(this.ownDecl(x).properties ?? {}));
      for (const [k, v] of own) props.set(k, v);
    }
    t.properties = props;
    if (t.kind === "entity") {
      const nav = new Map<string, NavigationProperty>();
      for (const x of chain) {
        for (const [k, v] of Object.entries((this.ownDecl(x) as EntityTypeDecl).navigation ?? {})) nav.set(k, { ...v, name: k });
      }
      (t as EntityType).navigation = nav;
    }
  }

  private ownDecl(t: StructuredType): ComplexTypeDecl {
    const list: ComplexTypeDecl[] = t.kind === "entity" ? this.decl.entityTypes : this.decl.complexTypes;
    return list.find((d) => d.name === t.name)!;
  }

  /** Contained navigations are stored per declaring type: the same table serves every path that reaches it. */
  private bindContainedNavigations() {
    const singletonTypes = new Set([...this.singletons.values()].map((s) => s.type));
    const byDeclaration = new Map<string, StorageTable>();
    for (const d of this.decl.entityTypes) {
      for (const [name, nav] of Object.entries(d.navigation ?? {})) {
        if (nav.storage.kind !== "contained" || nav.aliasOf) continue;
        const key = `${d.name}/${name}`;
        const parented = !singletonTypes.has(d.name);
        const tableName = parented ? snakeCase(`${d.name}_${name}`) : snakeCase(name);
        byDeclaration.set(key, this.addTable(tableName, this.entityType(nav.target), parented));
      }
    }
    for (const t of this.entityTypes.values()) {
      for (const nav of t.navigation.values()) {
        if (nav.storage.kind !== "contained") continue;
        for (let owner: EntityType | undefined = t; owner; owner = owner.base) {
          const table = byDeclaration.get(`${owner.name}/${nav.aliasOf ?? nav.name}`);
          if (table) {
            nav.table = table;
            break;
          }
        }
      }
    }
  }

  private addTable(name: string, entityType: EntityType, parented: boolean): StorageTable {
    const columns = new Map<string, StorageColumn>();
    const visit = (t: EntityType) => {
      for (const [prop, p] of t.properties) {
        if (prop === "id" || p.collection || !(p.filterable || p.sortable)) continue;
        const type: ColumnType | undefined = isPrimitive(p.type) ? p.type : this.enumTypes.has(p.type) ? "enum" : undefined;
        if (!type) continue;
        columns.set(prop, { property: prop, column: `p_${snakeCase(prop)}`, type, indexed: p.indexed !== false, ...(p.stored ? { stored: true } : {}) });
      }
      for (const field of t.decl.bookkeepingColumns ?? []) {
        columns.set(field, { property: field, column: `b_${snakeCase(field.replace(/^_+/, ""))}`, type: "Edm.String", indexed: false, stored: true });
      }
      t.derived.forEach(visit);
    };
    visit(entityType);
    const table: StorageTable = { name, entityType, parented, columns: [...columns.values()], rewrittenInPlace: entityType.decl.rewrittenInPlace === true };
    this.tables.push(table);
    return table;
  }

  private checkPropertyTypes() {
    const known = (type: string) => isPrimitive(type) || this.enumTypes.has(type) || this.complexTypes.has(type);
    for (const t of [...this.entityTypes.values(), ...this.complexTypes.values()]) {
      for (const [name, p] of t.properties) {
        if (!known(p.type)) throw new Error(`model: ${t.name}.${name} has unknown type ${p.type}`);
      }
    }
  }
}

/** `microsoft.graph.user` → `user`; an unqualified name is returned as is; a foreign namespace → undefined. */
export function stripNamespace(name: string, namespace: string): string | undefined {
  if (!name.includes(".")) return name;
  return name.startsWith(`${namespace}.`) ? name.slice(namespace.length + 1) : undefined;
}
