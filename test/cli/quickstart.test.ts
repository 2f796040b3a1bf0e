// The `allot` command as a user runs it: a real child process, its printed URL and token, a clean stop on
// SIGTERM, and state (and nextLinks) that survive a restart on the file-backed store.

import assert from "node:assert/strict";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";

const BIN = join(import.meta.dirname, "../../bin/allot.mjs");

interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'listening on' within 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => reject(new Error(`allot serve exited with ${code}:\n${out}`)));
  });
}

function stop(s: Served, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.removeAllListeners("exit");
    s.child.on("exit", (code) => resolve(code));
    s.child.kill(signal);
  });
}

describe("allot CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "allot-cli-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serve prints the URL, the demo credentials and a working token; token fetches another; SIGTERM stops cleanly", async () => {
    const s = await serve(["--data", join(dir, "one")]);
    const out = s.output();
    assert.match(out, /a110c0de-0000-4000-8000-000000000001/);
    assert.match(out, /client secret: allot-dev-secret/);
    const printed = /token:\s+(\S+)/.exec(out)![1];
    const res = await fetch(`${s.url}/beta/users/$count`, { headers: { authorization: `Bearer ${printed}` } });
    assert.equal(await res.text(), "3");
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, "token", "--url", s.url]);
    const fetched = stdout.trim();
    assert.equal(fetched.split(".").length, 3);
    assert.equal((await fetch(`${s.url}/beta/users`, { headers: { authorization: `Bearer ${fetched}` } })).status, 200);
    assert.ok(existsSync(join(dir, "one", "allot.db")), "the SQLite file lives in the data directory");
    const claims = (t: string) => JSON.parse(Buffer.from(t.split(".")[1], "base64url").toString());
    const reader = (await promisify(execFile)(process.execPath, [BIN, "token", "--url", s.url, "--roles", "User.Read.All,Group.Read.All"])).stdout.trim();
    assert.deepEqual(claims(reader).roles, ["User.Read.All", "Group.Read.All"]);
    assert.equal((await fetch(`${s.url}/beta/devices`, { headers: { authorization: `Bearer ${reader}` } })).status, 403);
    const user = (await promisify(execFile)(process.execPath, [BIN, "token", "--url", s.url, "--user", "adele@allotdemo.onmicrosoft.com", "--scopes", "User.Read.All", "--audience", "graph"])).stdout.trim();
    assert.equal(claims(user).upn, "adele@allotdemo.onmicrosoft.com");
    assert.equal(claims(user).scp, "User.Read.All");
    const mmd = (await promisify(execFile)(process.execPath, [BIN, "token", "--url", s.url, "--audience", "mmd"])).stdout.trim();
    assert.deepEqual([claims(mmd).aud, claims(mmd).roles], ["https://mwaas-services-customerapi-prod.azurewebsites.net", ["MmdSupport.ReadWrite"]]);
    assert.equal(await stop(s), 0);
    assert.match(s.output(), /stopped/);
  });

  it("state and nextLinks survive a restart, and the demo seed is not applied twice", async () => {
    const data = join(dir, "two");
    const first = await serve(["--data", data]);
    const token = /token:\s+(\S+)/.exec(first.output())![1];
    const h = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${first.url}/beta/groups`, { method: "POST", headers: h, body: JSON.stringify({ displayName: `Persisted ${i}`, mailEnabled: false, mailNickname: `p${i}`, securityEnabled: true }) });
      assert.equal(r.status, 201);
    }
    const page = await (await fetch(`${first.url}/beta/groups?$filter=startswith(displayName,'Persisted')&$top=2`, { headers: h })).json();
    const nextLink: string = page["@odata.nextLink"];
    assert.ok(nextLink);
    assert.equal(await stop(first, "SIGINT"), 0);

    const second = await serve(["--data", data, "--port", new URL(first.url).port]);
    try {
      const h2 = { authorization: `Bearer ${/token:\s+(\S+)/.exec(second.output())![1]}` };
      const names: string[] = [];
      let url: string | undefined = nextLink;
      while (url) {
        const body: any = await (await fetch(url, { headers: h2 })).json();
        names.push(...body.value.map((g: any) => g.displayName));
        url = body["@odata.nextLink"];
      }
      assert.deepEqual(names, ["Persisted 2", "Persisted 3", "Persisted 4"], "a nextLink from before the restart still works");
      assert.equal(await (await fetch(`${second.url}/beta/users/$count`, { headers: h2 })).text(), "3", "the seed is applied only to an empty store");
      assert.equal((await fetch(`${second.url}/beta/users`, { headers: { authorization: `Bearer ${token}` } })).status, 200, "tokens survive a restart");
    } finally {
      await stop(second);
    }
  });

  it("--https creates a local CA and serves TLS that trusts it", async () => {
    const data = join(dir, "tls");
    const s = await serve(["--data", data, "--in-memory", "--https"]);
    try {
      assert.match(s.url, /^https:\/\//);
      const caPath = /NODE_EXTRA_CA_CERTS=([^\s)]+)/.exec(s.output())![1];
      assert.ok(existsSync(caPath));
      const { stdout } = await promisify(execFile)("curl", ["-s", "--cacert", caPath, `${s.url}/_allot/health`]);
      assert.equal(JSON.parse(stdout).status, "ok");
      await assert.rejects(promisify(execFile)("curl", ["-s", "--fail", `${s.url}/_allot/health`]), "without the CA the certificate is not trusted");
    } finally {
      await stop(s);
    }
  });

  it("--proxy-port prints the proxy and the CA, keeps the proxy certificate in the data dir, and curl reaches graph.microsoft.com", async () => {
    const data = join(dir, "proxy");
    const s = await serve(["--data", data, "--proxy-port", "0"]);
    try {
      const proxyUrl = /proxy:\s+(http:\/\/\S+)/.exec(s.output())![1];
      const caPath = /CA:\s+(\S+)/.exec(s.output())![1];
      assert.equal(caPath, join(data, "tls", "ca.pem"));
      assert.ok(existsSync(join(data, "tls", "proxy.pem")));
      const { stdout } = await promisify(execFile)("curl", ["-s", "--proxy", proxyUrl, "--cacert", caPath, "https://graph.microsoft.com/beta/$metadata"], { env: { PATH: process.env.PATH } });
      assert.match(stdout, /<edmx:Edmx/);
    } finally {
      assert.equal(await stop(s), 0);
    }
  });

  it("--seed none starts an empty installation; a bad option fails with a message", async () => {
    const s = await serve(["--in-memory", "--data", join(dir, "none"), "--seed", "none"]);
    try {
      assert.doesNotMatch(s.output(), /client secret/);
      const res = await fetch(`${s.url}/a110c0de-0000-4000-8000-000000000001/oauth2/v2.0/token`, { method: "POST", body: "grant_type=client_credentials" });
      assert.equal(res.status, 400);
    } finally {
      await stop(s);
    }
    await assert.rejects(promisify(execFile)(process.execPath, [BIN, "serve", "--port", "nope"]), /not a port number/);
  });

  it("--throttle takes off, scale=<factor> and a file of custom limits; a bad value fails with a message", async () => {
    const admin = { "x-allot-admin-key": "allot-dev-admin-key" };
    const limitsFile = join(dir, "limits.json");
    writeFileSync(limitsFile, JSON.stringify({ windowSeconds: 5, families: { devices: { writes: { app: 7 } } } }));
    for (const [flag, check] of [
      ["off", (l: any) => assert.equal(l.enabled, false)],
      ["scale=0.5", (l: any) => assert.deepEqual(l.families.devices.any, { tenant: 2000, app: 1000 })],
      [limitsFile, (l: any) => assert.deepEqual([l.windowSeconds, l.families.devices.writes.app, l.families.devices.writes.tenant], [5, 7, 400])],
    ] as const) {
      const s = await serve(["--in-memory", "--data", join(dir, "throttle"), "--throttle", flag]);
      try {
        check(await (await fetch(`${s.url}/_allot/throttling`, { headers: admin })).json());
      } finally {
        await stop(s);
      }
    }
    await assert.rejects(promisify(execFile)(process.execPath, [BIN, "serve", "--in-memory", "--throttle", "sometimes"]), /--throttle/);
  });
});
