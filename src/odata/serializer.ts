// Turns stored entities into Graph's JSON: @odata.type on polymorphic types, properties in model order,
// write-only properties hidden, unset properties as null (collections as []), and $select applied.

import type { CompiledModel, EntityType } from "./compiledModel.js";
import { badRequest } from "./errors.js";
import type { StoredEntity } from "../store/entityStore.js";

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

  entity(declared: EntityType, e: StoredEntity, select?: Set<string>): Record<string, unknown> {
    const type = this.model.entityType(e.type);
    const out: Record<string, unknown> = {};
    if (this.model.isPolymorphic(declared) || type !== declared) out["@odata.type"] = `#${type.qualifiedName}`;
    for (const [name, p] of type.properties) {
      if (p.writeOnly) continue;
      if (select && !select.has(name)) continue;
      const v = name === "id" ? e.id : e.doc[name];
      out[name] = v === undefined ? (p.collection ? [] : null) : v;
    }
    return out;
  }
}
