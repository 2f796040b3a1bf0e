// Resolves the segments of a request path against the model alone (no store access): which entity set,
// key, navigation, type cast, bound operation, $count or $ref each segment is, and what the whole path
// addresses. Loading the entities along the way is the executor's job.

import type { CompiledModel, EntityType, NavigationProperty, StorageTable } from "./compiledModel.js";
import { stripNamespace } from "./compiledModel.js";
import { badRequest, segmentNotFound } from "./errors.js";
import type { BoundOperationDecl, EntitySetDecl, OperationPermissions } from "./model.js";

export type PathStep =
  | { kind: "entitySet"; set: EntitySetDecl; type: EntityType; table: StorageTable }
  | { kind: "singleton"; name: string; type: EntityType }
  | { kind: "key"; id: string; type: EntityType }
  /** `declaredOn`: the navigation belongs to these derived types only (reached without a cast, see navigationOnDerived). */
  | { kind: "navigation"; nav: NavigationProperty; type: EntityType; declaredOn?: EntityType[] }
  | { kind: "cast"; type: EntityType }
  | { kind: "operation"; op: BoundOperationDecl; args: Record<string, string> }
  | { kind: "count" }
  | { kind: "ref" };

/** What the whole path addresses. */
export type PathTarget = "collection" | "entity" | "operation" | "count" | "ref";

export interface ResolvedPath {
  steps: PathStep[];
  target: PathTarget;
  /** The entity type of the addressed collection or entity (after casts). */
  type?: EntityType;
  /** Permissions of the collection the path ends in (reads and writes of it). */
  permissions?: OperationPermissions;
  /** The methods that collection supports, when restricted. */
  methods?: string[];
  /** OData route template, e.g. `~/singleton/navigation/key`, for "no route" errors. */
  template: string;
}

interface RawSegment {
  name: string;
  /** Text inside parentheses after the name, if any. */
  parens?: string;
  raw: string;
}

/** Splits a decoded path (after the version) into segments, keeping `name(...)` together. */
export function splitPath(path: string): RawSegment[] {
  // Without parentheses or quotes every "/" separates and no segment has parens: the common case, without the
  // character-by-character walk below.
  if (path.indexOf("(") === -1 && path.indexOf(")") === -1 && path.indexOf("'") === -1) {
    const plain = path.split("/");
    const segments: RawSegment[] = [];
    for (let i = 0; i < plain.length; i++) if (plain[i] !== "" || i < plain.length - 1) segments.push({ name: plain[i], raw: plain[i] });
    return segments;
  }
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let current = "";
  for (const ch of path) {
    if (ch === "'") quote = !quote;
    if (!quote && ch === "(") depth++;
    if (!quote && ch === ")") depth--;
    if (ch === "/" && depth === 0 && !quote) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts
    .filter((p, i) => p !== "" || i < parts.length - 1)
    .map((raw) => {
      const m = /^([^()]*)\((.*)\)$/s.exec(raw);
      return m ? { name: m[1], parens: m[2], raw } : { name: raw, raw };
    });
}

/** `'abc'` → `abc` (with '' unescaped); bare values as they are. */
export function keyValue(text: string): string {
  const t = text.trim();
  const named = /^id\s*=\s*(.*)$/s.exec(t);
  const v = named ? named[1].trim() : t;
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1).replace(/''/g, "'");
  return v;
}

/** Function arguments `a='x',b=2` → { a: "x", b: "2" }. */
export function functionArguments(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^,']*)\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < text.length && (m = re.exec(text))) {
    args[m[1]] = keyValue(m[2]);
    consumed = re.lastIndex;
  }
  if (consumed < text.trim().length) throw badRequest(`The function parameters '${text}' are not valid.`);
  return args;
}

/** A type-cast segment's target type, if the segment names an entity type. */
function castTarget(model: CompiledModel, name: string, type: EntityType): EntityType | undefined {
  const short = stripNamespace(name, model.namespace);
  if (!name.includes(".") || short === undefined) return undefined;
  const t = model.entityTypes.get(short);
  if (!t) return undefined;
  if (!model.isAssignable(t, type)) throw badRequest(`The type '${name}' is not compatible with the type '${type.qualifiedName}'.`);
  return t;
}

function addKeyStep(steps: PathStep[], template: string[], id: string, type: EntityType, permissions: OperationPermissions) {
  if (id === "") throw badRequest("The key value is empty.");
  steps.push({ kind: "key", id, type });
  template.push("key");
  return { shape: "entity" as const, type, permissions };
}

export function resolvePath(model: CompiledModel, segments: RawSegment[]): ResolvedPath {
  const steps: PathStep[] = [];
  const template: string[] = ["~"];
  type State =
    | { shape: "root" }
    | { shape: "collection"; type: EntityType; permissions: OperationPermissions }
    | { shape: "entity"; type: EntityType; permissions?: OperationPermissions }
    | { shape: "end"; target: PathTarget; type?: EntityType; permissions?: OperationPermissions };
  let state: State = { shape: "root" };
  let methods: string[] | undefined;
  // No closures here: tsx names every function expression with a defineProperty call, on every request.

  for (const seg of segments) {
    if (state.shape === "end") throw segmentNotFound(seg.raw);
    if (state.shape === "root") {
      const set = model.entitySets.get(seg.name);
      const singleton = model.singletons.get(seg.name);
      if (set) {
        const type = model.entityType(set.entityType);
        steps.push({ kind: "entitySet", set, type, table: set.table });
        template.push("entityset");
        state = { shape: "collection", type, permissions: set.permissions };
        if (seg.parens !== undefined) state = addKeyStep(steps, template, keyValue(seg.parens), type, set.permissions);
      } else if (singleton && seg.parens === undefined) {
        const type = model.entityType(singleton.type);
        steps.push({ kind: "singleton", name: singleton.name, type });
        template.push("singleton");
        state = { shape: "entity", type };
      } else throw segmentNotFound(seg.raw);
      continue;
    }
    if (state.shape === "collection") {
      if (seg.name === "$count" && seg.parens === undefined) {
        steps.push({ kind: "count" });
        template.push("$count");
        state = { shape: "end", target: "count", type: state.type, permissions: state.permissions };
        continue;
      }
      if (seg.name === "$ref" && seg.parens === undefined) {
        steps.push({ kind: "ref" });
        template.push("$ref");
        state = { shape: "end", target: "ref", type: state.type, permissions: state.permissions };
        continue;
      }
      const cast = castTarget(model, seg.name, state.type);
      if (cast) {
        steps.push({ kind: "cast", type: cast });
        template.push("cast");
        state = { shape: "collection", type: cast, permissions: state.permissions };
        continue;
      }
      const op = model.boundOperation(state.type, seg.name, true);
      if (op) {
        steps.push({ kind: "operation", op, args: op.kind === "function" && seg.parens !== undefined ? functionArguments(seg.parens) : {} });
        template.push(op.kind);
        state = { shape: "end", target: "operation", type: state.type, permissions: state.permissions };
        continue;
      }
      // A namespace-qualified name that is no type or operation is an unknown segment, not a key.
      if (seg.parens !== undefined || seg.name.startsWith(`${model.namespace}.`)) throw segmentNotFound(seg.raw);
      state = addKeyStep(steps, template, seg.name, state.type, state.permissions);
      continue;
    }
    // state.shape === "entity"
    const entity: { type: EntityType; permissions?: OperationPermissions } = state;
    if (seg.name === "$ref" && seg.parens === undefined && steps.at(-2)?.kind === "navigation") {
      steps.push({ kind: "ref" });
      template.push("$ref");
      state = { shape: "end", target: "ref", type: entity.type, permissions: entity.permissions };
      continue;
    }
    const onDerived = entity.type.navigation.has(seg.name) ? undefined : model.navigationOnDerived(entity.type, seg.name);
    const nav = entity.type.navigation.get(seg.name) ?? onDerived?.nav;
    if (nav) {
      const type = model.entityType(nav.target);
      steps.push(onDerived ? { kind: "navigation", nav, type, declaredOn: onDerived.declaredOn } : { kind: "navigation", nav, type });
      template.push("navigation");
      const permissions = nav.permissions ?? entity.permissions;
      methods = nav.methods;
      if (!permissions) throw new Error(`model: navigation ${entity.type.name}/${nav.name} declares no permissions`);
      state = nav.collection ? { shape: "collection", type, permissions } : { shape: "entity", type, permissions };
      if (seg.parens !== undefined) {
        if (!nav.collection) throw segmentNotFound(seg.raw);
        state = addKeyStep(steps, template, keyValue(seg.parens), type, permissions);
      }
      continue;
    }
    const cast = castTarget(model, seg.name, entity.type);
    if (cast) {
      steps.push({ kind: "cast", type: cast });
      template.push("cast");
      state = { shape: "entity", type: cast, permissions: entity.permissions };
      continue;
    }
    const op = model.boundOperation(entity.type, seg.name, false);
    if (op) {
      steps.push({ kind: "operation", op, args: op.kind === "function" && seg.parens !== undefined ? functionArguments(seg.parens) : {} });
      template.push(op.kind);
      state = { shape: "end", target: "operation", type: entity.type, permissions: entity.permissions };
      continue;
    }
    throw segmentNotFound(seg.raw);
  }
  if (state.shape === "root") throw segmentNotFound("");
  const final =
    state.shape === "end"
      ? state
      : { target: (state.shape === "collection" ? "collection" : "entity") as PathTarget, type: state.type, permissions: state.permissions };
  return { steps, target: final.target, type: final.type, permissions: final.permissions, methods, template: template.join("/") };
}
