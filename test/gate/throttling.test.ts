// Intune throttling (spec §4.8) over real HTTP on both backends, with limits scaled down and the clock frozen so
// every window is deterministic: 429 TooManyRequests with Retry-After and the documented body, per app and per
// tenant, writes apart from all requests, per service family, per $batch item, configurable at run time, and
// one window shared by two processes on one PostgreSQL.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { REAL_LIMITS } from "../../src/gate/throttleLimits.js";
import { backendsToTest, DEMO_TENANT_ID, dropPostgresSchema, freshStore, startTestServer, type TestServer } from "../support/allotUnderTest.js";

const ADMIN = { "x-allot-admin-key": "allot-dev-admin-key" };
const WINDOW = 2;
/** Small limits: devices 3 any per app, 4 per tenant, 2 writes per app; "other" 5 any and 2 writes per app. */
const LIMITS = {
  windowSeconds: WINDOW,
  families: {
    devices: { writes: { tenant: 3, app: 2 }, any: { tenant: 4, app: 3 } },
    other: { writes: { tenant: 10, app: 2 }, any: { tenant: 10, app: 5 } },
  },
};
const DEVICES = "/deviceManagement/managedDevices?$top=1";
const PROFILES = "/deviceManagement/windowsAutopilotDeploymentProfiles";
const profileBody = () => ({ "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile", displayName: `throttle ${randomUUID()}` });

async function mintToken(s: TestServer, tenant: string, clientId: string): Promise<string> {
  const res = await s.call("POST", "/_allot/tokens", { tenant, clientId, roles: ["DeviceManagementManagedDevices.ReadWrite.All", "DeviceManagementServiceConfig.ReadWrite.All"] }, ADMIN);
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

const time = (s: TestServer, body: unknown) => s.call("POST", "/_allot/time", body, ADMIN);
/** Moves the frozen clock into a window no request has touched yet. */
const freshWindow = async (s: TestServer) => assert.equal((await time(s, { freeze: true, advance: WINDOW })).status, 200);

for (const backend of await backendsToTest()) {
  describe(`Intune throttling (${backend})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { throttle: LIMITS, lifecycle: "immediate" });
    });
    after(() => s?.close());

    it("answers 429 TooManyRequests with Retry-After (seconds) and the documented body once an app passes its limit in the 20-second window", async () => {
      await freshWindow(s);
      for (let i = 0; i < 3; i++) assert.equal((await s.call("GET", DEVICES)).status, 200, `request ${i + 1}`);
      const clientRequestId = randomUUID();
      const throttled = await s.call("GET", DEVICES, undefined, { "client-request-id": clientRequestId });
      assert.equal(throttled.status, 429);
      const retryAfter = Number(throttled.headers.get("retry-after"));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW, `Retry-After ${throttled.headers.get("retry-after")}`);
      const { error } = throttled.body;
      assert.equal(error.code, "TooManyRequests");
      assert.equal(error.message, "Please retry again later.");
      assert.deepEqual(Object.keys(error.innerError), ["code", "date", "message", "request-id", "status", "client-request-id"]);
      assert.equal(error.innerError.code, "429");
      assert.equal(error.innerError.message, "Please retry after");
      assert.equal(error.innerError.status, "429");
      assert.match(error.innerError.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      assert.equal(error.innerError["request-id"], throttled.headers.get("request-id"));
      assert.equal(error.innerError["client-request-id"], clientRequestId);
      assert.equal(throttled.headers.get("client-request-id"), clientRequestId);
    });

    it("a client that calls again before its Retry-After has passed is throttled again, and its wait does not restart", async () => {
      await freshWindow(s);
      for (let i = 0; i < 3; i++) await s.call("GET", DEVICES);
      const first = await s.call("GET", DEVICES);
      const again = await s.call("GET", DEVICES);
      assert.equal(first.status, 429);
      assert.equal(again.status, 429);
      // The clock stands still: the same instant has the same wait left, it did not start over.
      assert.equal(again.headers.get("retry-after"), first.headers.get("retry-after"));
      await time(s, { advance: Number(first.headers.get("retry-after")) });
      assert.equal((await s.call("GET", DEVICES)).status, 200);
    });

    it("counts writes (POST/PUT/PATCH/DELETE) apart from all requests, and a throttled write changes nothing", async () => {
      await freshWindow(s);
      const before = (await s.call("GET", `${PROFILES}/$count`)).text;
      assert.equal((await s.call("POST", PROFILES, profileBody())).status, 201);
      assert.equal((await s.call("POST", PROFILES, profileBody())).status, 201);
      const third = await s.call("POST", PROFILES, profileBody());
      assert.equal(third.status, 429);
      // Reads still pass: 5 requests in all so far is within "any" (5), past "writes" (2).
      const count = await s.call("GET", `${PROFILES}/$count`);
      assert.equal(count.status, 200);
      assert.equal(Number(count.text), Number(before) + 2);
      assert.equal((await s.call("GET", PROFILES)).status, 429, "the sixth request of the window is over 'any'");
    });

    it("counts each service family apart, and leaves the directory (not an Intune service) alone", async () => {
      await freshWindow(s);
      for (let i = 0; i < 4; i++) await s.call("GET", DEVICES);
      assert.equal((await s.call("GET", DEVICES)).status, 429);
      assert.equal((await s.call("GET", PROFILES)).status, 200, "Autopilot counts as 'other', not 'devices'");
      // comanagedDevices addresses managedDevice entities too: the devices family, by the model's resolved type.
      assert.equal((await s.call("GET", "/deviceManagement/comanagedDevices")).status, 429);
      for (let i = 0; i < 12; i++) assert.equal((await s.call("GET", "/users?$top=1")).status, 200);
    });

    it("limits a tenant across its apps, and never lets one tenant's traffic throttle another", async () => {
      await freshWindow(s);
      const appB = await mintToken(s, DEMO_TENANT_ID, randomUUID());
      for (let i = 0; i < 3; i++) assert.equal((await s.call("GET", DEVICES)).status, 200);
      const asB = { authorization: `Bearer ${appB}` };
      assert.equal((await s.call("GET", DEVICES, undefined, asB)).status, 200, "the tenant's 4th request");
      const overTenant = await s.call("GET", DEVICES, undefined, asB);
      assert.equal(overTenant.status, 429, "app B has made 2 of its 3, but the tenant is at 5 of 4");
      const other = randomUUID();
      assert.equal((await s.call("PUT", `/_allot/tenants/${other}`, { displayName: "Other tenant" }, ADMIN)).status, 201);
      const otherToken = await mintToken(s, other, randomUUID());
      assert.equal((await s.call("GET", DEVICES, undefined, { authorization: `Bearer ${otherToken}` })).status, 200);
    });

    it("throttles every $batch item on its own: inner 429s with Retry-After, the batch itself 200", async () => {
      await freshWindow(s);
      const requests = Array.from({ length: 5 }, (_, i) => ({ id: String(i + 1), method: "GET", url: DEVICES }));
      const res = await s.call("POST", "/$batch", { requests });
      assert.equal(res.status, 200);
      const statuses = res.body.responses.map((r: { status: number }) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      for (const r of res.body.responses.filter((x: { status: number }) => x.status === 429)) {
        assert.match(r.headers["Retry-After"], /^[12]$/);
        assert.equal(r.body.error.code, "TooManyRequests");
        assert.equal(r.body.error.innerError["request-id"], r.headers["request-id"]);
      }
    });

    it("is configurable at run time through PUT /_allot/throttling (admin key; bad settings are a 400)", async () => {
      assert.equal((await s.call("PUT", "/_allot/throttling", { mode: "off" })).status, 403);
      assert.equal((await s.call("PUT", "/_allot/throttling", { families: { printers: {} } }, ADMIN)).status, 400);
      assert.equal((await s.call("PUT", "/_allot/throttling", { windowSeconds: 0 }, ADMIN)).status, 400);
      const off = await s.call("PUT", "/_allot/throttling", { mode: "off" }, ADMIN);
      assert.equal(off.status, 200);
      assert.equal(off.body.enabled, false);
      await freshWindow(s);
      for (let i = 0; i < 8; i++) assert.equal((await s.call("GET", DEVICES)).status, 200);
      const scaled = await s.call("PUT", "/_allot/throttling", { scale: 0.01 }, ADMIN);
      assert.deepEqual(scaled.body.families.devices, { writes: { tenant: 4, app: 2 }, any: { tenant: 40, app: 20 } });
      assert.equal((await s.call("GET", "/_allot/throttling", undefined, ADMIN)).body.windowSeconds, 20);
      assert.equal((await s.call("PUT", "/_allot/throttling", LIMITS, ADMIN)).status, 200);
    });
  });
}

describe("Intune throttling: defaults", () => {
  it("is on by default with Intune's documented limits (devices 400/200 writes, 4000/2000 any; others 200/100, 2000/1000; 20 s)", async () => {
    const s = await startTestServer("sqlite", { throttle: undefined });
    try {
      const res = await s.call("GET", "/_allot/throttling", undefined, ADMIN);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, REAL_LIMITS);
      assert.deepEqual(res.body.families.devices, { writes: { tenant: 400, app: 200 }, any: { tenant: 4000, app: 2000 } });
      assert.deepEqual(res.body.families.other, { writes: { tenant: 200, app: 100 }, any: { tenant: 2000, app: 1000 } });
    } finally {
      await s.close();
    }
  });
});

if ((await backendsToTest()).includes("postgres")) {
  describe("Intune throttling shared by two processes on one PostgreSQL", () => {
    it("two servers on the same schema count into the same window (the second server's request is the one over the limit) and share the clock", async () => {
      const store = freshStore("postgres");
      const first = await startTestServer("postgres", { store, throttle: LIMITS });
      let second: TestServer | undefined;
      try {
        await freshWindow(first);
        // Started after the freeze, the second server reads the frozen clock from the store.
        second = await startTestServer("postgres", { store, throttle: LIMITS });
        assert.equal((await second.call("GET", "/_allot/time", undefined, ADMIN)).body.now, (await first.call("GET", "/_allot/time", undefined, ADMIN)).body.now);
        for (let i = 0; i < 3; i++) assert.equal((await first.call("GET", DEVICES)).status, 200);
        const fromSecond = await second.call("GET", DEVICES);
        assert.equal(fromSecond.status, 429);
        assert.equal(fromSecond.body.error.code, "TooManyRequests");
        const [row] = await first.allot.db.all<{ hits: number }>("SELECT hits FROM throttle_windows WHERE counter = 'devices:any' ORDER BY window_start DESC LIMIT 1");
        assert.equal(Number(row.hits), 4);
        // A clock change made through one server reaches the other within its one-second refresh.
        const moved = (await time(first, { advance: 60 })).body.now;
        await new Promise((r) => setTimeout(r, 1300));
        assert.equal((await second.call("GET", "/_allot/time", undefined, ADMIN)).body.now, moved);
        assert.equal((await second.call("GET", DEVICES)).status, 200, "the next window, on both servers");
      } finally {
        await second?.allot.close();
        await first.allot.close();
        if (store.kind === "postgres" && store.schema) await dropPostgresSchema(store.schema);
      }
    });
  });
}
