// Graph GETs over the socket are answered by the read listener in front of Fastify (src/server/graphReadListener.ts);
// Fastify's own route answers the same requests through app.inject. Both must give the same status, headers and
// body, but for the request id and the dates.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/allotUnderTest.js";

const USER_1 = "a110c0de-0000-4000-8000-000000000101";
const DEVICE_1 = "a110c0de-0000-4000-8000-000000000201";
const MISSING = "a110c0de-0000-4000-8000-00000000ffff";

/** Headers that differ between any two answers (or that only a real socket carries). */
const VARYING = new Set(["request-id", "client-request-id", "date", "connection", "keep-alive"]);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function comparable(answer: Answer): Answer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) if (!VARYING.has(name)) headers[name] = value;
  // The error envelope repeats the request id and carries the date.
  const body = answer.body.replace(/"(date|request-id|client-request-id)":"[^"]+"/g, '"$1":"{$1}"');
  return { status: answer.status, headers, body };
}

describe("Graph reads: the read listener answers as Fastify's route does", () => {
  let s: TestServer;
  let token: string;
  before(async () => {
    s = await startTestServer("sqlite");
    token = await s.token();
  });
  after(() => s.close());

  async function overSocket(path: string, headers: Record<string, string>): Promise<Answer> {
    const res = await fetch(`${s.url}${path}`, { headers });
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => (out[name] = value));
    return { status: res.status, headers: out, body: await res.text() };
  }

  async function throughFastify(path: string, headers: Record<string, string>): Promise<Answer> {
    const res = await s.allot.app.inject({ method: "GET", url: path, headers: { host: new URL(s.url).host, ...headers } });
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) out[name] = String(value);
    return { status: res.statusCode, headers: out, body: res.body };
  }

  const cases: [string, string, boolean?][] = [
    ["an entity by id", `/beta/users/${USER_1}`],
    ["an Intune entity by id", `/beta/deviceManagement/managedDevices/${DEVICE_1}`],
    ["a missing entity (404)", `/beta/users/${MISSING}`],
    ["a page of a collection", "/beta/users?$top=2"],
    ["$select on v1.0", `/v1.0/users/${USER_1}?$select=displayName,id`],
    ["$count (text)", "/beta/users/$count"],
    ["$metadata (XML)", "/beta/$metadata"],
    ["the service document", "/beta"],
    ["an unknown segment (400)", "/beta/noSuchSet"],
    ["an invalid query option (400)", "/beta/users?$top=x"],
    ["a missing token (401)", "/beta/users", false],
  ];
  for (const [what, path, withToken = true] of cases) {
    it(what, async () => {
      const headers: Record<string, string> = withToken ? { authorization: `Bearer ${token}` } : {};
      const [socket, fastify] = [await overSocket(path, headers), await throughFastify(path, headers)];
      assert.deepEqual(comparable(socket), comparable(fastify));
      assert.match(socket.headers["request-id"] ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(socket.headers["client-request-id"], socket.headers["request-id"]);
    });
  }

  it("a cached entity with multi-byte UTF-8 text: the miss, the hit and Fastify's route send the same bytes and length", async () => {
    const jobTitle = "Ingénieure — 日本語 ✓ 𝄞";
    const patched = await fetch(`${s.url}/beta/users/${USER_1}`, { method: "PATCH", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ jobTitle }) });
    assert.equal(patched.status, 204);
    const path = `/beta/users/${USER_1}`;
    const headers = { authorization: `Bearer ${token}` };
    const [miss, hit, fastify] = [await overSocket(path, headers), await overSocket(path, headers), await throughFastify(path, headers)];
    assert.equal(JSON.parse(hit.body).jobTitle, jobTitle);
    assert.equal(hit.headers["content-length"], String(Buffer.byteLength(hit.body)));
    assert.ok(Buffer.byteLength(hit.body) > hit.body.length);
    assert.deepEqual(comparable(hit), comparable(miss));
    assert.deepEqual(comparable(hit), comparable(fastify));
  });

  it("echoes client-request-id", async () => {
    const res = await overSocket(`/beta/users/${USER_1}`, { authorization: `Bearer ${token}`, "client-request-id": "read-listener-1" });
    assert.equal(res.status, 200);
    assert.equal(res.headers["client-request-id"], "read-listener-1");
    assert.notEqual(res.headers["request-id"], "read-listener-1");
  });

  it("leaves a malformed percent-encoding to Fastify's own answer", async () => {
    const headers = { authorization: `Bearer ${token}` };
    const [socket, fastify] = [await overSocket("/beta/users/%E0%A4%A", headers), await throughFastify("/beta/users/%E0%A4%A", headers)];
    assert.equal(socket.status, 400);
    assert.deepEqual(comparable(socket), comparable(fastify));
  });
});
