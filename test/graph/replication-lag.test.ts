// Replication lag (issue 9, opt-in): for the configured time after a Graph write, reads may serve the previous
// state — the entity read by id, and list pages containing it — so that clients' read-after-write retries can be
// exercised. Writes always see the latest state. Off by default, and then nothing is recorded. Both backends; the
// lag runs on the one clock, which these tests move by hand.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { ManualClock } from "../support/manualClock.js";
import { backendsToTest, startTestServer, type TestServer } from "../support/allotUnderTest.js";


const newGroup = (name: string) => ({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, ""), securityEnabled: true });
const snapshotRows = async (s: TestServer) => Number((await s.allot.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM replica_snapshots"))[0]!.n);
const admin = { "x-allot-admin-key": DEFAULT_ADMIN_KEY };

for (const backend of await backendsToTest()) {
  describe(`replication lag (${backend})`, () => {
    describe("off by default", () => {
      let s: TestServer;
      before(async () => {
        s = await startTestServer(backend);
      });
      after(async () => s?.close());

      it("a PATCH then an immediate GET returns the new value, a POST then a GET is 200, and nothing is recorded", async () => {
        const created = await s.call("POST", "/groups", newGroup("Off by default"));
        assert.equal(created.status, 201);
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).status, 200);
        assert.equal((await s.call("PATCH", `/groups/${created.body.id}`, { displayName: "Renamed" })).status, 204);
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).body.displayName, "Renamed");
        assert.equal(await snapshotRows(s), 0, "no snapshot is written while the lag is off");
        const lag = await s.call("GET", "/_allot/replication-lag", undefined, admin);
        assert.deepEqual(lag.body, { seconds: 0 });
      });
    });

    describe("--replication-lag 2s", () => {
      let s: TestServer;
      const clock = new ManualClock();
      before(async () => {
        s = await startTestServer(backend, { replicationLag: "2s", clock });
      });
      after(async () => s?.close());

      it("the startup seed is the system's own write: visible at once", async () => {
        const seeded = await s.call("GET", "/groups/a110c0de-0000-4000-8000-000000000501");
        assert.equal(seeded.status, 200);
        assert.equal(await snapshotRows(s), 0);
      });

      it("a PATCH then an immediate GET returns the old value; a GET after the lag returns the new one", async () => {
        const created = await s.call("POST", "/groups", newGroup("Before"));
        clock.advanceMs(2_001);
        assert.equal((await s.call("PATCH", `/groups/${created.body.id}`, { displayName: "After" })).status, 204);
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).body.displayName, "Before");
        const listed = await s.call("GET", `/groups?$filter=id eq '${created.body.id}'`);
        assert.deepEqual(listed.body.value.map((g: { displayName: string }) => g.displayName), ["Before"], "a list page shows the previous document too");
        clock.advanceMs(1_999);
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).body.displayName, "Before", "still within the lag");
        clock.advanceMs(2);
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).body.displayName, "After");
        assert.equal((await s.call("GET", `/groups?$filter=id eq '${created.body.id}'`)).body.value[0].displayName, "After");
      });

      it("a POST then an immediate GET is 404, then 200 after the lag; the list hides it meanwhile", async () => {
        const created = await s.call("POST", "/groups", newGroup("Just created"));
        assert.equal(created.status, 201);
        const early = await s.call("GET", `/groups/${created.body.id}`);
        assert.equal(early.status, 404);
        assert.equal(early.body.error.code, "Request_ResourceNotFound");
        const listed = await s.call("GET", `/groups?$filter=displayName eq 'Just created'`);
        assert.deepEqual(listed.body.value, []);
        clock.advanceMs(2_000);
        const late = await s.call("GET", `/groups/${created.body.id}`);
        assert.equal(late.status, 200);
        assert.equal(late.body.displayName, "Just created");
      });

      it("a DELETE then an immediate GET still finds the entity; after the lag it is 404", async () => {
        const created = await s.call("POST", "/groups", newGroup("Doomed"));
        clock.advanceMs(2_000);
        assert.equal((await s.call("DELETE", `/groups/${created.body.id}`)).status, 204);
        const early = await s.call("GET", `/groups/${created.body.id}`);
        assert.equal(early.status, 200);
        assert.equal(early.body.displayName, "Doomed");
        clock.advanceMs(2_000);
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).status, 404);
      });

      it("writes see the latest state: a second PATCH within the lag applies, and reads show the state before both", async () => {
        const created = await s.call("POST", "/groups", newGroup("First"));
        clock.advanceMs(2_000);
        assert.equal((await s.call("PATCH", `/groups/${created.body.id}`, { displayName: "Second" })).status, 204);
        clock.advanceMs(1_500);
        assert.equal((await s.call("PATCH", `/groups/${created.body.id}`, { description: "edited twice" })).status, 204);
        clock.advanceMs(1_000);
        const read = await s.call("GET", `/groups/${created.body.id}`);
        assert.equal(read.body.displayName, "First", "2 s after the last write have not passed yet");
        clock.advanceMs(1_000);
        const settled = await s.call("GET", `/groups/${created.body.id}`);
        assert.equal(settled.body.displayName, "Second");
        assert.equal(settled.body.description, "edited twice");
      });

      it("a rejected write records no snapshot", async () => {
        clock.advanceMs(10_000);
        const created = await s.call("POST", "/groups", newGroup("Stable"));
        clock.advanceMs(2_000);
        const rejected = await s.call("PATCH", `/groups/${created.body.id}`, { noSuchProperty: 1 });
        assert.equal(rejected.status, 400);
        const rows = await s.allot.db.all("SELECT id FROM replica_snapshots WHERE id = " + s.allot.db.dialect.param(1) + " AND visible_at > " + s.allot.db.dialect.param(2), [created.body.id, clock.now().toISOString()]);
        assert.deepEqual(rows, []);
      });
    });

    describe("PUT /_allot/replication-lag", () => {
      let s: TestServer;
      const clock = new ManualClock();
      before(async () => {
        s = await startTestServer(backend, { clock });
      });
      after(async () => s?.close());

      it("needs the admin key, checks its body, and turns the lag on and off", async () => {
        assert.equal((await s.call("PUT", "/_allot/replication-lag", { seconds: 2 })).status, 403);
        const bad = await s.call("PUT", "/_allot/replication-lag", { seconds: -1 }, admin);
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, "BadRequest");
        const on = await s.call("PUT", "/_allot/replication-lag", { seconds: 2 }, admin);
        assert.deepEqual([on.status, on.body], [200, { seconds: 2 }]);
        const created = await s.call("POST", "/groups", newGroup("Lagging"));
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).status, 404);
        const off = await s.call("PUT", "/_allot/replication-lag", { seconds: 0 }, admin);
        assert.deepEqual(off.body, { seconds: 0 });
        assert.equal((await s.call("GET", `/groups/${created.body.id}`)).status, 200, "off, reads see the latest state at once");
      });
    });
  });
}
