// The fleet's worker hands device slices to the writer packed (src/graph/devices/fleet/packedSlice.ts): what the
// writer unpacks must be exactly what was drawn, value by value and type by type (documents as their UTF-8 bytes
// on SQLite), and the rows it writes the same bytes, or rows would differ with where the devices were drawn.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DYNAMIC_RULES } from "../../src/graph/devices/fleet/fleetGroups.js";
import { deviceSlices, type DevicePlan, type DeviceSlice } from "../../src/graph/devices/fleet/fleetDeviceSlices.js";
import { packSlice, unpackSlice } from "../../src/graph/devices/fleet/packedSlice.js";
import { SeededRandom } from "../../src/graph/devices/fleet/seededRandom.js";
import { graphModel } from "../../src/graph/model/index.js";
import { EntityStore } from "../../src/store/entityStore.js";
import { rowLayout } from "../../src/store/entityRows.js";
import { migrate } from "../../src/store/schema.js";
import { SqliteDatabase } from "../../src/store/sqlite/sqliteDatabase.js";
import { postgresDialect, sqliteDialect } from "../../src/store/sqlDialect.js";

function plan(dialect: typeof sqliteDialect): DevicePlan {
  const deviceManagement = graphModel.entityType("deviceManagement").navigation;
  const owners = Array.from({ length: 7 }, (_, i) => ({ id: `user-${i}`, userPrincipalName: `user${i}@contoso.example`, displayName: `Zoë Ünal ${i}`, mail: `user${i}@contoso.example` }));
  return {
    tenantId: "tenant-1",
    randomState: new SeededRandom("packed").state(),
    existingManaged: 10,
    devices: 1_200,
    autopilot: true,
    nowMs: Date.UTC(2026, 5, 1),
    owners,
    rules: DYNAMIC_RULES.map((r, i) => ({ groupId: `group-${i}`, rule: r.rule })),
    staticMembers: [[3, ["static-1", "static-2"]], [900, ["static-1"]]],
    layouts: {
      managed: rowLayout(dialect, deviceManagement.get("managedDevices")!.table!),
      entra: rowLayout(dialect, graphModel.entitySets.get("devices")!.table),
      autopilot: rowLayout(dialect, deviceManagement.get("windowsAutopilotDeviceIdentities")!.table!),
    },
    sliceSize: 500,
    firstSliceSize: 100,
  };
}

const decoder = new TextDecoder();
/** The slice with its documents as texts again. */
const withTextDocs = (slice: DeviceSlice): DeviceSlice => {
  const text = (values: unknown[]) => values.map((v) => (v instanceof Uint8Array ? decoder.decode(v) : v));
  const { docAsBytes: _, ...rest } = slice;
  return { ...rest, managed: text(slice.managed), entra: text(slice.entra), autopilot: text(slice.autopilot) };
};

/** As the worker posts it: through a real structured clone with the buffers moved. */
function handedOver(slice: DeviceSlice, layouts: DevicePlan["layouts"]): DeviceSlice {
  const { packed, transfer } = packSlice(slice, layouts);
  assert.ok(transfer.length > 0);
  return unpackSlice(structuredClone(packed, { transfer }));
}

describe("fleet slices packed for the writer", () => {
  it("on PostgreSQL, unpack(pack(slice)) is the slice", () => {
    const p = plan(postgresDialect);
    for (const slice of deviceSlices(p)) assert.deepStrictEqual(handedOver(slice, p.layouts), slice);
  });

  it("on SQLite, the documents cross as UTF-8 bytes and everything else as it was drawn", () => {
    const p = plan(sqliteDialect);
    let slices = 0;
    let memberships = 0;
    for (const slice of deviceSlices(p)) {
      const received = handedOver(slice, p.layouts);
      assert.equal(received.docAsBytes, true);
      const docAt = p.layouts.managed.names.indexOf("doc");
      assert.ok(received.managed[docAt] instanceof Uint8Array);
      assert.deepStrictEqual(withTextDocs(received), slice);
      slices++;
      memberships += slice.memberships.groupIds.length;
    }
    assert.equal(slices, 5, "100, 150, 225, 338 and the last 387 devices");
    assert.ok(memberships > 1_200, "the slices carry memberships, dynamic and static");
  });

  it("on SQLite, rows written from the bytes are the rows written from the texts, byte for byte", async () => {
    const p = plan(sqliteDialect);
    const entities = new EntityStore(graphModel);
    const dumps: string[][] = [];
    for (const bytes of [false, true]) {
      const db = new SqliteDatabase("SQLite in memory", ":memory:");
      try {
        await migrate(db, graphModel);
        await db.transaction(async (tx) => {
          for (const drawn of deviceSlices(p)) {
            const slice = bytes ? handedOver(drawn, p.layouts) : drawn;
            for (const kind of ["managed", "entra", "autopilot"] as const) await entities.insertEncoded(tx, p.layouts[kind], slice[kind], { docAsBytes: slice.docAsBytes });
          }
        });
        const dump: string[] = [];
        for (const kind of ["managed", "entra", "autopilot"] as const) {
          const table = p.layouts[kind].table;
          const columns = (await db.all<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)).map((c) => c.name);
          // typeof and hex: a text and a blob of the same bytes would otherwise look alike.
          const rows = await db.all(`SELECT ${columns.map((c) => `typeof(${c}), hex(${c})`).join(", ")} FROM ${table} ORDER BY seq`);
          assert.ok(rows.length > 0);
          dump.push(JSON.stringify(rows));
        }
        dumps.push(dump);
      } finally {
        await db.close();
      }
    }
    assert.match(dumps[0][0], /"typeof\(doc\)":"text"/);
    assert.deepStrictEqual(dumps[1], dumps[0]);
  });

  it("every kind of value survives: texts (repeated, long, non-Latin-1, empty), numbers, null, booleans, undefined", () => {
    const long = "x".repeat(100);
    const values = ["a", "a", "", long, long, "Zoë 東京", 0, -0, 1.5, -7, Number.MAX_SAFE_INTEGER, null, true, false, undefined, "a"];
    const slice = { managed: values, entra: [...values].reverse(), autopilot: [], autopilotCount: 0, managedIds: ["m1", "m2"], memberships: { groupIds: ["g", "g"], memberIds: ["a", long], dynamic: [true, false] } };
    const { packed, transfer } = packSlice(slice);
    assert.deepStrictEqual(unpackSlice(structuredClone(packed, { transfer })), slice);
    assert.throws(() => packSlice({ ...slice, managed: [{}] }), /cannot be packed/);
  });
});
