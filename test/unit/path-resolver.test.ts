// URL resolution against a small synthetic model: every kind of segment the Graph model will use.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CompiledModel } from "../../src/odata/compiledModel.js";
import { GraphError } from "../../src/odata/errors.js";
import type { ModelDecl } from "../../src/odata/model.js";
import { functionArguments, keyValue, resolvePath, splitPath } from "../../src/odata/pathResolver.js";

const perms = { read: { application: ["R"], delegated: ["R"] }, write: { application: ["W"], delegated: ["W"] } };
const decl: ModelDecl = {
  namespace: "microsoft.graph",
  enumTypes: [{ name: "colour", members: ["red", "green"] }],
  complexTypes: [],
  entityTypes: [
    { name: "entity", abstract: true, properties: { id: { type: "Edm.String", readOnly: true } } },
    { name: "root", baseType: "entity", properties: {} },
    {
      name: "policy",
      baseType: "entity",
      abstract: true,
      properties: { displayName: { type: "Edm.String", filterable: true }, colour: { type: "colour", filterable: true } },
      navigation: { assignments: { target: "assignment", collection: true, storage: { kind: "contained" } } },
    },
    { name: "specialPolicy", baseType: "policy", properties: { extra: { type: "Edm.Int32", sortable: true } }, navigation: { rootCertificate: { target: "policy", collection: false, storage: { kind: "provider", provider: "cert" } } } },
    { name: "assignment", baseType: "entity", properties: {} },
  ],
  entitySets: [],
  singletons: [{ name: "deviceManagement", type: "root" }],
  operations: [
    { name: "assign", kind: "action", bindingType: "policy", bindingCollection: false, handler: "assign", permissions: perms.write },
    { name: "validate", kind: "action", bindingType: "policy", bindingCollection: true, handler: "validate", permissions: perms.write },
    { name: "supported", kind: "function", bindingType: "policy", bindingCollection: true, handler: "supported", permissions: perms.read },
  ],
};
decl.entityTypes[1].navigation = { policies: { target: "policy", collection: true, storage: { kind: "contained" }, permissions: perms } };
const model = new CompiledModel(decl);
const resolve = (path: string) => resolvePath(model, splitPath(path));
const kinds = (path: string) => resolve(path).steps.map((s) => s.kind);

describe("path resolution", () => {
  it("singleton, contained collection, key in both syntaxes", () => {
    assert.deepEqual(kinds("deviceManagement/policies"), ["singleton", "navigation"]);
    assert.equal(resolve("deviceManagement/policies").target, "collection");
    assert.deepEqual(kinds("deviceManagement/policies/abc"), ["singleton", "navigation", "key"]);
    const paren = resolve("deviceManagement/policies('a''b')");
    assert.equal(paren.target, "entity");
    assert.deepEqual(paren.steps[2], { kind: "key", id: "a'b", type: model.entityType("policy") });
  });
  it("type-cast segments on collections and entities, then navigation of the derived type", () => {
    const r = resolve("deviceManagement/policies/p1/microsoft.graph.specialPolicy/rootCertificate/assignments/a1");
    assert.deepEqual(r.steps.map((s) => s.kind), ["singleton", "navigation", "key", "cast", "navigation", "navigation", "key"]);
    assert.equal(r.template, "~/singleton/navigation/key/cast/navigation/navigation/key");
    assert.deepEqual(kinds("deviceManagement/policies/microsoft.graph.specialPolicy"), ["singleton", "navigation", "cast"]);
    assert.throws(() => resolve("deviceManagement/policies/microsoft.graph.assignment"), /not compatible/);
  });
  it("a navigation declared only on derived types resolves without the cast, marked with the types that declare it (seed 004)", () => {
    const r = resolve("deviceManagement/policies/p1/rootCertificate/assignments/a1");
    assert.deepEqual(r.steps.map((s) => s.kind), ["singleton", "navigation", "key", "navigation", "navigation", "key"]);
    const nav = r.steps[3];
    assert.ok(nav.kind === "navigation");
    assert.deepEqual(nav.declaredOn?.map((t) => t.name), ["specialPolicy"], "the executor accepts it only for an entity of such a type");
    assert.equal(nav.type.name, "policy");
    const direct = resolve("deviceManagement/policies/p1/microsoft.graph.specialPolicy/rootCertificate").steps.at(-1)!;
    assert.ok(direct.kind === "navigation" && direct.declaredOn === undefined, "after a cast the navigation is the type's own");
    assert.throws(() => resolve("deviceManagement/policies/p1/noSuchNavigation"), /segment 'noSuchNavigation'/);
  });
  it("derived declarations of one name that disagree in cardinality or storage are ambiguous: no route", () => {
    const d: ModelDecl = structuredClone(decl);
    d.entityTypes.push({ name: "otherPolicy", baseType: "policy", properties: {}, navigation: { rootCertificate: { target: "policy", collection: true, storage: { kind: "provider", provider: "cert" } } } });
    const m = new CompiledModel(d);
    assert.throws(() => resolvePath(m, splitPath("deviceManagement/policies/p1/rootCertificate")), /segment 'rootCertificate'/);
    assert.ok(resolvePath(m, splitPath("deviceManagement/policies/p1/microsoft.graph.otherPolicy/rootCertificate")).steps.length === 5);
  });
  it("the target of a navigation of several derived types is the nearest common ancestor of their targets", () => {
    const d: ModelDecl = structuredClone(decl);
    d.entityTypes.push({ name: "otherPolicy", baseType: "policy", properties: {}, navigation: { rootCertificate: { target: "specialPolicy", collection: false, storage: { kind: "provider", provider: "cert" } } } });
    const m = new CompiledModel(d);
    const found = m.navigationOnDerived(m.entityType("policy"), "rootCertificate");
    assert.deepEqual(found?.declaredOn.map((t) => t.name).sort(), ["otherPolicy", "specialPolicy"]);
    assert.equal(found?.target.name, "policy");
  });
  it("bound actions and functions, on entities and collections, qualified or not", () => {
    assert.equal(resolve("deviceManagement/policies/p1/assign").target, "operation");
    assert.equal(resolve("deviceManagement/policies/p1/microsoft.graph.assign").target, "operation");
    assert.equal(resolve("deviceManagement/policies/validate").target, "operation");
    const fn = resolve("deviceManagement/policies/supported(platform='windows10AndLater',n=3)");
    const last = fn.steps.at(-1)!;
    assert.ok(last.kind === "operation");
    assert.deepEqual(last.args, { platform: "windows10AndLater", n: "3" });
    assert.throws(() => resolve("deviceManagement/policies/p1/assign/more"), /segment 'more'/);
  });
  it("$count and $ref end a path", () => {
    assert.equal(resolve("deviceManagement/policies/$count").target, "count");
    assert.throws(() => resolve("deviceManagement/policies/$count/x"), GraphError);
  });
  it("unknown segments are Graph's 400 with the segment named", () => {
    for (const [path, seg] of [["nothing", "nothing"], ["deviceManagement/nothing", "nothing"], ["deviceManagement/policies/p1/nothing", "nothing"], ["deviceManagement('x')", "deviceManagement('x')"]]) {
      assert.throws(() => resolve(path), (e: unknown) => e instanceof GraphError && e.status === 400 && e.message === `Resource not found for the segment '${seg}'.`);
    }
  });
  it("key and argument syntax", () => {
    assert.equal(keyValue("'x''y'"), "x'y");
    assert.equal(keyValue("id='k'"), "k");
    assert.deepEqual(functionArguments("a='1', b=true"), { a: "1", b: "true" });
    assert.throws(() => functionArguments("a='1' junk"), GraphError);
    assert.deepEqual(splitPath("a/b('c/d')/e").map((s) => s.raw), ["a", "b('c/d')", "e"]);
  });
  it("a path without parentheses or quotes splits as the general walk splits it (its fast path)", () => {
    // The general walk, as splitPath has it for paths with parentheses or quotes.
    const walked = (path: string) => {
      const parts: string[] = [];
      let [depth, quote, current] = [0, false, ""];
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
      return parts.filter((p, i) => p !== "" || i < parts.length - 1).map((raw) => ({ name: raw, raw }));
    };
    for (const path of ["", "/", "users", "users/", "users/u1", "users//u1", "/users/u1/", "deviceManagement/managedDevices/d1/wipe", "a/b/c/$count", "$metadata", "x y/%2F", "a//"]) {
      assert.deepEqual(splitPath(path), walked(path), path);
    }
  });
  it("storage: one table per contained collection, columns for filterable and sortable properties of derived types too", () => {
    const table = model.tables.find((t) => t.name === "policies")!;
    assert.deepEqual(table.columns.map((c) => [c.property, c.type]).sort(), [["colour", "enum"], ["displayName", "Edm.String"], ["extra", "Edm.Int32"]]);
    assert.ok(model.tables.find((t) => t.name === "policy_assignments")!.parented);
  });
});
