// A GET by id writes the entity's text straight from its document (EntitySerializer.entityText): it must be the
// very bytes JSON.stringify writes for the entity object the serializer builds, for every entity type of both
// models under every type it can be read as (@odata.type on polymorphic and derived ones), in property order,
// with unset, null, nested and awkward values, write-only properties and unknown fields in the document.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { graphModel } from "../../src/graph/model/index.js";
import { mmdModel } from "../../src/mmd/mmdModel.js";
import type { CompiledModel, EntityType } from "../../src/odata/compiledModel.js";
import { JsonText, jsonPayload } from "../../src/odata/jsonText.js";
import { EntitySerializer } from "../../src/odata/serializer.js";

const AWKWARD = ['quote " backslash \\ slash /', "line\nbreak\ttab\u0001\u001f", "é ünï 𝄞 \u2028\u2029", "lone \ud800 surrogate", ""];
const VALUES: unknown[] = [...AWKWARD, 0, -0, 1.5e300, -42, 1e21, true, false, null, [], ["a", 1, null, { b: AWKWARD[1] }], {}, { nested: { deep: [AWKWARD[0]] }, n: 3 }];

/** A stored document: every property with a value, unset or null in turn (shifted by `seed`), plus stray fields. */
function documentFor(type: EntityType, seed: number): Record<string, unknown> {
  const doc: Record<string, unknown> = { strayField: "kept in the store, not shown", __internalMarker: { pending: true } };
  let i = seed;
  for (const name of type.properties.keys()) {
    if (name === "id") continue;
    i++;
    if (i % 5 === 0) continue; // unset: null or [] on the wire
    doc[name] = VALUES[i % VALUES.length];
  }
  // JSON round trip: a stored document is what JSON.parse gives back (PostgreSQL's driver parses too).
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

const ancestorsAndSelf = (t: EntityType): EntityType[] => (t.base ? [t, ...ancestorsAndSelf(t.base)] : [t]);

function checkModel(model: CompiledModel) {
  const serializer = new EntitySerializer(model);
  let checked = 0;
  for (const type of model.entityTypes.values()) {
    for (const declared of ancestorsAndSelf(type)) {
      for (let seed = 0; seed < 5; seed++) {
        const entity = { id: `id-${seed}-"quoted"`, type: type.name, seq: 1, doc: documentFor(type, seed) };
        const context = `https://graph.microsoft.com/beta/$metadata#things/$entity`;
        const expected = JSON.stringify(serializer.entity(declared, entity, undefined, context));
        assert.equal(serializer.entityText(declared, entity, context), expected, `${type.name} read as ${declared.name}`);
        checked++;
      }
    }
  }
  return checked;
}

describe("entity text (GET by id)", () => {
  it("is byte for byte JSON.stringify of the entity object, for every Graph entity type", () => {
    assert.ok(checkModel(graphModel) > 100);
  });

  it("and for every Managed Desktop entity type", () => {
    assert.ok(checkModel(mmdModel) > 0);
  });

  it("gives way to the object when a value has no JSON text of its own", () => {
    const serializer = new EntitySerializer(graphModel);
    const user = graphModel.entityType("user");
    const entity = { id: "u1", type: "user", seq: 1, doc: { displayName: () => "not JSON" } };
    assert.equal(serializer.entityText(user, entity, "ctx"), undefined);
  });

  it("embeds as its value in a larger JSON value (a $batch response) and is sent as its text", () => {
    const text = new JsonText('{"a":[1,"x\\u0001"],"b":null}');
    assert.equal(JSON.stringify({ responses: [{ id: "1", body: text }] }), '{"responses":[{"id":"1","body":{"a":[1,"x\\u0001"],"b":null}}]}');
    assert.equal(jsonPayload(text), text.text);
    assert.equal(jsonPayload({ a: 1 }), '{"a":1}');
    assert.equal(jsonPayload("<xml/>"), "<xml/>");
  });
});
