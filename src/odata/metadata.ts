// GET /$metadata: a CSDL document generated from the model, so it can never disagree with what is served.

import type { CompiledModel, StructuredType } from "./compiledModel.js";
import { isPrimitive } from "./compiledModel.js";
import type { PropertyDecl } from "./model.js";

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");

export function metadataDocument(model: CompiledModel): string {
  const ns = model.namespace;
  const typeRef = (type: string, collection?: boolean) => {
    const t = isPrimitive(type) ? type : `${ns}.${type}`;
    return collection ? `Collection(${t})` : t;
  };
  const property = (name: string, p: PropertyDecl) =>
    `<Property Name="${name}" Type="${typeRef(p.type, p.collection)}"${p.required || p.nullable === false ? ' Nullable="false"' : ""}${p.maxLength ? ` MaxLength="${p.maxLength}"` : ""}/>`;
  const ownProperties = (t: StructuredType) => {
    const baseProps = t.base?.properties ?? new Map();
    return [...t.properties].filter(([name]) => !baseProps.has(name));
  };
  const header = (t: StructuredType, element: string) =>
    `<${element} Name="${t.name}"${t.base ? ` BaseType="${ns}.${t.base.name}"` : ""}${t.abstract ? ' Abstract="true"' : ""}>`;

  const out: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
    "<edmx:DataServices>",
    `<Schema Namespace="${ns}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
  ];
  for (const e of model.enumTypes.values()) {
    out.push(`<EnumType Name="${e.name}">`, ...e.members.map((m, i) => `<Member Name="${xml(m)}" Value="${i}"/>`), "</EnumType>");
  }
  for (const c of model.complexTypes.values()) {
    out.push(header(c, "ComplexType"), ...ownProperties(c).map(([n, p]) => property(n, p)), "</ComplexType>");
  }
  for (const t of model.entityTypes.values()) {
    out.push(header(t, "EntityType"));
    if (!t.base) out.push('<Key><PropertyRef Name="id"/></Key>');
    out.push(...ownProperties(t).map(([n, p]) => property(n, p)));
    const baseNav = t.base?.navigation ?? new Map();
    for (const [name, nav] of t.navigation) {
      if (baseNav.has(name)) continue;
      out.push(
        `<NavigationProperty Name="${name}" Type="${typeRef(nav.target, nav.collection)}"${nav.storage.kind === "contained" ? ' ContainsTarget="true"' : ""}/>`,
      );
    }
    out.push("</EntityType>");
  }
  for (const op of model.allOperations()) {
    const element = op.kind === "action" ? "Action" : "Function";
    out.push(`<${element} Name="${op.name}" IsBound="true">`);
    out.push(`<Parameter Name="bindingParameter" Type="${typeRef(op.bindingType, op.bindingCollection)}"/>`);
    for (const [name, p] of Object.entries(op.parameters ?? {})) out.push(`<Parameter Name="${name}" Type="${typeRef(p.type, p.collection)}"/>`);
    if (op.returns) out.push(`<ReturnType Type="${typeRef(op.returns.type, op.returns.collection)}"/>`);
    out.push(`</${element}>`);
  }
  out.push('<EntityContainer Name="GraphService">');
  for (const s of model.entitySets.values()) out.push(`<EntitySet Name="${s.name}" EntityType="${ns}.${s.entityType}"/>`);
  for (const s of model.singletons.values()) out.push(`<Singleton Name="${s.name}" Type="${ns}.${s.type}"/>`);
  out.push("</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>");
  return out.join("\n");
}
