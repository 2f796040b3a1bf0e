// The `allot` command: `serve` runs a server, `token` fetches an access token from a running one, `fleet` fills
// one with a synthetic fleet.

import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startAllot, DEFAULT_ADMIN_KEY, type StoreOption } from "../server/allotServer.js";
import { ensureLocalCertificateAuthority, ensureServerCertificate, inMemoryCertificateAuthority, issueServerCertificate } from "../server/localCertificateAuthority.js";
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from "../seed/demoTenant.js";
import { MMD_AUDIENCE } from "../identity/authenticate.js";
import { readFile, rm, writeFile } from "node:fs/promises";
import { PROXIED_HOSTS } from "../server/httpsProxy.js";
import { parseLifecycleTiming } from "../engine/lifecycleTiming.js";
import { parseThrottleFlag } from "../gate/throttleLimits.js";
import { fleetCommand, fleetUsage } from "./fleetCommand.js";

const DEFAULT_PORT = 4680;

const usage = `Usage:
  allot serve [--port 4680] [--host 127.0.0.1] [--data ./.allot | --in-memory | --database-url postgres://… [--database-schema allot]]
              [--seed demo|none|FILE] [--https | --cert FILE --key FILE] [--public-url URL] [--admin-key KEY]
              [--page-size 1000] [--trust-issuer URL]... [--tenant-claim tid]
              [--lifecycle immediate|<n>s|<n>reads] [--throttle off|real|scale=<factor>|FILE|JSON]
              [--proxy-port P] [--replication-lag 2s] [--log]
  allot token [--url http://127.0.0.1:4680] [--tenant ID] [--client-id ID] [--client-secret SECRET] [--audience graph|mmd|URI]
              [--roles R1,R2] [--scopes S1,S2] [--user UPN] [--admin-key KEY]
      With --roles, --scopes or --user the token is minted by the control plane (admin key) with exactly
      those permissions; otherwise it comes from the token endpoint (client credentials).
${fleetUsage}`;

async function serve(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: String(DEFAULT_PORT) },
      host: { type: "string", default: "127.0.0.1" },
      data: { type: "string", default: "./.allot" },
      "in-memory": { type: "boolean", default: false },
      "database-url": { type: "string" },
      "database-schema": { type: "string", default: "allot" },
      seed: { type: "string", default: "demo" },
      https: { type: "boolean", default: false },
      cert: { type: "string" },
      key: { type: "string" },
      "public-url": { type: "string" },
      "admin-key": { type: "string", default: process.env.ALLOT_ADMIN_KEY ?? DEFAULT_ADMIN_KEY },
      "page-size": { type: "string", default: "1000" },
      "trust-issuer": { type: "string", multiple: true, default: [] },
      "tenant-claim": { type: "string", default: "tid" },
      lifecycle: { type: "string" },
      throttle: { type: "string" },
      "proxy-port": { type: "string" },
      "replication-lag": { type: "string", default: "off" },
      log: { type: "boolean", default: false },
    },
  });
  const dataDir = resolve(values.data!);
  mkdirSync(dataDir, { recursive: true });
  const store: StoreOption = values["database-url"]
    ? { kind: "postgres", url: values["database-url"], schema: values["database-schema"] }
    : { kind: "sqlite", file: values["in-memory"] ? ":memory:" : join(dataDir, "allot.db") };
  let tls: { certPem: string; keyPem: string } | undefined;
  let caPath: string | undefined;
  if (values.cert || values.key) {
    if (!values.cert || !values.key) throw new Error("--cert and --key go together");
    tls = { certPem: await readFile(values.cert, "utf8"), keyPem: await readFile(values.key, "utf8") };
  } else if (values.https) {
    const dir = join(dataDir, "tls");
    caPath = (await ensureLocalCertificateAuthority(dir)).caCertPath;
    tls = await ensureServerCertificate(dir, ["localhost", "127.0.0.1", "::1", values.host!]);
  }
  if (values.lifecycle !== undefined) parseLifecycleTiming(values.lifecycle);
  let throttle: string | undefined = values.throttle;
  if (throttle !== undefined && !/^(off|real|scale=.*)$/.test(throttle.trim()) && !throttle.trim().startsWith("{")) {
    throttle = await readFile(throttle, "utf8").catch(() => {
      throw new Error(`--throttle: '${values.throttle}' is not off, real, scale=<factor>, JSON limits or a readable file`);
    });
  }
  if (throttle !== undefined) parseThrottleFlag(throttle);
  let proxy: { port: number; certificate?: { certPem: string; keyPem: string }; caPath: string } | undefined;
  let temporaryCaPath: string | undefined;
  if (values["proxy-port"] !== undefined) {
    const proxyPort = Number(values["proxy-port"]);
    if (!Number.isInteger(proxyPort) || proxyPort < 0 || proxyPort > 65535) throw new Error(`--proxy-port: not a port number: ${values["proxy-port"]}`);
    if (values["in-memory"]) {
      // The CA's key stays in memory; only its certificate is written, for clients to trust.
      const ca = inMemoryCertificateAuthority();
      const caPath = join(tmpdir(), `allot-proxy-ca-${process.pid}.pem`);
      await writeFile(caPath, ca.caCertPem, { mode: 0o644 });
      temporaryCaPath = caPath;
      proxy = { port: proxyPort, certificate: issueServerCertificate(ca, [...PROXIED_HOSTS]), caPath };
    } else {
      const dir = join(dataDir, "tls");
      const caPathOnDisk = (await ensureLocalCertificateAuthority(dir)).caCertPath;
      proxy = { port: proxyPort, certificate: await ensureServerCertificate(dir, [...PROXIED_HOSTS], new Date(), "proxy"), caPath: caPathOnDisk };
    }
    caPath = proxy.caPath;
  }
  const port = Number(values.port);
  const pageSize = Number(values["page-size"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`--page-size: not a positive integer: ${values["page-size"]}`);
  const allot = await startAllot({
    port,
    host: values.host!,
    store,
    seed: values.seed!,
    tls,
    publicUrl: values["public-url"],
    adminKey: values["admin-key"],
    maxPageSize: pageSize,
    trustIssuers: values["trust-issuer"],
    tenantClaim: values["tenant-claim"],
    lifecycle: values.lifecycle,
    throttle,
    replicationLag: values["replication-lag"],
    logger: values.log,
    ...(proxy ? { proxy: { port: proxy.port, certificate: proxy.certificate } } : {}),
  });
  const token = await fetchToken(allot.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, "https://graph.microsoft.com/.default").catch(() => undefined);
  const lines = [
    `Allot listening on ${allot.url}`,
    `  store:         ${allot.db.description}`,
    `  Graph:         ${allot.url}/beta  and  ${allot.url}/v1.0`,
    `  token URL:     ${allot.url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`,
    ...(values.seed === "demo"
      ? [`  demo tenant:   ${DEMO_TENANT_ID}`, `  client id:     ${DEMO_CLIENT_ID}`, `  client secret: ${DEMO_CLIENT_SECRET}`]
      : []),
    ...(allot.proxy
      ? [`  proxy:         ${allot.proxy.url}   (CONNECT to ${PROXIED_HOSTS.join(", ")} only; e.g. HTTPS_PROXY=${allot.proxy.url})`]
      : []),
    ...(caPath ? [`  CA:            ${caPath}   (export NODE_EXTRA_CA_CERTS=${caPath}) also for curl --cacert, REQUESTS_CA_BUNDLE`] : []),
    ...(token ? [`  token:         ${token}`] : []),
  ];
  console.log(lines.join("\n"));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (finishing requests in flight)…`);
    await allot.close();
    if (temporaryCaPath) await rm(temporaryCaPath, { force: true });
    console.log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

async function fetchToken(url: string, tenant: string, clientId: string, secret: string, scope: string): Promise<string> {
  const res = await fetch(`${url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(body.error_description ?? `token request failed with ${res.status}`);
  return body.access_token;
}

async function token(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string", default: `http://127.0.0.1:${DEFAULT_PORT}` },
      tenant: { type: "string", default: DEMO_TENANT_ID },
      "client-id": { type: "string", default: DEMO_CLIENT_ID },
      "client-secret": { type: "string", default: DEMO_CLIENT_SECRET },
      audience: { type: "string", default: "graph" },
      roles: { type: "string" },
      scopes: { type: "string" },
      user: { type: "string" },
      "admin-key": { type: "string", default: process.env.ALLOT_ADMIN_KEY ?? DEFAULT_ADMIN_KEY },
    },
  });
  const url = values.url!.replace(/\/+$/, "");
  const list = (v: string | undefined) => (v === undefined ? undefined : v.split(",").map((x) => x.trim()).filter((x) => x !== ""));
  if (values.roles !== undefined || values.scopes !== undefined || values.user !== undefined) {
    const res = await fetch(`${url}/_allot/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-allot-admin-key": values["admin-key"]! },
      body: JSON.stringify({
        tenant: values.tenant,
        clientId: values["client-id"],
        roles: list(values.roles),
        scopes: list(values.scopes),
        user: values.user,
        audience: values.audience,
      }),
    });
    const body = (await res.json()) as { access_token?: string; error?: { message: string } };
    if (!res.ok || !body.access_token) throw new Error(body.error?.message ?? `token request failed with ${res.status}`);
    console.log(body.access_token);
    return;
  }
  const resource = values.audience === "graph" ? "https://graph.microsoft.com" : values.audience === "mmd" ? MMD_AUDIENCE : values.audience!;
  console.log(await fetchToken(url, values.tenant!, values["client-id"]!, values["client-secret"]!, `${resource}/.default`));
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === "serve") await serve(rest);
  else if (command === "token") await token(rest);
  else if (command === "fleet") {
    await fleetCommand(rest, {
      url: `http://127.0.0.1:${DEFAULT_PORT}`,
      tenant: DEMO_TENANT_ID,
      clientId: DEMO_CLIENT_ID,
      clientSecret: DEMO_CLIENT_SECRET,
      fetchToken: (url, tenant, clientId, secret) => fetchToken(url, tenant, clientId, secret, "https://graph.microsoft.com/.default"),
    });
  }
  else {
    process.stderr.write(usage);
    process.exit(command === undefined || command === "help" || command === "--help" ? 0 : 2);
  }
} catch (e) {
  process.stderr.write(`allot: ${(e as Error).message}\n`);
  process.exit(1);
}
