// Fault injection at /_allot/faults over real HTTP on both backends: rules by method, model-aware path pattern
// and tenant, for the next N requests or with a probability, answering a status with a Graph body, added
// latency or a dropped connection, in $batch items too; decided before the handler, so a faulted write changes
// nothing; "the next N" counted exactly once under concurrency (and across two processes on one PostgreSQL).

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import { backendsToTest, DEMO_TENANT_ID, dropPostgresSchema, freshStore, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const ADMIN = { "x-allot-admin-key": "allot-dev-admin-key" };
const MD = "/deviceManagement/managedDevices";

const addRule = async (s: TestServer, rule: Record<string, unknown>, headers: Record<string, string> = ADMIN) => {
  const res = await s.call("POST", "/_allot/faults", rule, headers);
  assert.equal(res.status, 201, res.text);
  return res.body as { id: string; remaining?: number };
};

async function enroll(s: TestServer): Promise<string> {
  const res = await s.call("POST", "/_allot/devices", { deviceName: `FAULT-${randomUUID().slice(0, 8)}` });
  assert.equal(res.status, 201, res.text);
  return res.body.managedDeviceId;
}

async function mintToken(s: TestServer, tenant: string, roles: string[]): Promise<string> {
  const res = await s.call("POST", "/_allot/tokens", { tenant, clientId: randomUUID(), roles }, ADMIN);
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

for (const backend of await backendsToTest()) {
  describe(`fault injection (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { lifecycle: "immediate" });
    });
    after(() => s?.close());
    beforeEach(async () => {
      assert.equal((await s.call("DELETE", "/_allot/faults", undefined, ADMIN)).status, 200);
    });

    it("the next N matching requests answer 503 with Retry-After and a Graph body, the faulted write changes nothing, then the rule is spent", async () => {
      const device = await enroll(s);
      const rule = await addRule(s, { method: "POST", path: "managedDevices/{id}/wipe", count: 2, status: 503, retryAfter: 2 });
      assert.equal(rule.remaining, 2);
      for (let i = 0; i < 2; i++) {
        const res = await s.call("POST", `${MD}/${device}/wipe`, { keepEnrollmentData: false });
        assert.equal(res.status, 503);
        assert.equal(res.headers.get("retry-after"), "2");
        assert.equal(res.body.error.code, "serviceNotAvailable");
        assert.equal(res.body.error.innerError["request-id"], res.headers.get("request-id"));
        const after = (await s.call("GET", `${MD}/${device}?$select=managementState,deviceActionResults`)).body;
        assert.equal(after.managementState, "managed", "the faulted wipe started nothing");
        assert.deepEqual(after.deviceActionResults, []);
      }
      assert.equal((await s.call("GET", `${MD}/${device}`)).status, 200, "a GET does not match a POST rule");
      assert.equal((await s.call("POST", `${MD}/${device}/wipe`, { keepEnrollmentData: false })).status, 204);
      const listed = (await s.call("GET", "/_allot/faults", undefined, ADMIN)).body.value;
      assert.deepEqual(listed.map((r: any) => [r.id, r.remaining]), [[rule.id, 0]]);
    });

    it("an operation name alone matches it on any path (managedDevices or comanagedDevices, key in parentheses or as a segment)", async () => {
      const device = await enroll(s);
      await addRule(s, { path: "syncDevice", status: 500 });
      for (const url of [`${MD}/${device}/syncDevice`, `/deviceManagement/comanagedDevices/${device}/syncDevice`, `${MD}('${device}')/syncDevice`]) {
        const res = await s.call("POST", url, {});
        assert.equal(res.status, 500, url);
        assert.equal(res.body.error.code, "generalException");
      }
      assert.equal((await s.call("POST", `${MD}/${device}/retire`, {})).status, 204);
      const state = (await s.call("GET", `${MD}/${device}?$select=deviceActionResults`)).body;
      assert.deepEqual(state.deviceActionResults.map((r: any) => r.actionName), ["retire"], "no faulted syncDevice left a result");
    });

    it("answers 429 (with the throttling body), 502 and 504 with Graph bodies; the route template matches too", async () => {
      await addRule(s, { path: "~/singleton/navigation", method: "GET", count: 1, status: 429, retryAfter: 3 });
      const throttled = await s.call("GET", MD);
      assert.equal(throttled.status, 429);
      assert.equal(throttled.headers.get("retry-after"), "3");
      assert.equal(throttled.body.error.code, "TooManyRequests");
      assert.equal(throttled.body.error.innerError.status, "429");
      for (const [status, code] of [[502, "BadGateway"], [504, "GatewayTimeout"]] as const) {
        await addRule(s, { path: "/deviceManagement/managedDevices", count: 1, status });
        const res = await s.call("GET", MD);
        assert.equal(res.status, status);
        assert.equal(res.body.error.code, code);
        assert.equal(res.headers.get("retry-after"), null);
      }
      assert.equal((await s.call("GET", MD)).status, 200);
    });

    it("adds latency before the request runs, and can drop the connection without an answer", async () => {
      await addRule(s, { path: "managedDevices", method: "GET", count: 1, latencyMs: 300 });
      const started = performance.now();
      assert.equal((await s.call("GET", MD)).status, 200);
      assert.ok(performance.now() - started >= 290, "no latency was added");
      await addRule(s, { path: "managedDevices", count: 1, drop: true });
      await assert.rejects(s.call("GET", MD), (e: Error) => /fetch failed|socket|terminated/i.test(`${e.message} ${(e as { cause?: Error }).cause?.message ?? ""}`));
      assert.equal((await s.call("GET", MD)).status, 200);
    });

    it("faults $batch items one by one: a status per item, and a dropped connection is that item's 504", async () => {
      const device = await enroll(s);
      await addRule(s, { method: "GET", path: "managedDevices/{id}", count: 1, status: 502 });
      await addRule(s, { path: "windowsAutopilotDeploymentProfiles", count: 1, drop: true });
      const res = await s.call("POST", "/$batch", {
        requests: [
          { id: "device", method: "GET", url: `${MD}/${device}` },
          { id: "profiles", method: "GET", url: "/deviceManagement/windowsAutopilotDeploymentProfiles" },
          { id: "users", method: "GET", url: "/users?$top=1" },
        ],
      });
      assert.equal(res.status, 200);
      const byId = Object.fromEntries(res.body.responses.map((r: any) => [r.id, r]));
      assert.equal(byId.device.status, 502);
      assert.equal(byId.device.body.error.code, "BadGateway");
      assert.equal(byId.profiles.status, 504);
      assert.equal(byId.profiles.body.error.code, "GatewayTimeout");
      assert.equal(byId.users.status, 200);
    });

    it("'the next N' is counted exactly once across concurrent requests", async () => {
      await addRule(s, { method: "GET", path: "managedDevices", count: 5, status: 500 });
      const statuses = await Promise.all(Array.from({ length: 20 }, () => s.call("GET", `${MD}?$top=1`).then((r) => r.status)));
      assert.equal(statuses.filter((x) => x === 500).length, 5);
      assert.equal(statuses.filter((x) => x === 200).length, 15);
    });

    it("a probability of 1 faults every matching request; a rule for another tenant leaves this one alone", async () => {
      const other = randomUUID();
      assert.equal((await s.call("PUT", `/_allot/tenants/${other}`, {}, ADMIN)).status, 201);
      await addRule(s, { path: "managedDevices", probability: 1, status: 500, tenant: other });
      assert.equal((await s.call("GET", MD)).status, 200);
      const otherToken = await mintToken(s, other, ["DeviceManagementManagedDevices.Read.All"]);
      for (let i = 0; i < 3; i++) assert.equal((await s.call("GET", MD, undefined, { authorization: `Bearer ${otherToken}` })).status, 500);
    });

    it("a token with Allot.Admin manages its own tenant's rules only; bad rules are 400; no credentials 401", async () => {
      const other = randomUUID();
      assert.equal((await s.call("PUT", `/_allot/tenants/${other}`, {}, ADMIN)).status, 201);
      const adminOfOther = { authorization: `Bearer ${await mintToken(s, other, ["Allot.Admin"])}` };
      const own = await addRule(s, { path: "managedDevices", status: 500 }, adminOfOther);
      assert.equal((own as any).tenant, other);
      assert.equal((await s.call("POST", "/_allot/faults", { status: 500, tenant: DEMO_TENANT_ID }, adminOfOther)).status, 403);
      const mine = await addRule(s, { path: "wipe", status: 500 });
      assert.deepEqual((await s.call("GET", "/_allot/faults", undefined, adminOfOther)).body.value.map((r: any) => r.id), [own.id]);
      assert.equal((await s.call("DELETE", `/_allot/faults/${mine.id}`, undefined, adminOfOther)).status, 404);
      assert.equal((await s.call("GET", MD)).status, 200, "the other tenant's rule does not touch the demo tenant");
      for (const bad of [
        { path: "managedDevicez", status: 500 },
        { status: 418 },
        { status: 500, probability: 0.5, count: 1 },
        { path: "wipe" },
        { status: 500, retryAfter: 2 },
        { status: 500, drop: true },
        { status: 500, colour: "red" },
      ]) {
        const res = await s.call("POST", "/_allot/faults", bad, ADMIN);
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.equal(res.body.error.code, "BadRequest");
      }
      assert.equal((await s.call("POST", "/_allot/faults", { status: 500 }, { authorization: "" })).status, 401);
      assert.equal((await s.call("DELETE", `/_allot/faults/${mine.id}`, undefined, ADMIN)).status, 204);
      assert.equal((await s.call("DELETE", "/_allot/faults", undefined, adminOfOther)).body.deleted, 1);
      assert.deepEqual((await s.call("GET", "/_allot/faults", undefined, ADMIN)).body.value, []);
    });

    // Last in the file: resetting everything also resets the demo tenant the other tests use.
    it("a tenant's reset removes its own rules (others stay); resetting everything removes every rule", async () => {
      const other = randomUUID();
      assert.equal((await s.call("PUT", `/_allot/tenants/${other}`, {}, ADMIN)).status, 201);
      const demoRule = await addRule(s, { path: "managedDevices", status: 500, tenant: DEMO_TENANT_ID });
      const otherRule = await addRule(s, { path: "managedDevices", status: 502, tenant: other });
      const everyone = await addRule(s, { path: "wipe", status: 503 });
      assert.equal((await s.call("GET", MD)).status, 500);
      assert.equal((await s.call("POST", "/_allot/reset", { tenant: DEMO_TENANT_ID }, ADMIN)).status, 200);
      assert.equal((await s.call("GET", MD)).status, 200, "the reset tenant's rule no longer applies, at once");
      const left = (await s.call("GET", "/_allot/faults", undefined, ADMIN)).body.value.map((r: any) => r.id).sort();
      assert.deepEqual(left, [otherRule.id, everyone.id].sort());
      assert.ok(!left.includes(demoRule.id));
      assert.equal((await s.call("POST", "/_allot/reset", { all: true }, ADMIN)).status, 200);
      assert.deepEqual((await s.call("GET", "/_allot/faults", undefined, ADMIN)).body.value, []);
      const device = await enroll(s);
      assert.equal((await s.call("POST", `${MD}/${device}/wipe`, { keepEnrollmentData: false })).status, 204, "the installation-wide rule is gone too");
    });
  });
}

if ((await backendsToTest()).includes("postgres")) {
  describe("fault rules shared by two processes on one PostgreSQL", () => {
    it("'the next N' is taken exactly once across two servers on the same schema", async () => {
      const store = freshStore("postgres");
      const first = await startTestServer("postgres", { store });
      let second: TestServer | undefined;
      try {
        second = await startTestServer("postgres", { store });
        await addRule(first, { method: "GET", path: "managedDevices", count: 6, status: 503 });
        // The second server sees the rule after its next refresh (at most a second).
        await new Promise((r) => setTimeout(r, 1200));
        const calls = [first, second, first, second].flatMap((srv) => Array.from({ length: 5 }, () => srv!.call("GET", `${MD}?$top=1`).then((r) => r.status)));
        const statuses = await Promise.all(calls);
        assert.equal(statuses.filter((x) => x === 503).length, 6);
        assert.equal(statuses.filter((x) => x === 200).length, 14);
      } finally {
        await second?.allot.close();
        await first.allot.close();
        if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
      }
    });
  });
}
