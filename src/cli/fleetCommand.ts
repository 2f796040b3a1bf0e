// `allot fleet`: creates a synthetic fleet on a running server through POST /_allot/fleet, the devices in batches
// (users and groups with the first one), with a progress bar on stderr and the totals on stdout.

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { parseArgs } from "node:util";
import { ProgressBar } from "./progressBar.js";

export const fleetUsage = `  allot fleet --devices N [--users U] [--groups G] [--autopilot] [--seed S] [--batch 50000] [--json]
              [--url http://127.0.0.1:4680] [--token TOKEN | --tenant ID --client-id ID --client-secret SECRET]
      Creates N devices (with their Entra devices and, with --autopilot, Autopilot identities), U users and
      G groups in the token's tenant, N/batch calls of one transaction each.
`;

export interface FleetTotals {
  devices: number;
  users: number;
  groups: number;
  autopilotDevices: number;
  memberships: number;
}

export interface FleetCommandDefaults {
  url: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  fetchToken(url: string, tenant: string, clientId: string, secret: string): Promise<string>;
}

/** A count option; `1_000_000` is accepted too. */
function count(name: string, text: string | undefined, min: number): number {
  const digits = text?.replace(/_/g, "");
  const n = digits !== undefined && /^\d+$/.test(digits) ? Number(digits) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: expected an integer of at least ${min}, got ${text ?? "nothing"}`);
  return n;
}

/** POST without fetch's five-minute header timeout: one large batch may legitimately take longer. */
function post(url: string, token: string, body: unknown): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(body);
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { error: { message: text } } });
        }
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

export async function fleetCommand(argv: string[], defaults: FleetCommandDefaults) {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: "string" },
      users: { type: "string", default: "0" },
      groups: { type: "string", default: "0" },
      autopilot: { type: "boolean", default: false },
      seed: { type: "string" },
      batch: { type: "string", default: "50000" },
      json: { type: "boolean", default: false },
      url: { type: "string", default: defaults.url },
      token: { type: "string" },
      tenant: { type: "string", default: defaults.tenant },
      "client-id": { type: "string", default: defaults.clientId },
      "client-secret": { type: "string", default: defaults.clientSecret },
    },
  });
  const devices = count("devices", values.devices, 0);
  const users = count("users", values.users, 0);
  const groups = count("groups", values.groups, 0);
  const batch = count("batch", values.batch, 1);
  const url = values.url!.replace(/\/+$/, "");
  const token = values.token ?? (await defaults.fetchToken(url, values.tenant!, values["client-id"]!, values["client-secret"]!));

  const totals: FleetTotals = { devices: 0, users: 0, groups: 0, autopilotDevices: 0, memberships: 0 };
  const bar = new ProgressBar(process.stderr, devices, "devices");
  const started = performance.now();
  bar.update(0);
  for (let first = true; first || totals.devices < devices; first = false) {
    const body = {
      devices: Math.min(batch, devices - totals.devices),
      autopilot: values.autopilot,
      ...(first ? { users, groups } : {}),
      ...(values.seed !== undefined ? { seed: values.seed } : {}),
    };
    const res = await post(`${url}/_allot/fleet`, token, body);
    if (res.status !== 201) {
      bar.finish();
      throw new Error(`the batch after ${totals.devices.toLocaleString("en-US")} devices failed (${res.status}): ${res.body?.error?.message ?? JSON.stringify(res.body)}`);
    }
    for (const k of Object.keys(totals) as (keyof FleetTotals)[]) totals[k] += Number(res.body[k] ?? 0);
    bar.update(totals.devices);
  }
  bar.finish();
  const seconds = (performance.now() - started) / 1000;
  const devicesPerSecond = seconds > 0 ? Math.round(totals.devices / seconds) : 0;
  if (values.json) {
    console.log(JSON.stringify({ ...totals, seconds: Math.round(seconds * 1000) / 1000, devicesPerSecond }));
    return;
  }
  const n = (v: number) => v.toLocaleString("en-US");
  console.log(
    `Created ${n(totals.devices)} devices (${n(totals.autopilotDevices)} with an Autopilot identity), ${n(totals.users)} users, ` +
      `${n(totals.groups)} groups and ${n(totals.memberships)} group memberships in ${seconds.toFixed(1)} s (${n(devicesPerSecond)} devices/s).`,
  );
}
