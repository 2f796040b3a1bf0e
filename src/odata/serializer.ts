// Turns stored entities into Graph's JSON: @odata.type on polymorphic types, properties in model order,
// write-only properties hidden, unset properties as null (collections as []), and $select applied.

import type { CompiledModel, EntityType } from "./compiledModel.js";
import { badRequest } from "./errors.js";
import type { EntityDocument, StoredEntity } from "../store/entityStore.js";
import type { PropertyDecl } from "./model.js";

export class EntitySerializer {
  constructor(private readonly model: CompiledModel) {}

  /** Validates $select against the declared type (and its derived types' properties) and normalises it. */
  checkSelect(declared: EntityType, select: string[] | undefined): Set<string> | undefined {
    if (!select || select.includes("*")) return undefined;
    const known = new Set<string>();
    const visit = (t: EntityType) => {
      for (const [name, p] of t.properties) if (!p.writeOnly) known.add(name);
      for (const name of t.navigation.keys()) known.add(name);
      t.derived.forEach(visit);
    };
    visit(declared);
    for (const s of select) {
      const name = s.includes("/") ? s.split("/").at(-1)! : s;
      if (!known.has(name)) throw badRequest(`Could not find a property named '${name}' on type '${declared.qualifiedName}'.`);
    }
    return new Set(select.map((s) => s.split("/").at(-1)!));
  }

  /**
   * The entity's Graph JSON object; `context` (an `@odata.context` URL) goes first when given. Without $select the
   * object comes from a builder compiled once per (declared, concrete) type pair, see `fullBuilder`.
   */
  entity(declared: EntityType, e: StoredEntity, select?: Set<string>, context?: string): Record<string, unknown> {
    const type = this.model.entityType(e.type);
    if (!select) return this.fullBuilder(declared, type)(context, e.id, e.doc);
    const out: Record<string, unknown> = {};
    if (context !== undefined) out["@odata.context"] = context;
    if (this.model.isPolymorphic(declared) || type !== declared) out["@odata.type"] = `#${type.qualifiedName}`;
    for (const [name, p] of type.properties) {
      if (p.writeOnly) continue;
      if (!select.has(name)) continue;
      const v = name === "id" ? e.id : e.doc[name];
      out[name] = v === undefined ? (p.collection ? [] : null) : v;
    }
    return out;
  }

  /**
   * The entity's Graph JSON text with `context` first: exactly `JSON.stringify(this.entity(declared, e, undefined,
   * context))`, written property by property from the document instead of building the object and serialising it.
   * Undefined when a value has no JSON text of its own (never in a stored document; the object path then answers).
   */
  entityText(declared: EntityType, e: StoredEntity, context: string): string | undefined {
    let byType = this.textBuilders.get(declared);
    if (!byType) this.textBuilders.set(declared, (byType = new Map()));
    let build = byType.get(e.type);
    if (build === undefined) byType.set(e.type, (build = this.textBuilder(declared, this.model.entityType(e.type))));
    return build === null ? undefined : build(JSON.stringify, context, e.id, e.doc);
  }

  private readonly textBuilders = new Map<EntityType, Map<string, TextBuilder | null>>();

  /**
   * Generated like `fullBuilder`, for the same reasons, with the same property names and order. Each value is
   * written with JSON.stringify, which is what JSON.stringify of the whole object writes for it (keys in insertion
   * order: no model property name is an array index, which would move to the front; `null` when that is not so).
   */
  private textBuilder(declared: EntityType, type: EntityType): TextBuilder | null {
    const names = [...type.properties].filter(([, p]) => !p.writeOnly);
    if (names.some(([name]) => name === "__proto__" || name === "@odata.context" || name === "@odata.type" || /^(0|[1-9][0-9]*)$/.test(name))) return null;
    const q = JSON.stringify;
    const odataType = this.model.isPolymorphic(declared) || type !== declared ? `#${type.qualifiedName}` : undefined;
    const head = odataType === undefined ? "" : `,${q("@odata.type")}:${q(odataType)}`;
    const lines = names.map(([name, p]) => {
      const key = q(`,${q(name)}:`);
      if (name === "id") return `out += ${key} + q(id);`;
      const unset = q(`,${q(name)}:${p.collection ? "[]" : "null"}`);
      return `v = doc[${q(name)}]; if (v === undefined) out += ${unset}; else if ((t = q(v)) === undefined) return undefined; else out += ${key} + t;`;
    });
    return new Function("q", "context", "id", "doc", `let v, t, out = ${q(`{${q("@odata.context")}:`)} + q(context) + ${q(head)};\n${lines.join("\n")}\nreturn out + "}";`) as TextBuilder;
  }

  private readonly builders = new Map<EntityType, Map<EntityType, EntityBuilder>>();

  /**
   * Why generated code: an object built one keyed store at a time, or copied by a spread, turns into a slow
   * dictionary-mode object past a dozen properties in V8 (about 10 µs for a 25-property entity, and a slower
   * JSON.stringify after it); one object literal per type keeps every property in place. The generated source
   * holds only model property names, each written with JSON.stringify, so nothing from a request reaches it.
   */
  private fullBuilder(declared: EntityType, type: EntityType): EntityBuilder {
    let byType = this.builders.get(declared);
    if (!byType) this.builders.set(declared, (byType = new Map()));
    let build = byType.get(type);
    if (build) return build;
    const names = [...type.properties].filter(([, p]) => !p.writeOnly);
    const odataType = this.model.isPolymorphic(declared) || type !== declared ? `#${type.qualifiedName}` : undefined;
    if (names.some(([name]) => name === "__proto__" || name === "@odata.context" || name === "@odata.type")) {
      build = (context, id, doc) => this.genericEntity(names, odataType, context, id, doc);
    } else {
      const q = JSON.stringify;
      const props = names.map(([name, p]) =>
        name === "id" ? `${q(name)}: id` : `${q(name)}: (v = doc[${q(name)}]) === undefined ? ${p.collection ? "[]" : "null"} : v`,
      );
      const head = odataType === undefined ? [] : [`"@odata.type": ${q(odataType)}`];
      const literal = (withContext: boolean) => `{ ${[...(withContext ? ['"@odata.context": context'] : []), ...head, ...props].join(", ")} }`;
      build = new Function("context", "id", "doc", `let v; return context === undefined ? ${literal(false)} : ${literal(true)};`) as EntityBuilder;
    }
    byType.set(type, build);
    return build;
  }

  private genericEntity(names: [string, PropertyDecl][], odataType: string | undefined, context: string | undefined, id: string, doc: EntityDocument) {
    const out: Record<string, unknown> = {};
    if (context !== undefined) out["@odata.context"] = context;
    if (odataType !== undefined) out["@odata.type"] = odataType;
    for (const [name, p] of names) {
      const v = name === "id" ? id : doc[name];
      out[name] = v === undefined ? (p.collection ? [] : null) : v;
    }
    return out;
  }
}

type EntityBuilder = (context: string | undefined, id: string, doc: EntityDocument) => Record<string, unknown>;
type TextBuilder = (q: typeof JSON.stringify, context: string, id: string, doc: EntityDocument) => string | undefined;
