// Microsoft's own client libraries against a real Allot over real HTTP(S), on every backend:
// @azure/identity's ClientSecretCredential (client credentials against Allot's authority), the v3 Graph client
// (`@microsoft/microsoft-graph-client`) and the Kiota core SDK (`@microsoft/msgraph-beta-sdk`), each doing a
// directory round trip — create groups, add/remove members, page a filtered list to the end, read a dynamic group,
// and see a 404 arrive as the client's own error type.

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Dispatcher } from "undici-types";
import { ClientSecretCredential } from "@azure/identity";
import { BatchRequestContent, BatchResponseContent, Client, GraphError, PageIterator } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  HttpMethod,
  RequestInformation,
  type ErrorMappings,
} from "@microsoft/kiota-abstractions";
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk";
import {
  createDirectoryObjectCollectionResponseFromDiscriminatorValue,
  createGroupCollectionResponseFromDiscriminatorValue,
  createGroupFromDiscriminatorValue,
  createManagedDeviceCollectionResponseFromDiscriminatorValue,
  type ManagedDeviceCollectionResponse,
  serializeGroup,
  serializeReferenceCreate,
  type DirectoryObjectCollectionResponse,
  type Group,
  type GroupCollectionResponse,
} from "@microsoft/msgraph-beta-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue, type ODataError } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js";
import { PageIterator as KiotaPageIterator, type PageCollection } from "@microsoft/msgraph-sdk-core";
import { ensureLocalCertificateAuthority, issueServerCertificate } from "../../src/server/localCertificateAuthority.js";
import { backendsToTest, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, startTestServer, tokenFor, type TestServer } from "../support/allotUnderTest.js";

const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
const ADELE = "a110c0de-0000-4000-8000-000000000101";
const MEGAN = "a110c0de-0000-4000-8000-000000000102";
const NESTOR = "a110c0de-0000-4000-8000-000000000103";
/** The demo device tagged `[OrderID]:Microsoft365Managed_Standard`; the other two carry other tags. */
const STANDARD_DEVICE = "a110c0de-0000-4000-8000-000000000201";
const STANDARD_RULE = '(device.devicePhysicalIds -any (_ -eq "[OrderID]:Microsoft365Managed_Standard"))';

/** Three display names sharing a prefix nothing else in the tenant starts with. */
const groupNames = (client: string) => {
  const prefix = `${client} ${randomBytes(4).toString("hex")} `;
  return { prefix, names: ["alpha", "bravo", "charlie"].map((n) => prefix + n) };
};
const groupBody = (displayName: string, extra: Record<string, unknown> = {}) => ({
  displayName,
  mailEnabled: false,
  mailNickname: displayName.replace(/\W/g, "").toLowerCase(),
  securityEnabled: true,
  ...extra,
});
const sorted = (values: Iterable<string>) => [...values].sort();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Node's fetch options; the `dispatcher` field is missing from the DOM RequestInit type a dependency pulls in. */
type NodeFetchInit = RequestInit & { dispatcher?: Dispatcher };

/**
 * An undici Agent trusting `caPem`, for the `dispatcher` fetch option. Node 20's global fetch is undici built into
 * Node: it ignores https.globalAgent, and NODE_EXTRA_CA_CERTS is read only at process start. The `undici` package
 * (which exports Agent) is not installed, but the global dispatcher Node's fetch creates on first use is registered
 * under undici's interop symbol and is an Agent, so its constructor builds one with `connect: { ca }`.
 */
async function fetchDispatcherTrusting(caPem: string, anyUrl: string): Promise<Dispatcher> {
  const key = Symbol.for("undici.globalDispatcher.1");
  if (!(key in globalThis)) await fetch(anyUrl).catch(() => undefined);
  const globalDispatcher = (globalThis as Record<symbol, unknown>)[key] as object | undefined;
  assert.ok(globalDispatcher, "Node's fetch registered no global undici dispatcher");
  const Agent = globalDispatcher.constructor as new (options: { connect: { ca: string } }) => Dispatcher;
  return new Agent({ connect: { ca: caPem } });
}

/** The ODataError a Kiota call rejected with, or a failure if it resolved. Kiota throws the deserialized model
 * itself, a plain object (not an Error instance) carrying `responseStatusCode`. */
async function kiotaError(call: Promise<unknown>): Promise<ODataError> {
  try {
    await call;
  } catch (e) {
    assert.ok(e && typeof e === "object" && "responseStatusCode" in e, "the rejection is not a Kiota API error");
    return e as ODataError;
  }
  assert.fail("the request succeeded; an ODataError was expected");
}

const ADMIN_HEADERS = { "x-allot-admin-key": "allot-dev-admin-key", "content-type": "application/json" };

/**
 * Runs `call` (a client request) into Intune throttling and out of it: an app may make one managed-device request
 * per 2-second window; with the clock frozen, a first request fills the window, `call` is refused with a
 * Retry-After, the clock then moves past the window while the client waits, and the client's retry succeeds.
 * Answers the app's hit counts per window, oldest first, to show the refused attempt happened.
 */
async function throughThrottling<T>(s: TestServer, fetchInit: NodeFetchInit, appId: string, fill: () => Promise<unknown>, call: () => Promise<T>): Promise<{ result: T; hits: number[] }> {
  const control = (method: string, path: string, body: unknown) =>
    fetch(`${s.url}${path}`, { method, headers: ADMIN_HEADERS, body: JSON.stringify(body), ...fetchInit } as NodeFetchInit).then(async (r) => {
      assert.equal(r.status, 200, await r.text());
    });
  await control("PUT", "/_allot/throttling", { windowSeconds: 2, families: { devices: { any: { tenant: 100, app: 1 } } } });
  await control("POST", "/_allot/time", { freeze: true, advance: 2 });
  try {
    await fill();
    const hitsPerWindow = async () =>
      (
        await s.allot.db.all<{ hits: number }>(`SELECT hits FROM throttle_windows WHERE counter = ${s.allot.db.dialect.param(1)} ORDER BY window_start`, [
          `devices:any:${appId}`,
        ])
      ).map((r) => Number(r.hits));
    const pending = call();
    // Once the client's first attempt has been counted (and refused) in the full window, the clock moves past
    // it; the client's retry, after its Retry-After, lands in the next window.
    const deadline = Date.now() + 10_000;
    while ((await hitsPerWindow()).at(-1)! < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await control("POST", "/_allot/time", { advance: 2 });
    const result = await pending;
    return { result, hits: (await hitsPerWindow()).slice(-2) };
  } finally {
    await control("PUT", "/_allot/throttling", { mode: "real" });
    await control("POST", "/_allot/time", { reset: true });
  }
}

for (const backend of await backendsToTest()) {
  describe(`Microsoft client libraries (${backend})`, () => {
    let certDir: string;
    let caPem: string;
    /** Fetch options that make Node's fetch (hence the v3 client) trust the CA; see fetchDispatcherTrusting. */
    let trustCa: NodeFetchInit;
    /** Allot over https, for @azure/identity and the v3 client. */
    let tls: TestServer;
    /** Allot over plain http, for Kiota (which allows http to localhost). */
    let plain: TestServer;

    before(async () => {
      certDir = await mkdtemp(join(tmpdir(), "allot-clients-ca-"));
      const ca = await ensureLocalCertificateAuthority(certDir);
      caPem = ca.caCertPem;
      tls = await startTestServer(backend, { tls: issueServerCertificate(ca, ["127.0.0.1", "localhost"]) });
      plain = await startTestServer(backend);
      trustCa = { dispatcher: await fetchDispatcherTrusting(caPem, plain.url) };
    });
    after(async () => {
      await trustCa?.dispatcher?.close();
      await tls?.close();
      await plain?.close();
      await rm(certDir, { recursive: true, force: true });
    });

    // @azure/identity sends through @azure/core-rest-pipeline on node:https with keep-alive agents of its own (so
    // https.globalAgent's options do not reach it); its `tlsOptions.ca` pipeline option is the way to trust the CA.
    const credential = (secret = DEMO_CLIENT_SECRET) =>
      new ClientSecretCredential(DEMO_TENANT_ID, DEMO_CLIENT_ID, secret, {
        authorityHost: tls.url,
        disableInstanceDiscovery: true,
        tlsOptions: { ca: caPem },
      });

    it("serves https with a certificate only the local CA vouches for", async () => {
      await assert.rejects(fetch(`${tls.url}/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`), (e: Error & { cause?: { code?: string } }) => {
        assert.equal(e.cause?.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
        return true;
      });
      const discovery = await fetch(`${tls.url}/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`, trustCa);
      assert.equal(discovery.status, 200);
      assert.equal((await discovery.json()).token_endpoint, `${tls.url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`);
    });

    describe("@azure/identity ClientSecretCredential", () => {
      it("gets a Graph token for the demo app through Allot's authority (discovery + token endpoint)", async () => {
        const token = await credential().getToken(GRAPH_SCOPE);
        assert.ok(token, "getToken returned null");
        assert.ok(token.expiresOnTimestamp > Date.now() + 60_000, "the token expires within a minute");
        const claims = JSON.parse(Buffer.from(token.token.split(".")[1]!, "base64url").toString("utf8"));
        assert.equal(claims.tid, DEMO_TENANT_ID);
        assert.equal(claims.appid ?? claims.azp, DEMO_CLIENT_ID);
        assert.equal(claims.aud, "https://graph.microsoft.com");
        // Allot's Graph accepts it.
        const res = await fetch(`${tls.graph}/groups?$top=1`, { ...trustCa, headers: { authorization: `Bearer ${token.token}` } });
        assert.equal(res.status, 200);
      });

      it("rejects a wrong client secret with invalid_client / AADSTS7000215", async () => {
        await assert.rejects(credential("not-the-secret").getToken(GRAPH_SCOPE), (e: Error) => {
          assert.match(e.message, /invalid_client/);
          assert.match(e.message, /AADSTS7000215/);
          return true;
        });
      });
    });

    describe("v3 Graph client (@microsoft/microsoft-graph-client)", () => {
      let client: Client;
      before(() => {
        client = Client.initWithMiddleware({
          baseUrl: `${tls.url}/`,
          defaultVersion: "beta",
          customHosts: new Set(["127.0.0.1"]),
          authProvider: new TokenCredentialAuthenticationProvider(credential(), { scopes: [GRAPH_SCOPE] }),
          fetchOptions: trustCa,
        });
      });

      const memberIds = async (groupId: string) => {
        const page = await client.api(`/groups/${groupId}/members`).select("id").get();
        return sorted(page.value.map((m: { id: string }) => m.id));
      };

      it("creates groups, adds members by $ref, and pages a $filter/$top=1 list to the end", async () => {
        const { prefix, names } = groupNames("v3");
        const created: Array<{ id: string; displayName: string }> = [];
        for (const name of names) created.push(await client.api("/groups").post(groupBody(name)));
        assert.deepEqual(created.map((g) => g.displayName), names);
        for (const g of created) assert.match(g.id, UUID);

        const [alpha] = created;
        for (const user of [ADELE, MEGAN]) {
          await client.api(`/groups/${alpha!.id}/members/$ref`).post({ "@odata.id": `${tls.graph}/directoryObjects/${user}` });
        }
        assert.deepEqual(await memberIds(alpha!.id), [ADELE, MEGAN]);

        const firstPage = async () => client.api("/groups").filter(`startswith(displayName,'${prefix}')`).top(1).get();

        // The client's PageIterator follows @odata.nextLink until there is none.
        const viaIterator: string[] = [];
        const iterator = new PageIterator(client, await firstPage(), (g: { id: string }) => {
          viaIterator.push(g.id);
          return true;
        });
        await iterator.iterate();
        assert.ok(iterator.isComplete());
        assert.deepEqual(sorted(viaIterator), sorted(created.map((g) => g.id)));
        assert.equal(viaIterator.length, 3);

        // The same by hand: every page holds one group and an absolute nextLink, until the last.
        const viaLinks: string[] = [];
        let page = await firstPage();
        let pages = 1;
        for (;;) {
          assert.equal(page.value.length, 1, `page ${pages} holds ${page.value.length} groups`);
          viaLinks.push(page.value[0].id);
          const next: string | undefined = page["@odata.nextLink"];
          if (!next) break;
          assert.ok(next.startsWith(`${tls.graph}/groups?`), `nextLink ${next} is not an absolute URL of this server`);
          page = await client.api(next).get();
          pages++;
          assert.ok(pages <= 3, "more than 3 pages for 3 groups");
        }
        assert.deepEqual(sorted(viaLinks), sorted(created.map((g) => g.id)));
        assert.equal(viaLinks.length, 3);
      });

      it("managed devices: a $filter/$top list paged to the end, and a wipe through the v3 client", async () => {
        const token = (await credential().getToken(GRAPH_SCOPE))!.token;
        const prefix = `V3-${randomBytes(3).toString("hex")}`;
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await fetch(`${tls.url}/_allot/devices`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ deviceName: `${prefix}-${i}` }),
            ...trustCa,
          } as NodeFetchInit);
          assert.equal(res.status, 201);
          ids.push(((await res.json()) as { managedDeviceId: string }).managedDeviceId);
        }
        const seen: string[] = [];
        const iterator = new PageIterator(
          client,
          await client.api("/deviceManagement/managedDevices").filter(`startswith(deviceName,'${prefix}')`).top(2).select("id,deviceName").get(),
          (d: { id: string }) => {
            seen.push(d.id);
            return true;
          },
        );
        await iterator.iterate();
        assert.deepEqual(sorted(seen), sorted(ids));
        await client.api(`/deviceManagement/managedDevices/${ids[0]}/wipe`).post({ keepEnrollmentData: true, keepUserData: false });
        const device = await client.api(`/deviceManagement/managedDevices/${ids[0]}`).select("managementState,deviceActionResults").get();
        assert.equal(device.managementState, "wipePending");
        assert.equal(device.deviceActionResults[0].actionName, "wipe");
        await assert.rejects(client.api(`/deviceManagement/managedDevices/${randomUUID()}/wipe`).post({}), (e: GraphError) => e.statusCode === 404);
      });

      it("Autopilot through the v3 client: a profile, an assignment updated on both path families, assign (seeds 001, 003)", async () => {
        const token = (await credential().getToken(GRAPH_SCOPE))!.token;
        const enrolled = await fetch(`${tls.url}/_allot/devices`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ autopilot: { groupTag: `v3-${randomBytes(3).toString("hex")}` } }),
          ...trustCa,
        } as NodeFetchInit);
        const { autopilotDeviceId } = (await enrolled.json()) as { autopilotDeviceId: string };
        const profile = await client.api("/deviceManagement/windowsAutopilotDeploymentProfiles").post({
          "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile",
          displayName: `v3 profile ${randomBytes(3).toString("hex")}`,
        });
        await client.api(`/deviceManagement/windowsAutopilotDeploymentProfiles/${profile.id}/assign`).post({ deviceIds: [autopilotDeviceId] });
        const group = await client.api("/groups").post(groupBody(`v3 autopilot ${randomBytes(3).toString("hex")}`));
        const assignment = await client
          .api(`/deviceManagement/windowsAutopilotDeploymentProfiles/${profile.id}/assignments`)
          .post({ target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: group.id } });
        // The device-rooted family of seed 003, once the device has the profile.
        const deadline = Date.now() + 10_000;
        let identity = await client.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${autopilotDeviceId}`).get();
        while (identity.deploymentProfileAssignmentStatus !== "assignedInSync" && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          identity = await client.api(`/deviceManagement/windowsAutopilotDeviceIdentities/${autopilotDeviceId}`).get();
        }
        assert.equal(identity.deploymentProfileAssignmentStatus, "assignedInSync");
        const patched = await client
          .api(`/deviceManagement/windowsAutopilotDeviceIdentities/${autopilotDeviceId}/deploymentProfile/assignments/${assignment.id}`)
          .patch({ target: { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", groupId: group.id } });
        assert.equal(patched.target["@odata.type"], "#microsoft.graph.exclusionGroupAssignmentTarget");
        const viaProfile = await client.api(`/deviceManagement/windowsAutopilotDeploymentProfiles/${profile.id}/assignments/${assignment.id}`).get();
        assert.equal(viaProfile.target["@odata.type"], "#microsoft.graph.exclusionGroupAssignmentTarget");
      });

      it("lists a group's members as users, and DELETE members/{id}/$ref removes one", async () => {
        const group = await client.api("/groups").post(groupBody(`v3 members ${randomBytes(3).toString("hex")}`));
        for (const user of [ADELE, NESTOR]) {
          await client.api(`/groups/${group.id}/members/$ref`).post({ "@odata.id": `${tls.graph}/directoryObjects/${user}` });
        }
        const members = (await client.api(`/groups/${group.id}/members`).get()).value;
        assert.deepEqual(
          members.map((m: any) => [m["@odata.type"], m.id, m.displayName]).sort(),
          [
            ["#microsoft.graph.user", ADELE, "Adele Vance"],
            ["#microsoft.graph.user", NESTOR, "Nestor Wilke"],
          ],
        );
        const removed = await client.api(`/groups/${group.id}/members/${ADELE}/$ref`).delete();
        assert.equal(removed, undefined);
        assert.deepEqual(await memberIds(group.id), [NESTOR]);
      });

      it("GET of a missing group rejects with a GraphError, statusCode 404, Request_ResourceNotFound", async () => {
        const missing = randomUUID();
        const clientRequestId = randomUUID();
        await assert.rejects(client.api(`/groups/${missing}`).header("client-request-id", clientRequestId).get(), (e: unknown) => {
          assert.ok(e instanceof GraphError, `not a GraphError: ${e}`);
          assert.equal(e.statusCode, 404);
          assert.equal(e.code, "Request_ResourceNotFound");
          assert.match(e.message, new RegExp(missing));
          // requestId and date come from the body's innerError (date has no zone, as Graph sends it).
          assert.match(e.requestId ?? "", UUID);
          assert.ok(!Number.isNaN(e.date.getTime()), "innerError.date is not a date");
          // Graph echoes the caller's client-request-id in a header and in innerError.
          assert.equal(e.headers?.get("client-request-id"), clientRequestId);
          assert.equal(JSON.parse(e.body).innerError["client-request-id"], clientRequestId);
          return true;
        });
      });

      it("$batch through BatchRequestContent/BatchResponseContent: a GET, a dependent POST and a 404, read per item", async () => {
        const name = `v3 batch ${randomBytes(3).toString("hex")}`;
        // The client takes fetch Requests and sends each URL as everything after host:port (`/beta/users/…`).
        const batch = new BatchRequestContent([
          { id: "read", request: new Request(`${tls.graph}/users/${ADELE}?$select=id,displayName`, { method: "GET" }) },
          {
            id: "create",
            dependsOn: ["read"],
            request: new Request(`${tls.graph}/groups`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(groupBody(name)) }),
          },
          { id: "missing", dependsOn: ["create"], request: new Request(`${tls.graph}/groups/${randomUUID()}`, { method: "GET" }) },
        ]);
        const content = await batch.getContent();
        assert.equal(content.requests[0].url, `/beta/users/${ADELE}?$select=id,displayName`);
        const responses = new BatchResponseContent(await client.api("/$batch").post(content));

        const read = responses.getResponseById("read");
        assert.equal(read.status, 200);
        assert.match(read.headers.get("content-type") ?? "", /^application\/json/);
        assert.deepEqual(await read.json(), {
          "@odata.context": `${tls.graph}/$metadata#users(id,displayName)/$entity`,
          id: ADELE,
          displayName: "Adele Vance",
        });

        const created = responses.getResponseById("create");
        assert.equal(created.status, 201);
        const group = await created.json();
        assert.equal(group.displayName, name);
        assert.match(group.id, UUID);
        assert.equal(created.headers.get("location"), `${tls.graph}/groups/${group.id}`);
        assert.equal((await client.api(`/groups/${group.id}`).select("displayName").get()).displayName, name);

        const missing = responses.getResponseById("missing");
        assert.equal(missing.status, 404);
        const error = await missing.json();
        assert.equal(error.error.code, "Request_ResourceNotFound");
        assert.equal(error.error.innerError["request-id"], missing.headers.get("request-id"));
        assert.deepEqual([...responses.getResponses().keys()], ["read", "create", "missing"]);
      });

      it("honours Retry-After on an Intune 429: its RetryHandler waits, retries after the window, and the call succeeds", async () => {
        const devices = () => client.api("/deviceManagement/managedDevices").top(1).select("id").get();
        const { result, hits } = await throughThrottling(tls, trustCa, DEMO_CLIENT_ID, devices, devices);
        assert.ok(Array.isArray(result.value), "the retried call answered no collection");
        assert.equal(hits.length, 2);
        assert.ok(hits[0]! >= 2, `the full window saw ${hits[0]} requests: the client's refused attempt is missing`);
        assert.equal(hits[1], 1, "the retry is the only request of the next window");
      });

      it("a dynamic device group on the OrderID tag has the matching demo device as its only member", async () => {
        const group = await client
          .api("/groups")
          .post(groupBody(`v3 dynamic ${randomBytes(3).toString("hex")}`, { groupTypes: ["DynamicMembership"], membershipRule: STANDARD_RULE, membershipRuleProcessingState: "On" }));
        assert.deepEqual(group.groupTypes, ["DynamicMembership"]);
        assert.equal(group.membershipRule, STANDARD_RULE);
        const members = (await client.api(`/groups/${group.id}/members`).get()).value;
        assert.deepEqual(
          members.map((m: any) => [m["@odata.type"], m.id, m.displayName]),
          [["#microsoft.graph.device", STANDARD_DEVICE, "MMD-000000001"]],
        );
      });
    });

    describe("Kiota (@microsoft/msgraph-beta-sdk)", () => {
      let adapter: GraphBetaRequestAdapter;
      const errors: ErrorMappings = { XXX: createODataErrorFromDiscriminatorValue };
      before(() => {
        adapter = new GraphBetaRequestAdapter(
          new BaseBearerTokenAuthenticationProvider({
            getAuthorizationToken: () => tokenFor(plain.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
            getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(["127.0.0.1"])),
          }),
        );
        adapter.baseUrl = `${plain.url}/beta`;
      });

      const createGroup = async (body: Partial<Group>) => {
        const request = new RequestInformation(HttpMethod.POST, "{+baseurl}/groups");
        request.headers.tryAdd("Accept", "application/json");
        request.setContentFromParsable(adapter, "application/json", body, serializeGroup);
        const group = await adapter.send<Group>(request, createGroupFromDiscriminatorValue, errors);
        assert.ok(group?.id, "POST /groups returned no group");
        return group as Group & { id: string };
      };
      const addMember = async (groupId: string, objectId: string) => {
        const request = new RequestInformation(HttpMethod.POST, "{+baseurl}/groups/{groupId}/members/$ref", { groupId });
        request.setContentFromParsable(adapter, "application/json", { odataId: `${plain.graph}/directoryObjects/${objectId}` }, serializeReferenceCreate);
        await adapter.sendNoResponseContent(request, errors);
      };
      const listMembers = async (groupId: string) => {
        const request = new RequestInformation(HttpMethod.GET, "{+baseurl}/groups/{groupId}/members", { groupId });
        request.headers.tryAdd("Accept", "application/json");
        const page = await adapter.send<DirectoryObjectCollectionResponse>(request, createDirectoryObjectCollectionResponseFromDiscriminatorValue, errors);
        return page?.value ?? [];
      };
      const firstGroupPage = async (prefix: string) => {
        const request = new RequestInformation(HttpMethod.GET, "{+baseurl}/groups{?%24filter,%24top}");
        request.queryParameters["%24filter"] = `startswith(displayName,'${prefix}')`;
        request.queryParameters["%24top"] = 1;
        request.headers.tryAdd("Accept", "application/json");
        const page = await adapter.send<GroupCollectionResponse>(request, createGroupCollectionResponseFromDiscriminatorValue, errors);
        assert.ok(page, "GET /groups returned no body");
        return page;
      };

      it("creates groups with serializeGroup bodies and pages a $filter/$top=1 list to the end", async () => {
        const { prefix, names } = groupNames("kiota");
        const created: Array<Group & { id: string }> = [];
        for (const name of names) created.push(await createGroup({ displayName: name, mailEnabled: false, mailNickname: name.replace(/\W/g, ""), securityEnabled: true }));
        assert.deepEqual(created.map((g) => g.displayName), names);
        assert.deepEqual(created.map((g) => [g.securityEnabled, g.mailEnabled]), names.map(() => [true, false]));
        const createdIds = sorted(created.map((g) => g.id));

        // msgraph-sdk-core's PageIterator (it sends each nextLink as the request's urlTemplate).
        const viaIterator: string[] = [];
        const iterator = new KiotaPageIterator<Group>(
          adapter,
          // PageCollection wants `value: T[]`; the model's is optional and nullable.
          (await firstGroupPage(prefix)) as PageCollection<Group>,
          (g) => {
            viaIterator.push(g.id!);
            return true;
          },
          createGroupCollectionResponseFromDiscriminatorValue,
          errors,
        );
        await iterator.iterate();
        assert.equal(iterator.getPagingState(), "Complete");
        assert.equal(viaIterator.length, 3);
        assert.deepEqual(sorted(viaIterator), createdIds);

        // By hand, with each nextLink as the request's raw URL.
        const viaLinks: string[] = [];
        let page: GroupCollectionResponse = await firstGroupPage(prefix);
        for (let pages = 1; ; pages++) {
          assert.equal(page.value?.length, 1, `page ${pages} holds ${page.value?.length} groups`);
          viaLinks.push(page.value![0]!.id!);
          if (!page.odataNextLink) break;
          assert.ok(pages < 3, "more than 3 pages for 3 groups");
          const next = new RequestInformation(HttpMethod.GET);
          next.URL = page.odataNextLink;
          next.headers.tryAdd("Accept", "application/json");
          const response = await adapter.send<GroupCollectionResponse>(next, createGroupCollectionResponseFromDiscriminatorValue, errors);
          assert.ok(response, "a nextLink returned no body");
          page = response;
        }
        assert.deepEqual(sorted(viaLinks), createdIds);
      });

      it("adds members through ReferenceCreate, lists them as users, and removes one with DELETE …/$ref", async () => {
        const group = await createGroup(groupBody(`kiota members ${randomBytes(3).toString("hex")}`));
        await addMember(group.id, MEGAN);
        await addMember(group.id, NESTOR);
        const members = await listMembers(group.id);
        assert.deepEqual(
          members.map((m) => [m.odataType, m.id, (m as { displayName?: string }).displayName]).sort(),
          [
            ["#microsoft.graph.user", MEGAN, "Megan Bowen"],
            ["#microsoft.graph.user", NESTOR, "Nestor Wilke"],
          ],
        );
        const remove = new RequestInformation(HttpMethod.DELETE, "{+baseurl}/groups/{groupId}/members/{memberId}/$ref", { groupId: group.id, memberId: MEGAN });
        await adapter.sendNoResponseContent(remove, errors);
        assert.deepEqual((await listMembers(group.id)).map((m) => m.id), [NESTOR]);
      });

      it("a dynamic device group on the OrderID tag has the matching demo device as its only member", async () => {
        const group = await createGroup(groupBody(`kiota dynamic ${randomBytes(3).toString("hex")}`, { groupTypes: ["DynamicMembership"], membershipRule: STANDARD_RULE, membershipRuleProcessingState: "On" }));
        assert.deepEqual(group.groupTypes, ["DynamicMembership"]);
        const members = await listMembers(group.id);
        assert.deepEqual(
          members.map((m) => [m.odataType, m.id, (m as { displayName?: string }).displayName]),
          [["#microsoft.graph.device", STANDARD_DEVICE, "MMD-000000001"]],
        );
      });

      it("honours Retry-After on an Intune 429: its RetryHandler waits, retries after the window, and the call succeeds", async () => {
        const devices = async () => {
          const request = new RequestInformation(HttpMethod.GET, "{+baseurl}/deviceManagement/managedDevices{?%24top}");
          request.queryParameters["%24top"] = 1;
          request.headers.tryAdd("Accept", "application/json");
          return adapter.send<ManagedDeviceCollectionResponse>(request, createManagedDeviceCollectionResponseFromDiscriminatorValue, errors);
        };
        const { result, hits } = await throughThrottling(plain, {}, DEMO_CLIENT_ID, devices, devices);
        assert.ok(Array.isArray(result?.value), "the retried call answered no collection");
        assert.equal(hits.length, 2);
        assert.ok(hits[0]! >= 2, `the full window saw ${hits[0]} requests: the client's refused attempt is missing`);
        assert.equal(hits[1], 1, "the retry is the only request of the next window");
      });

      it("GET of a missing group rejects with an ODataError: responseStatusCode 404, code Request_ResourceNotFound", async () => {
        const missing = randomUUID();
        const request = new RequestInformation(HttpMethod.GET, "{+baseurl}/groups/{groupId}", { groupId: missing });
        request.headers.tryAdd("Accept", "application/json");
        const error = await kiotaError(adapter.send(request, createGroupFromDiscriminatorValue, errors));
        assert.equal(error.responseStatusCode, 404);
        // The SDK renames the payload's `error` property to `errorEscaped` (it would clash with Error's members).
        assert.equal(error.errorEscaped?.code, "Request_ResourceNotFound");
        assert.match(error.errorEscaped?.message ?? "", new RegExp(missing));
        assert.match(error.errorEscaped?.innerError?.requestId ?? "", UUID);
      });
    });
  });
}
