// Device configurations and assignment filters through Microsoft's own clients, on both backends: the Kiota beta
// models (@microsoft/msgraph-beta-sdk) serialize and parse the polymorphic configurations, assignments and filters,
// and the v3 client (@microsoft/microsoft-graph-client) drives assign and a seed-004 path. Kiota drops a derived
// target's own properties when serializing (microsoft/kiota#6777): groupId travels in additionalData.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AllowedHostsValidator, BaseBearerTokenAuthenticationProvider, HttpMethod, RequestInformation, type ErrorMappings } from "@microsoft/kiota-abstractions";
import { Client, HTTPMessageHandler, type Context, type Middleware } from "@microsoft/microsoft-graph-client";
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk";
import {
  createDeviceAndAppManagementAssignmentFilterFromDiscriminatorValue,
  createDeviceConfigurationAssignmentCollectionResponseFromDiscriminatorValue,
  createDeviceConfigurationAssignmentFromDiscriminatorValue,
  createDeviceConfigurationFromDiscriminatorValue,
  serializeDeviceAndAppManagementAssignmentFilter,
  serializeDeviceConfiguration,
  serializeDeviceConfigurationAssignment,
  type DeviceAndAppManagementAssignmentFilter,
  type DeviceConfiguration,
  type DeviceConfigurationAssignment,
  type DeviceConfigurationAssignmentCollectionResponse,
  type GroupAssignmentTarget,
  type Windows10CustomConfiguration,
} from "@microsoft/msgraph-beta-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue, type ODataError } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js";
import { backendsToTest, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, startTestServer, tokenFor, type TestServer } from "../support/allotUnderTest.js";

const GROUP = "a110c0de-0000-4000-8000-000000000501";
const OTHER_GROUP = "a110c0de-0000-4000-8000-000000000503";
const errors: ErrorMappings = { XXX: createODataErrorFromDiscriminatorValue };

/** The v3 client leaves Authorization off over plain http; this first middleware puts the token back. */
class BearerToken implements Middleware {
  private next?: Middleware;
  constructor(private readonly token: () => Promise<string>) {}
  async execute(context: Context): Promise<void> {
    const headers = { ...((context.options?.headers ?? {}) as Record<string, string>), Authorization: `Bearer ${await this.token()}` };
    context.options = { ...context.options, headers };
    return this.next!.execute(context);
  }
  setNext(next: Middleware) {
    this.next = next;
  }
}

for (const backend of await backendsToTest()) {
  describe(`device configurations through Microsoft's clients (${backend})`, () => {
    let s: TestServer;
    let adapter: GraphBetaRequestAdapter;
    const token = () => tokenFor(s.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    before(async () => {
      s = await startTestServer(backend);
      adapter = new GraphBetaRequestAdapter(
        new BaseBearerTokenAuthenticationProvider({ getAuthorizationToken: token, getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(["127.0.0.1"])) }),
      );
      adapter.baseUrl = `${s.url}/beta`;
    });
    after(() => s.close());

    const send = (method: HttpMethod, url: string, params: Record<string, string>, body: object | undefined, serializer: ((w: never, v: never) => void) | undefined) => {
      const request = new RequestInformation(method, url, params);
      request.headers.tryAdd("Accept", "application/json");
      if (body !== undefined && serializer) request.setContentFromParsable(adapter, "application/json", body as never, serializer as never);
      return request;
    };

    describe("Kiota models", () => {
      it("creates a windows10CustomConfiguration and reads it back as the derived model with its OMA settings", async () => {
        const body: Windows10CustomConfiguration = {
          odataType: "#microsoft.graph.windows10CustomConfiguration",
          displayName: "kiota custom",
          // The derived type's own properties are dropped by the serializer (kiota#6777): send them as additional data.
          additionalData: { omaSettings: [{ "@odata.type": "#microsoft.graph.omaSettingInteger", displayName: "i", omaUri: "./Vendor/MSFT/X", value: 3 }] },
        };
        const created = await adapter.send<DeviceConfiguration>(send(HttpMethod.POST, "{+baseurl}/deviceManagement/deviceConfigurations", {}, body, serializeDeviceConfiguration), createDeviceConfigurationFromDiscriminatorValue, errors);
        assert.ok(created?.id);
        const got = (await adapter.send<DeviceConfiguration>(
          send(HttpMethod.GET, "{+baseurl}/deviceManagement/deviceConfigurations/{id}", { id: created.id }, undefined, undefined),
          createDeviceConfigurationFromDiscriminatorValue,
          errors,
        )) as Windows10CustomConfiguration;
        assert.equal(got.odataType, "#microsoft.graph.windows10CustomConfiguration");
        assert.equal(got.version, 1);
        assert.equal(got.omaSettings?.[0].odataType, "#microsoft.graph.omaSettingInteger");
        assert.equal(got.omaSettings?.[0].omaUri, "./Vendor/MSFT/X");
      });

      it("creates, lists and PATCHes an assignment (intent, target with filter) through the models", async () => {
        const config = (await s.call("POST", "/deviceManagement/deviceConfigurations", { "@odata.type": "#microsoft.graph.windows10GeneralConfiguration", displayName: "kiota general" })).body;
        const filter = await adapter.send<DeviceAndAppManagementAssignmentFilter>(
          send(HttpMethod.POST, "{+baseurl}/deviceManagement/assignmentFilters", {}, { displayName: "kiota filter", platform: "windows10AndLater", rule: '(device.model -startsWith "Surface")' } as DeviceAndAppManagementAssignmentFilter, serializeDeviceAndAppManagementAssignmentFilter),
          createDeviceAndAppManagementAssignmentFilterFromDiscriminatorValue,
          errors,
        );
        assert.equal(filter?.platform, "windows10AndLater");
        const target: GroupAssignmentTarget = {
          odataType: "#microsoft.graph.groupAssignmentTarget",
          deviceAndAppManagementAssignmentFilterId: filter!.id,
          deviceAndAppManagementAssignmentFilterType: "include",
          additionalData: { groupId: GROUP },
        };
        const created = await adapter.send<DeviceConfigurationAssignment>(
          send(HttpMethod.POST, "{+baseurl}/deviceManagement/deviceConfigurations/{id}/assignments", { id: config.id }, { target, intent: "apply" } as DeviceConfigurationAssignment, serializeDeviceConfigurationAssignment),
          createDeviceConfigurationAssignmentFromDiscriminatorValue,
          errors,
        );
        assert.equal(created?.intent, "apply");
        assert.equal((created?.target as GroupAssignmentTarget).groupId, GROUP);
        assert.equal(created?.target?.deviceAndAppManagementAssignmentFilterType, "include");
        const patched = await adapter.send<DeviceConfigurationAssignment>(
          send(HttpMethod.PATCH, "{+baseurl}/deviceManagement/deviceConfigurations/{id}/assignments/{aid}", { id: config.id, aid: created!.id! }, { intent: "remove" } as DeviceConfigurationAssignment, serializeDeviceConfigurationAssignment),
          createDeviceConfigurationAssignmentFromDiscriminatorValue,
          errors,
        );
        assert.deepEqual([patched?.id, patched?.intent], [created!.id, "remove"]);
        const page = await adapter.send<DeviceConfigurationAssignmentCollectionResponse>(
          send(HttpMethod.GET, "{+baseurl}/deviceManagement/deviceConfigurations/{id}/assignments", { id: config.id }, undefined, undefined),
          createDeviceConfigurationAssignmentCollectionResponseFromDiscriminatorValue,
          errors,
        );
        assert.deepEqual(page?.value?.map((a) => a.intent), ["remove"]);
      });

      it("a filter rule with a syntax error arrives as Kiota's ODataError with the position in the message", async () => {
        const request = send(HttpMethod.POST, "{+baseurl}/deviceManagement/assignmentFilters", {}, { displayName: "bad", platform: "windows10AndLater", rule: "(device.model -eq" } as DeviceAndAppManagementAssignmentFilter, serializeDeviceAndAppManagementAssignmentFilter);
        await assert.rejects(adapter.send(request, createDeviceAndAppManagementAssignmentFilterFromDiscriminatorValue, errors), (e: ODataError) => {
          assert.equal(e.responseStatusCode, 400);
          assert.match(e.errorEscaped?.message ?? "", /position \d+/);
          return true;
        });
      });
    });

    describe("v3 client", () => {
      let client: Client;
      before(() => {
        const auth = new BearerToken(token);
        auth.setNext(new HTTPMessageHandler());
        client = Client.initWithMiddleware({ baseUrl: `${s.url}/`, defaultVersion: "beta", customHosts: new Set(["127.0.0.1"]), middleware: auth });
      });

      it("assign replaces the set and a seed-004 path (rootCertificate without a cast) PATCHes the root's assignment", async () => {
        const root = await client.api("/deviceManagement/deviceConfigurations").post({ "@odata.type": "#microsoft.graph.iosTrustedRootCertificate", displayName: "v3 root", trustedRootCertificate: "AAE=", certFileName: "root.cer" });
        const scep = await client
          .api("/deviceManagement/deviceConfigurations")
          .post({ "@odata.type": "#microsoft.graph.iosScepCertificateProfile", displayName: "v3 scep", "rootCertificate@odata.bind": `${s.graph}/deviceManagement/deviceConfigurations/${root.id}` });
        const assigned = await client.api(`/deviceManagement/deviceConfigurations/${root.id}/assign`).post({
          assignments: [
            { target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: GROUP } },
            { target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: GROUP } },
            { target: { "@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget", groupId: OTHER_GROUP } },
          ],
        });
        assert.equal(assigned.value.length, 2);
        const [first] = assigned.value;
        const patched = await client.api(`/deviceManagement/deviceConfigurations/${scep.id}/rootCertificate/assignments/${first.id}`).patch({ intent: "remove" });
        assert.deepEqual([patched.id, patched.intent], [first.id, "remove"]);
        const expanded = await client.api(`/deviceManagement/deviceConfigurations/${root.id}`).expand("assignments").get();
        assert.deepEqual(expanded.assignments.map((a: { intent: string }) => a.intent).sort(), ["apply", "remove"]);
        await assert.rejects(client.api(`/deviceManagement/deviceConfigurations/${root.id}/assign`).post({ assignments: [{ target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: "0bad0bad-0000-4000-8000-000000000000" } }] }), (e: { statusCode: number }) => e.statusCode === 400);
        assert.equal((await client.api(`/deviceManagement/deviceConfigurations/${root.id}/assignments`).get()).value.length, 2);
      });

      it("getPlatformSupportedProperties(platform='…') and getState through the v3 client", async () => {
        const props = await client.api("/deviceManagement/assignmentFilters/getPlatformSupportedProperties(platform='macOS')").get();
        assert.ok(props.value.some((p: { name: string }) => p.name === "cpuArchitecture"));
        assert.deepEqual((await client.api("/deviceManagement/assignmentFilters/getState").get()).value, { enabled: true });
      });
    });
  });
}
