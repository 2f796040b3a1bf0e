// A scope's settling step tests the reach of its scope in JS (reachedBy); reads test it in SQL (reachedSql). Both
// must give the same truth value: checked here on every combination of marks, scope kinds, held profiles and
// memberships, against the SQL predicate run on SQLite.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { reachedBy, reachedSql, type ScopeRow } from "../../src/graph/autopilot/outstandingScopes.js";
import { sqliteDialect } from "../../src/store/sqlDialect.js";

describe("Autopilot reach of an outstanding scope", () => {
  it("reachedBy agrees with reachedSql for marks, every-device, profile-holder and group scopes", () => {
    const db = new Database(":memory:");
    db.exec(`CREATE TABLE autopilot_scopes (tenant_id TEXT, work_id TEXT, mark TEXT, kind TEXT, target TEXT);
      CREATE TABLE group_members (tenant_id TEXT, group_id TEXT, member_id TEXT);
      CREATE TABLE devices (tenant_id TEXT, id TEXT, p_device_id TEXT COLLATE NOCASE);
      CREATE TABLE ids (tenant_id TEXT, id TEXT, doc TEXT, p_azure_ad_device_id TEXT COLLATE NOCASE, b_mark_seq TEXT COLLATE NOCASE);`);
    db.prepare("INSERT INTO devices VALUES ('t', 'obj-1', 'DEV-1')").run();
    db.prepare("INSERT INTO group_members VALUES ('t', 'g1', 'obj-1')").run();
    const predicate = reachedSql(sqliteDialect, { identities: "ids", entraDevices: "devices", markColumn: "b_mark_seq" }, "ids", "'w'");
    const scopes: ScopeRow[][] = [
      [{ mark: "0000000000000005", kind: "all", target: "" }],
      [{ mark: "0000000000000005", kind: "profile", target: "p1" }],
      [{ mark: "0000000000000005", kind: "group", target: "g1" }],
      [{ mark: "0000000000000005", kind: "group", target: "g2" }],
      [
        { mark: "0000000000000005", kind: "group", target: "g2" },
        { mark: "0000000000000005", kind: "group", target: "g1" },
      ],
    ];
    const marks = [null, "0000000000000004", "0000000000000005", "0000000000000006"];
    const docs = [{}, { _deploymentProfileId: "p1" }, { _intendedProfileId: "p1" }, { _directProfileId: "p1" }, { _deploymentProfileId: "p2", _intendedProfileId: null }];
    const devices = ["dev-1", "DEV-2", null];
    let reached = 0;
    let cases = 0;
    for (const scope of scopes) {
      db.exec("DELETE FROM autopilot_scopes");
      for (const s of scope) db.prepare("INSERT INTO autopilot_scopes VALUES ('t', 'w', ?, ?, ?)").run(s.mark, s.kind, s.target);
      // Another change's scope: narrowed to 'w', neither test sees it.
      db.prepare("INSERT INTO autopilot_scopes VALUES ('t', 'other', '0000000000000009', 'all', '')").run();
      for (const mark of marks) {
        for (const doc of docs) {
          for (const device of devices) {
            db.exec("DELETE FROM ids");
            db.prepare("INSERT INTO ids VALUES ('t', 'i', ?, ?, ?)").run(JSON.stringify(doc), device, mark);
            const sql = db.prepare(`SELECT ${predicate} AS r FROM ids`).get() as { r: number };
            const d = doc as Record<string, unknown>;
            const groups = device?.toLowerCase() === "dev-1" ? new Set(["g1"]) : undefined;
            const js = reachedBy(scope, mark, [d._deploymentProfileId, d._intendedProfileId, d._directProfileId], groups);
            assert.equal(js, sql.r === 1, JSON.stringify({ scope, mark, doc, device }));
            cases++;
            if (js) reached++;
          }
        }
      }
    }
    assert.equal(cases, scopes.length * marks.length * docs.length * devices.length);
    assert.ok(reached > 0 && reached < cases);
    db.close();
  });
});
