// Validates a request body against the model: the entity's (derived) type, each property's type, read-only and
// write-only rules, maximum lengths, required properties on create and defaults. Returns clean values, so a
// handler never sees an unknown property or an unparsed date.

import type { CompiledModel, EntityType, StructuredType } from "./compiledModel.js";
import { isPrimitive } from "./compiledModel.js";
import { badRequest } from "./errors.js";
import type { PropertyDecl } from "./model.js";

export interface ValidatedBody {
  type: EntityType;
  values: Record<string, unknown>;
  /** `nav@odata.bind` references, by navigation name. */
  bindings: Record<string, string[]>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;

export class BodyValidator {
  constructor(private readonly model: CompiledModel) {}

  /** Resolves `@odata.type` of a body against the declared type (with or without '#', qualified or not). */
  private resolveType(declared: StructuredType, annotation: unknown): StructuredType {
    if (annotation === undefined) return declared;
    if (typeof annotation !== "string") throw badRequest("The value of '@odata.type' must be a string.");
    const t = this.model.findStructuredType(annotation);
    if (!t || t.kind !== declared.kind) {
      throw badRequest(`A type named '${annotation.replace(/^#/, "")}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.`);
    }
    if (!this.model.isAssignable(t, declared)) {
      throw badRequest(`The type '${t.qualifiedName}' is not compatible with the expected type '${declared.qualifiedName}'.`);
    }
    return t;
  }

  entity(declared: EntityType, body: unknown, mode: "create" | "update", existing?: EntityType): ValidatedBody {
    if (!isPlainObject(body)) throw badRequest("The request body must be a JSON object.");
    let type = this.resolveType(declared, body["@odata.type"]) as EntityType;
    if (mode === "update" && existing) {
      if (body["@odata.type"] !== undefined && type !== existing) {
        throw badRequest(`The type '${type.qualifiedName}' of the request does not match the type '${existing.qualifiedName}' of the entity.`);
      }
      type = existing;
    }
    if (mode === "create" && type.abstract) {
      throw badRequest(
        `Cannot create an instance of the abstract type '${type.qualifiedName}'. Specify '@odata.type' with a concrete derived type.`,
      );
    }
    const bindings: Record<string, string[]> = {};
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      if (key.startsWith("@")) continue;
      const at = key.indexOf("@");
      if (at > 0) {
        const navName = key.slice(0, at);
        const bound = type.navigation.get(navName);
        if (key.slice(at) === "@odata.bind" && (bound?.references || (bound?.bindable && mode === "create"))) {
          if (!bound.collection && Array.isArray(value)) throw badRequest(`The value of '${key}' must be a single URL: '${navName}' is single-valued.`);
          const refs = Array.isArray(value) ? value : [value];
          if (!refs.every((r) => typeof r === "string")) throw badRequest(`The value of '${key}' must be a URL or an array of URLs.`);
          bindings[navName] = refs as string[];
          continue;
        }
        if (type.properties.has(navName) || type.navigation.has(navName)) continue; // other instance annotations
        throw this.unknownProperty(navName, type);
      }
      if (type.navigation.has(key)) throw badRequest(`Deep insert or update of the navigation property '${key}' is not supported.`);
      const decl = type.properties.get(key);
      if (!decl) throw this.unknownProperty(key, type);
      if (decl.readOnly) continue; // spec §4.10 [I]: read-only properties in a body are ignored
      values[key] = this.value(decl, value, key);
    }
    if (mode === "create") {
      for (const [name, decl] of type.properties) {
        if (decl.readOnly) continue;
        if (values[name] === undefined && decl.default !== undefined) values[name] = structuredClone(decl.default);
        if (decl.required && (values[name] === undefined || values[name] === null)) {
          throw badRequest(`The property '${name}' is required when creating an entity of type '${type.qualifiedName}'.`);
        }
      }
    } else {
      for (const [name, value] of Object.entries(values)) {
        if (type.properties.get(name)?.required && value === null) throw badRequest(`The property '${name}' cannot be set to null.`);
      }
    }
    return { type, values, bindings };
  }

  /** Validates one value (also used for action parameters). */
  value(decl: PropertyDecl, value: unknown, path: string): unknown {
    if (value === null) {
      if (decl.nullable === false) throw badRequest(`The property '${path}' cannot be null.`);
      return null;
    }
    if (decl.collection) {
      if (!Array.isArray(value)) throw this.mismatch(path, value, `Collection(${this.typeName(decl.type)})`);
      return value.map((v, i) => this.value({ ...decl, collection: false, nullable: false }, v, `${path}[${i}]`));
    }
    if (isPrimitive(decl.type)) return this.primitive(decl, value, path);
    const enumType = this.model.enumTypes.get(decl.type);
    if (enumType) {
      if (typeof value !== "string" || !enumType.members.includes(value)) throw this.mismatch(path, value, this.typeName(decl.type));
      return value;
    }
    const complex = this.model.complexTypes.get(decl.type)!;
    return this.complex(complex, value, path);
  }

  private complex(declared: StructuredType, value: unknown, path: string): Record<string, unknown> {
    if (!isPlainObject(value)) throw this.mismatch(path, value, declared.qualifiedName);
    const type = this.resolveType(declared, value["@odata.type"]);
    if (type.abstract) throw badRequest(`The property '${path}' needs '@odata.type' naming a concrete type derived from '${declared.qualifiedName}'.`);
    const out: Record<string, unknown> = {};
    if (this.model.isInHierarchy(type)) out["@odata.type"] = `#${type.qualifiedName}`;
    for (const [key, v] of Object.entries(value)) {
      if (key.startsWith("@") || key.includes("@")) continue;
      const decl = type.properties.get(key);
      if (!decl) throw this.unknownProperty(key, type);
      if (decl.readOnly) continue;
      out[key] = this.value(decl, v, `${path}.${key}`);
    }
    // A complex value is written whole (create or PATCH alike): what it leaves out takes its declared default.
    for (const [name, decl] of type.properties) {
      if (out[name] === undefined && decl.default !== undefined && !decl.readOnly) out[name] = structuredClone(decl.default);
    }
    return out;
  }

  private primitive(decl: PropertyDecl, value: unknown, path: string): unknown {
    switch (decl.type) {
      case "Edm.String":
        if (typeof value !== "string") throw this.mismatch(path, value, decl.type);
        if (decl.maxLength !== undefined && value.length > decl.maxLength) {
          throw badRequest(`The value of property '${path}' is longer than the maximum length of ${decl.maxLength} characters.`);
        }
        return value;
      case "Edm.Boolean":
        if (typeof value !== "boolean") throw this.mismatch(path, value, decl.type);
        return value;
      case "Edm.Int32":
        if (!Number.isInteger(value) || (value as number) < -2147483648 || (value as number) > 2147483647) throw this.mismatch(path, value, decl.type);
        return value;
      case "Edm.Int64":
        if (Number.isInteger(value)) return value;
        if (typeof value === "string" && /^-?\d{1,18}$/.test(value)) return Number(value);
        throw this.mismatch(path, value, decl.type);
      case "Edm.Double":
        if (typeof value !== "number" || !Number.isFinite(value)) throw this.mismatch(path, value, decl.type);
        return value;
      case "Edm.DateTimeOffset":
        if (typeof value !== "string" || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) throw this.mismatch(path, value, decl.type);
        return new Date(value).toISOString();
      case "Edm.Guid":
        if (typeof value !== "string" || !GUID.test(value)) throw this.mismatch(path, value, decl.type);
        return value.toLowerCase();
      case "Edm.Binary":
        if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw this.mismatch(path, value, decl.type);
        return value;
      default:
        throw new Error(`unhandled primitive ${decl.type}`);
    }
  }

  private typeName(type: string) {
    return isPrimitive(type) ? type : `${this.model.namespace}.${type}`;
  }

  private mismatch(path: string, value: unknown, expected: string) {
    const shown = typeof value === "string" ? value : JSON.stringify(value);
    return badRequest(`Invalid value for property '${path}': cannot convert '${shown?.slice(0, 100)}' to the expected type '${expected}'.`);
  }

  private unknownProperty(name: string, type: StructuredType) {
    return badRequest(
      `The property '${name}' does not exist on type '${type.qualifiedName}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    );
  }
}
