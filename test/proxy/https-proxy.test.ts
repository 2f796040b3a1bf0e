// The HTTPS proxy mode (issue 9): clients with hard-coded Microsoft hosts reach Allot unchanged through
// `--proxy-port` — curl with --proxy/--cacert, Node over a CONNECT tunnel, Python requests with HTTPS_PROXY —
// and the proxy refuses every other host and never dials out.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { MMD_AUDIENCE } from "../../src/identity/authenticate.js";
import { backendsToTest, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, startTestServer, type TestServer } from "../support/allotUnderTest.js";
import { tunnelAgent, tunnelledRequest } from "../support/proxyTunnel.js";

const run = promisify(execFile);
/** A clean environment: no proxy or CA settings of the machine running the tests leak in. */
const cleanEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };

/** Python's requests is optional on a developer machine: without it that one test is skipped, and says so. */
const pythonRequests = await run("python3", ["-c", "import requests"], { env: cleanEnv }).then(() => true, () => false);

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;

/** The status line and body of a raw CONNECT to the proxy. */
function rawConnect(proxyPort: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: proxyPort, method: "CONNECT", path: target, headers: { host: target } });
    // Node reports every answer to a CONNECT here; a refusal's body follows on the socket.
    req.once("connect", (res, socket, head) => {
      if (res.statusCode === 200) {
        socket.destroy();
        return resolve({ status: 200, body: "" });
      }
      let body = head.toString("utf8");
      socket.on("data", (c: Buffer) => (body += c.toString("utf8")));
      socket.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      socket.on("error", reject);
    });
    req.once("error", reject);
    req.end();
  });
}

for (const backend of await backendsToTest()) {
  describe(`HTTPS proxy mode (${backend})`, () => {
    let s: TestServer;
    let dir: string;
    let caPath: string;
    let proxyUrl: string;
    let proxyPort: number;
    const curl = async (...args: string[]) => {
      const { stdout } = await run("curl", ["-sS", "--proxy", proxyUrl, "--cacert", caPath, "-w", "\n%{http_code}", ...args], { env: cleanEnv });
      const cut = stdout.lastIndexOf("\n");
      const text = stdout.slice(0, cut);
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: Number(stdout.slice(cut + 1)), text, body };
    };
    const tokenThroughProxy = async (resource = "https://graph.microsoft.com") => {
      const res = await curl(
        `https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/token`,
        "--data-urlencode", "grant_type=client_credentials",
        "--data-urlencode", `client_id=${DEMO_CLIENT_ID}`,
        "--data-urlencode", `client_secret=${DEMO_CLIENT_SECRET}`,
        "--data-urlencode", `scope=${resource}/.default`,
      );
      assert.equal(res.status, 200, res.text);
      return res.body.access_token as string;
    };

    before(async () => {
      s = await startTestServer(backend, { proxy: { port: 0 } });
      assert.ok(s.allot.proxy?.caCertPem, "an in-memory CA is made when no certificate is given");
      dir = await mkdtemp(join(tmpdir(), "allot-proxy-test-"));
      caPath = join(dir, "ca.pem");
      await writeFile(caPath, s.allot.proxy.caCertPem);
      proxyUrl = s.allot.proxy.url;
      proxyPort = s.allot.proxy.port;
    });
    after(async () => {
      await s?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("curl: a token from https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token carries that host's issuer", async () => {
      const token = await tokenThroughProxy();
      const claims = claimsOf(token);
      assert.equal(claims.iss, `https://login.microsoftonline.com/${DEMO_TENANT_ID}/v2.0`);
      assert.equal(claims.aud, "https://graph.microsoft.com");
    });

    it("curl: a Graph GET on https://graph.microsoft.com/beta answers with graph.microsoft.com in @odata.context and @odata.nextLink", async () => {
      const token = await tokenThroughProxy();
      const res = await curl("-H", `Authorization: Bearer ${token}`, "https://graph.microsoft.com/beta/groups?$top=1&$select=displayName");
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body["@odata.context"], "https://graph.microsoft.com/beta/$metadata#groups(displayName)");
      assert.equal(res.body.value.length, 1);
      assert.match(res.body["@odata.nextLink"], /^https:\/\/graph\.microsoft\.com\/beta\/groups\?/);
      const next = await curl("-H", `Authorization: Bearer ${token}`, res.body["@odata.nextLink"]);
      assert.equal(next.status, 200, next.text);
      assert.equal(next.body.value.length, 1);
      assert.notEqual(next.body.value[0].displayName, res.body.value[0].displayName, "the next link pages on through the proxy");
    });

    it("curl: an MMD GET on https://mmdls.microsoft.com/support/odata/v1/ serves the same tenant", async () => {
      const token = await tokenThroughProxy(MMD_AUDIENCE);
      const res = await curl("-H", `Authorization: Bearer ${token}`, `https://mmdls.microsoft.com/support/odata/v1/tenants/${DEMO_TENANT_ID}/profiles`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.value.some((p: { id: string; status: string }) => p.id === "Standard" && p.status === "Enabled"), res.text);
    });

    it("the same state: an entity created on Allot's own port is read through graph.microsoft.com", async () => {
      const created = await s.call("POST", "/groups", { displayName: "Created directly", mailEnabled: false, mailNickname: "direct", securityEnabled: true });
      assert.equal(created.status, 201, created.text);
      const token = await tokenThroughProxy();
      const res = await curl("-H", `Authorization: Bearer ${token}`, `https://graph.microsoft.com/v1.0/groups/${created.body.id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.displayName, "Created directly");
      assert.equal(res.body["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#groups/$entity");
    });

    it("tokens are valid whichever of Allot's hosts issued them", async () => {
      const viaLogin = await tokenThroughProxy();
      const direct = await s.call("GET", "/groups?$top=1", undefined, { authorization: `Bearer ${viaLogin}` });
      assert.equal(direct.status, 200, "a login.microsoftonline.com token works on Allot's own port");
      const ownToken = await s.token();
      assert.match(String(claimsOf(ownToken).iss), new RegExp(`^${s.url.replace(/[.]/g, "\\.")}/`));
      const proxied = await curl("-H", `Authorization: Bearer ${ownToken}`, "https://graph.microsoft.com/beta/groups?$top=1");
      assert.equal(proxied.status, 200, "a token of Allot's own URL works through graph.microsoft.com");
    });

    it("discovery through login.microsoftonline.com names that host's endpoints and graph.microsoft.com", async () => {
      const res = await curl(`https://login.microsoftonline.com/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.issuer, `https://login.microsoftonline.com/${DEMO_TENANT_ID}/v2.0`);
      assert.equal(res.body.token_endpoint, `https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/token`);
      assert.equal(res.body.jwks_uri, `https://login.microsoftonline.com/${DEMO_TENANT_ID}/discovery/v2.0/keys`);
      assert.equal(res.body.msgraph_host, "graph.microsoft.com");
    });

    it("Node over a CONNECT tunnel: token, Graph GET and MMD GET with the hosts hard-coded", async () => {
      const agent = tunnelAgent(proxyUrl, s.allot.proxy!.caCertPem!);
      try {
        const form = (resource: string) => new URLSearchParams({ grant_type: "client_credentials", client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET, scope: `${resource}/.default` }).toString();
        const tokenUrl = `https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/token`;
        const graphToken = await tunnelledRequest(agent, "POST", tokenUrl, { "content-type": "application/x-www-form-urlencoded" }, form("https://graph.microsoft.com"));
        assert.equal(graphToken.status, 200, graphToken.text);
        const me = await tunnelledRequest(agent, "GET", "https://graph.microsoft.com/beta/groups/a110c0de-0000-4000-8000-000000000501", { authorization: `Bearer ${graphToken.body.access_token}` });
        assert.equal(me.status, 200, me.text);
        assert.equal(me.body["@odata.context"], "https://graph.microsoft.com/beta/$metadata#groups/$entity");
        assert.ok(me.headers["request-id"], "Graph's protocol headers come through the tunnel");
        const mmdToken = await tunnelledRequest(agent, "POST", tokenUrl, { "content-type": "application/x-www-form-urlencoded" }, form(MMD_AUDIENCE));
        const profiles = await tunnelledRequest(agent, "GET", `https://mmdls.microsoft.com/support/odata/v1/tenants/${DEMO_TENANT_ID}/profiles`, { authorization: `Bearer ${mmdToken.body.access_token}` });
        assert.equal(profiles.status, 200, profiles.text);
        assert.deepEqual(profiles.body.value.filter((p: { status: string }) => p.status === "Enabled").map((p: { id: string }) => p.id).sort(), ["PowerUser", "SensitiveData", "Standard"]);
      } finally {
        agent.destroy();
      }
    });

    it("Python requests with HTTPS_PROXY and REQUESTS_CA_BUNDLE reaches graph.microsoft.com", { skip: pythonRequests ? false : "python3 with requests is not installed" }, async () => {
      const script = [
        "import os, requests",
        `t = requests.post('https://login.microsoftonline.com/${DEMO_TENANT_ID}/oauth2/v2.0/token', data={'grant_type': 'client_credentials', 'client_id': '${DEMO_CLIENT_ID}', 'client_secret': '${DEMO_CLIENT_SECRET}', 'scope': 'https://graph.microsoft.com/.default'}, timeout=30)`,
        "t.raise_for_status()",
        "r = requests.get('https://graph.microsoft.com/beta/groups?$top=1', headers={'Authorization': 'Bearer ' + t.json()['access_token']}, timeout=30)",
        "print(r.status_code)",
        "print(r.json()['@odata.context'])",
      ].join("\n");
      const { stdout } = await run("python3", ["-c", script], { env: { ...cleanEnv, HTTPS_PROXY: proxyUrl, REQUESTS_CA_BUNDLE: caPath } });
      assert.deepEqual(stdout.trim().split("\n"), ["200", "https://graph.microsoft.com/beta/$metadata#groups"]);
    });

    it("every other host is refused with 403 and a clear message", async () => {
      const other = await rawConnect(proxyPort, "example.com:443");
      assert.equal(other.status, 403);
      assert.match(other.body, /refuses example\.com:443: it serves only graph\.microsoft\.com, mmdls\.microsoft\.com, login\.microsoftonline\.com on port 443/);
      const wrongPort = await rawConnect(proxyPort, "graph.microsoft.com:80");
      assert.equal(wrongPort.status, 403);
      await assert.rejects(curl("https://www.microsoft.com/"), /403/);
    });

    it("plain-HTTP proxying is refused: only CONNECT tunnels are served", async () => {
      const { stdout } = await run("curl", ["-sS", "--proxy", proxyUrl, "-w", "\n%{http_code}", "http://graph.microsoft.com/beta/groups"], { env: cleanEnv });
      assert.ok(stdout.endsWith("\n405"), stdout);
      assert.match(stdout, /only opens HTTPS tunnels \(CONNECT\)/);
    });

    it("a request naming another host than its tunnel is misdirected (421)", async () => {
      const res = await curl("-H", "Host: evil.example", "https://graph.microsoft.com/beta/groups");
      assert.equal(res.status, 421);
      assert.match(res.text, /opened for graph\.microsoft\.com, not for evil\.example/);
    });

    it("the proxy never dials out: a CONNECT to a listening address reaches nothing", async () => {
      let connections = 0;
      const bystander = createTcpServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => bystander.listen(0, "127.0.0.1", resolve));
      try {
        const port = (bystander.address() as AddressInfo).port;
        const res = await rawConnect(proxyPort, `127.0.0.1:${port}`);
        assert.equal(res.status, 403);
        const host = await rawConnect(proxyPort, `localhost:${port}`);
        assert.equal(host.status, 403);
        assert.equal(connections, 0);
      } finally {
        await new Promise<void>((resolve) => bystander.close(() => resolve()));
      }
    });
  });
}
