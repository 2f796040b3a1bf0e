// changeAssignments (seed 002, spec §2.5) over real HTTP on both backends: through the Kiota models of
// @microsoft/msgraph-beta-sdk (DeviceAssignmentItem serialisation, ManagedDevice / ChangeAssignmentsActionResult
// parsing) and raw HTTP — the remove-then-restore cycle, all seven path variants, the replace semantics, bad input
// that changes nothing, and the lifecycle in immediate and clock-timed modes.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  HttpMethod,
  RequestInformation,
  type ErrorMappings,
  type Parsable,
  type SerializationWriter,
} from "@microsoft/kiota-abstractions";
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk";
import {
  createManagedDeviceFromDiscriminatorValue,
  serializeDeviceAssignmentItem,
  type ChangeAssignmentsActionResult,
  type DeviceAssignmentItem,
  type ManagedDevice,
} from "@microsoft/msgraph-beta-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue, type ODataError } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js";
import { graphModel } from "../../src/graph/model/index.js";
import { DEFAULT_ADMIN_KEY } from "../../src/server/allotServer.js";
import { ManualClock } from "../support/manualClock.js";
import { backendsToTest, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, startTestServer, tokenFor, type TestServer } from "../support/allotUnderTest.js";

const ADELE = "a110c0de-0000-4000-8000-000000000101";
const ADELE_UPN = "adele@allotdemo.onmicrosoft.com";
const OTHER_TENANT = "c4a11e00-0000-4000-8000-000000000001";
const devicesTable = graphModel.entityType("deviceManagement").navigation.get("managedDevices")!.table!;
let counter = 0;

/** The action's body as Kiota would build it (the per-area request builders are not published; the models are). */
interface ChangeAssignmentsPostRequestBody extends Parsable {
  deviceAssignmentItems?: DeviceAssignmentItem[] | null;
}
const serializeChangeAssignmentsPostRequestBody = (writer: SerializationWriter, body?: Partial<ChangeAssignmentsPostRequestBody> | null) => {
  writer.writeCollectionOfObjectValues("deviceAssignmentItems", body?.deviceAssignmentItems, serializeDeviceAssignmentItem);
};

type Item = { itemId: string; itemType: string; [k: string]: unknown };
const configItem = (itemId: string): Item => ({ itemId, itemType: "deviceConfiguration" });

async function enroll(s: TestServer, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await s.call("POST", "/_allot/devices", { deviceName: `CHANGE-${++counter}`, ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.managedDeviceId;
}

const ALL_DEVICES = { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" };

/** A configuration, assigned to All devices unless told otherwise (only an assigned item can be removed). */
async function configuration(s: TestServer, displayName = `Change config ${++counter}`, targets: Record<string, unknown>[] = [ALL_DEVICES]): Promise<string> {
  const res = await s.call("POST", "/deviceManagement/deviceConfigurations", { "@odata.type": "#microsoft.graph.windows10CustomConfiguration", displayName, omaSettings: [] });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  if (targets.length) {
    const assigned = await s.call("POST", `/deviceManagement/deviceConfigurations/${res.body.id}/assign`, { assignments: targets.map((target) => ({ target })) });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
  }
  return res.body.id;
}

/** A device group holding these Entra devices, as an assignment target. */
async function groupTarget(s: TestServer, entraObjectIds: string[]) {
  const group = await s.call("POST", "/groups", { displayName: `Change group ${++counter}`, mailEnabled: false, mailNickname: `change${counter}`, securityEnabled: true });
  assert.equal(group.status, 201);
  for (const id of entraObjectIds) assert.equal((await s.call("POST", `/groups/${group.body.id}/members/$ref`, { "@odata.id": `https://graph.microsoft.com/v1.0/directoryObjects/${id}` })).status, 204);
  return { groupId: group.body.id as string, target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: group.body.id } };
}

async function enrollWithEntra(s: TestServer): Promise<{ managedDeviceId: string; entraObjectId: string; deviceName: string }> {
  const deviceName = `CHANGE-${++counter}`;
  const res = await s.call("POST", "/_allot/devices", { deviceName });
  assert.equal(res.status, 201);
  return { ...res.body, deviceName };
}

const change = (s: TestServer, devicePath: string, items: unknown, headers?: Record<string, string>) =>
  s.call("POST", `${devicePath}/changeAssignments`, { deviceAssignmentItems: items }, headers);

async function resultOf(s: TestServer, deviceId: string) {
  const res = await s.call("GET", `/deviceManagement/managedDevices/${deviceId}`);
  assert.equal(res.status, 200);
  return (res.body.deviceActionResults as any[]).find((r) => r.actionName === "changeAssignments");
}
const itemsOf = (result: any) =>
  (result?.deviceAssignmentItems ?? []).map((i: any) => [i.itemId, i.assignmentItemActionIntent, i.assignmentItemActionStatus]).sort();

/** The device's stored document (its underscore fields are never served). */
async function stored(s: TestServer, deviceId: string) {
  const e = await s.allot.services.entities.get(s.allot.db, devicesTable, DEMO_TENANT_ID, deviceId);
  assert.ok(e, "the device is stored");
  return e.doc;
}
const removedSet = async (s: TestServer, deviceId: string) =>
  ((await stored(s, deviceId))._removedAssignmentItems as { itemId: string; itemType: string }[] | undefined ?? []).map((r) => `${r.itemType}/${r.itemId}`).sort();

/** Everything a rejected request must leave as it was. */
async function snapshot(s: TestServer, deviceId: string) {
  const device = (await s.call("GET", `/deviceManagement/managedDevices/${deviceId}`)).body;
  const doc = await stored(s, deviceId);
  const [work] = await s.allot.db.all(`SELECT COUNT(*) AS n FROM pending_work WHERE subject_id = ${s.allot.db.dialect.param(1)}`, [deviceId]);
  return JSON.stringify({ device, removed: doc._removedAssignmentItems ?? null, call: doc._changeAssignmentsCall ?? null, work: Number(work.n) });
}

for (const backend of await backendsToTest()) {
  describe(`changeAssignments (${backend})`, () => {
    let s: TestServer;
    let adapter: GraphBetaRequestAdapter;
    const errors: ErrorMappings = { XXX: createODataErrorFromDiscriminatorValue };

    before(async () => {
      s = await startTestServer(backend, { lifecycle: "immediate" });
      adapter = new GraphBetaRequestAdapter(
        new BaseBearerTokenAuthenticationProvider({
          getAuthorizationToken: () => tokenFor(s.url, DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
          getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(["127.0.0.1"])),
        }),
      );
      adapter.baseUrl = `${s.url}/beta`;
    });
    after(() => s.close());

    const kiotaChange = async (deviceId: string, items: DeviceAssignmentItem[]) => {
      const request = new RequestInformation(HttpMethod.POST, "{+baseurl}/deviceManagement/managedDevices/{managedDeviceId}/changeAssignments", { managedDeviceId: deviceId });
      request.setContentFromParsable(adapter, "application/json", { deviceAssignmentItems: items }, serializeChangeAssignmentsPostRequestBody);
      await adapter.sendNoResponseContent(request, errors);
    };
    const kiotaDevice = async (deviceId: string) => {
      const request = new RequestInformation(HttpMethod.GET, "{+baseurl}/deviceManagement/managedDevices/{managedDeviceId}", { managedDeviceId: deviceId });
      request.headers.tryAdd("Accept", "application/json");
      const device = await adapter.send<ManagedDevice>(request, createManagedDeviceFromDiscriminatorValue, errors);
      assert.ok(device);
      const result = device.deviceActionResults?.find((r) => r.actionName === "changeAssignments") as ChangeAssignmentsActionResult | undefined;
      return { device, result };
    };

    it("a full remove-then-restore cycle through Kiota: the removed item reaches `removed`, left out of the next call it becomes `restore` → `succeeded`; 204 both times", async () => {
      const device = await enroll(s);
      const [a, b] = [await configuration(s, "Wi-Fi corp"), await configuration(s)];
      await kiotaChange(device, [
        { itemId: a, itemType: "deviceConfiguration" },
        { itemId: b, itemType: "deviceConfiguration" },
      ]);
      let { result } = await kiotaDevice(device);
      assert.ok(result, "the device reports a changeAssignmentsActionResult");
      assert.equal(result.odataType, "#microsoft.graph.changeAssignmentsActionResult");
      assert.equal(result.actionState, "done");
      assert.deepEqual(result.deviceAssignmentItems?.map((i) => [i.itemId, i.itemType, i.assignmentItemActionIntent, i.assignmentItemActionStatus, i.errorCode]).sort(), [
        [a, "deviceConfiguration", "remove", "removed", 0],
        [b, "deviceConfiguration", "remove", "removed", 0],
      ].sort());
      assert.equal(result.deviceAssignmentItems?.find((i) => i.itemId === a)?.itemDisplayName, "Wi-Fi corp");
      assert.equal(result.deviceAssignmentItems?.find((i) => i.itemId === a)?.itemSubTypeDisplayName, "custom");
      assert.ok(result.deviceAssignmentItems?.every((i) => i.lastActionDateTime instanceof Date && i.lastModifiedDateTime instanceof Date));
      assert.deepEqual(await removedSet(s, device), [`deviceConfiguration/${a}`, `deviceConfiguration/${b}`].sort());

      // The complete desired removal set is now only b: a is restored.
      await kiotaChange(device, [{ itemId: b, itemType: "deviceConfiguration" }]);
      ({ result } = await kiotaDevice(device));
      assert.deepEqual(result?.deviceAssignmentItems?.map((i) => [i.itemId, i.assignmentItemActionIntent, i.assignmentItemActionStatus]).sort(), [
        [a, "restore", "succeeded"],
        [b, "remove", "removed"],
      ].sort());
      assert.deepEqual(await removedSet(s, device), [`deviceConfiguration/${b}`]);

      // An empty set restores everything.
      await kiotaChange(device, []);
      ({ result } = await kiotaDevice(device));
      assert.deepEqual(result?.deviceAssignmentItems?.map((i) => [i.itemId, i.assignmentItemActionIntent, i.assignmentItemActionStatus]), [[b, "restore", "succeeded"]]);
      assert.deepEqual(await removedSet(s, device), []);
      // The configuration itself (and so its group assignments) is untouched.
      assert.equal((await s.call("GET", `/deviceManagement/deviceConfigurations/${a}`)).body.displayName, "Wi-Fi corp");
    });

    it("the body of the documented example (read-only fields, intent `restore`, status `inProgress`, errorCode 9) is accepted; the read-only fields are ignored", async () => {
      const device = await enroll(s);
      const a = await configuration(s);
      const res = await change(s, `/deviceManagement/managedDevices/${device}`, [
        {
          "@odata.type": "microsoft.graph.deviceAssignmentItem",
          itemId: a,
          itemType: "deviceConfiguration",
          itemSubTypeDisplayName: "Item Sub Type Display Name value",
          itemDisplayName: "Item Display Name value",
          assignmentItemActionIntent: "restore",
          assignmentItemActionStatus: "inProgress",
          intentActionMessage: "Intent Action Message value",
          errorCode: 9,
          lastActionDateTime: "2016-12-31T23:59:40.6067253-08:00",
          lastModifiedDateTime: "2017-01-01T00:00:35.1329464-08:00",
        },
      ]);
      assert.equal(res.status, 204);
      assert.equal(res.text, "");
      const [item] = (await resultOf(s, device)).deviceAssignmentItems;
      assert.equal(item["@odata.type"], "#microsoft.graph.deviceAssignmentItem");
      assert.deepEqual([item.assignmentItemActionIntent, item.assignmentItemActionStatus, item.errorCode, item.intentActionMessage], ["remove", "removed", 0, null]);
      assert.notEqual(item.itemDisplayName, "Item Display Name value");
      assert.ok(Date.parse(item.lastActionDateTime) > Date.parse("2020-01-01T00:00:00Z"), "lastActionDateTime is the server's clock, not the body's");
    });

    it("deviceActionResults is polymorphic: the changeAssignments result beside a syncDevice result, each with its @odata.type", async () => {
      const device = await enroll(s);
      assert.equal((await s.call("POST", `/deviceManagement/managedDevices/${device}/syncDevice`)).status, 204);
      assert.equal((await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(await configuration(s))])).status, 204);
      const results = (await s.call("GET", `/deviceManagement/managedDevices/${device}`)).body.deviceActionResults;
      assert.deepEqual(results.map((r: any) => [r.actionName, r["@odata.type"]]).sort(), [
        ["changeAssignments", "#microsoft.graph.changeAssignmentsActionResult"],
        ["syncDevice", "#microsoft.graph.deviceActionResult"],
      ]);
    });

    it("inside $batch each changeAssignments is answered on its own: 204 for a good one, 400 for a bad one, which changes nothing", async () => {
      const [good, bad] = [await enroll(s), await enroll(s)];
      const config = await configuration(s);
      const untouched = await snapshot(s, bad);
      const headers = { "content-type": "application/json" };
      const res = await s.call("POST", "/$batch", {
        requests: [
          { id: "1", method: "POST", url: `/deviceManagement/managedDevices/${good}/changeAssignments`, headers, body: { deviceAssignmentItems: [configItem(config)] } },
          { id: "2", method: "POST", url: `/deviceManagement/managedDevices/${bad}/changeAssignments`, headers, body: { deviceAssignmentItems: [configItem(randomUUID())] } },
        ],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const byId = new Map((res.body.responses as any[]).map((r) => [r.id, r]));
      assert.equal(byId.get("1").status, 204);
      assert.equal(byId.get("2").status, 400);
      assert.equal(byId.get("2").body.error.code, "BadRequest");
      assert.deepEqual(itemsOf(await resultOf(s, good)), [[config, "remove", "removed"]]);
      assert.equal(await snapshot(s, bad), untouched);
    });

    it("$metadata declares the action bound to managedDevice and the three enums with the documented members", async () => {
      const metadata = (await s.call("GET", "/$metadata")).text;
      assert.match(metadata, /<Action Name="changeAssignments" IsBound="true">\s*<Parameter Name="bindingParameter" Type="microsoft.graph.managedDevice"\/>\s*<Parameter Name="deviceAssignmentItems" Type="Collection\(microsoft.graph.deviceAssignmentItem\)"\/>/);
      assert.match(metadata, /<ComplexType Name="changeAssignmentsActionResult" BaseType="microsoft.graph.deviceActionResult">/);
      const members = (name: string) => [...(new RegExp(`<EnumType Name="${name}">([\\s\\S]*?)</EnumType>`).exec(metadata)?.[1] ?? "").matchAll(/Member Name="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(members("deviceAssignmentItemType"), ["application", "deviceConfiguration", "deviceManagementConfigurationPolicy", "mobileAppConfiguration", "unknownFutureValue"]);
      assert.deepEqual(members("deviceAssignmentItemIntent"), ["remove", "restore", "unknownFutureValue"]);
      assert.deepEqual(members("deviceAssignmentItemStatus"), ["initiated", "inProgress", "removed", "error", "succeeded", "unknownFutureValue"]);
    });

    it("duplicate items collapse into one (ids compared case-insensitively)", async () => {
      const device = await enroll(s);
      const a = await configuration(s);
      assert.equal((await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(a), configItem(a), configItem(a.toUpperCase())])).status, 204);
      assert.deepEqual(itemsOf(await resultOf(s, device)), [[a, "remove", "removed"]]);
    });

    it("30 distinct items are accepted; the 31st is a 400, counting the earlier removals a call would restore", async () => {
      const device = await enroll(s);
      const ids: string[] = [];
      for (let i = 0; i < 31; i++) ids.push(await configuration(s));
      assert.equal((await change(s, `/deviceManagement/managedDevices/${device}`, ids.slice(0, 30).map(configItem))).status, 204);
      assert.equal((await resultOf(s, device)).deviceAssignmentItems.length, 30);
      // 29 kept + 1 new + 1 to restore = 31 items in the result.
      const before = await snapshot(s, device);
      const res = await change(s, `/deviceManagement/managedDevices/${device}`, [...ids.slice(1, 30), ids[30]].map(configItem));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, "BadRequest");
      assert.match(res.body.error.message, /at most 30/);
      assert.equal(await snapshot(s, device), before);
    });

    describe("bad input answers the right Graph error and changes nothing", () => {
      let device: string;
      let removed: string;
      let untouched: string;
      const path = () => `/deviceManagement/managedDevices/${device}`;
      const expectRejected = async (res: { status: number; body: any }, status: number, code: string, message?: RegExp) => {
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.equal(res.body.error.code, code);
        if (message) assert.match(res.body.error.message, message);
        assert.equal(await snapshot(s, device), untouched, "nothing changed");
      };

      before(async () => {
        device = await enroll(s);
        removed = await configuration(s);
        assert.equal((await change(s, path(), [configItem(removed)])).status, 204);
        untouched = await snapshot(s, device);
      });

      it("an unknown item: 400 naming it (alongside a valid one, which is not removed either)", async () => {
        const valid = await configuration(s);
        const unknown = randomUUID();
        await expectRejected(await change(s, path(), [configItem(valid), configItem(unknown)]), 400, "BadRequest", new RegExp(`deviceConfiguration with id '${unknown}'`));
      });

      it("a wrong item type: an existing configuration named as an application, a settings-catalog policy or an app configuration is a 400; an unknown enum member too", async () => {
        for (const itemType of ["application", "deviceManagementConfigurationPolicy", "mobileAppConfiguration", "unknownFutureValue"]) {
          await expectRejected(await change(s, path(), [{ itemId: removed, itemType }]), 400, "BadRequest");
        }
        await expectRejected(await change(s, path(), [{ itemId: removed, itemType: "mobileApp" }]), 400, "BadRequest", /deviceAssignmentItemType/);
      });

      it("itemId longer than 40 characters, missing, or empty; itemType missing: 400", async () => {
        await expectRejected(await change(s, path(), [configItem("x".repeat(41))]), 400, "BadRequest", /maximum length of 40/);
        await expectRejected(await change(s, path(), [{ itemType: "deviceConfiguration" }]), 400, "BadRequest", /itemId is required/);
        await expectRejected(await change(s, path(), [configItem("")]), 400, "BadRequest", /itemId is required/);
        await expectRejected(await change(s, path(), [{ itemId: removed }]), 400, "BadRequest", /itemType is required/);
      });

      it("a malformed body: not JSON, not an object, no deviceAssignmentItems, items not a collection, a null item, an unknown property: 400", async () => {
        await expectRejected(await s.call("POST", `${path()}/changeAssignments`, "{not json"), 400, "BadRequest");
        await expectRejected(await s.call("POST", `${path()}/changeAssignments`, [configItem(removed)]), 400, "BadRequest");
        await expectRejected(await s.call("POST", `${path()}/changeAssignments`, {}), 400, "BadRequest", /deviceAssignmentItems/);
        await expectRejected(await change(s, path(), configItem(removed)), 400, "BadRequest");
        await expectRejected(await change(s, path(), [null]), 400, "BadRequest");
        await expectRejected(await change(s, path(), [{ ...configItem(removed), colour: "red" }]), 400, "BadRequest", /colour/);
        await expectRejected(await s.call("POST", `${path()}/changeAssignments`, { deviceAssignmentItems: [], extra: true }), 400, "BadRequest", /extra/);
      });

      it("an unknown device: 404", async () => {
        const res = await change(s, `/deviceManagement/managedDevices/${randomUUID()}`, [configItem(removed)]);
        await expectRejected(res, 404, "ResourceNotFound");
      });

      it("another tenant's device: 404 for the other tenant's token", async () => {
        const seeded = await s.call("POST", "/_allot/seed", { tenants: [{ id: OTHER_TENANT, apps: [{ clientId: "c4a11e00-0000-4000-8000-0000000000a1", secrets: ["other-secret"], roles: ["*"] }] }] }, { "x-allot-admin-key": DEFAULT_ADMIN_KEY });
        assert.equal(seeded.status, 200, JSON.stringify(seeded.body));
        const foreign = await tokenFor(s.url, OTHER_TENANT, "c4a11e00-0000-4000-8000-0000000000a1", "other-secret");
        await expectRejected(await change(s, path(), [], { authorization: `Bearer ${foreign}` }), 404, "ResourceNotFound");
        await expectRejected(await change(s, `/deviceManagement/comanagedDevices/${device}`, [configItem(removed)], { authorization: `Bearer ${foreign}` }), 404, "ResourceNotFound");
        // …and another tenant's configuration is no item of this tenant.
        const theirs = await s.call("POST", "/deviceManagement/deviceConfigurations", { "@odata.type": "#microsoft.graph.windows10CustomConfiguration", displayName: "Theirs" }, { authorization: `Bearer ${foreign}` });
        assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
        await expectRejected(await change(s, path(), [configItem(theirs.body.id)]), 400, "BadRequest", new RegExp(theirs.body.id));
      });

      it("GET on the action is no route: 400", async () => {
        const res = await s.call("GET", `${path()}/changeAssignments`);
        await expectRejected(res, 400, "No method match route template");
      });
    });

    describe("the seven paths of seed 002", () => {
      let device: string;
      let ids: { health: string; healthState: string; script: string; scriptState: string; compliance: string; complianceState: string; app: string };
      const bind = (id: string) => `https://graph.microsoft.com/beta/deviceManagement/managedDevices/${id}`;
      const created = async (path: string, body: Record<string, unknown>) => {
        const res = await s.call("POST", path, body);
        assert.equal(res.status, 201, `${path}: ${JSON.stringify(res.body)}`);
        return res.body.id as string;
      };

      before(async () => {
        device = await enroll(s, { userPrincipalName: ADELE_UPN });
        const health = await created("/deviceManagement/deviceHealthScripts", { displayName: "Clear temp", publisher: "IT", detectionScriptContent: Buffer.from("exit 1").toString("base64") });
        const script = await created("/deviceManagement/deviceManagementScripts", { displayName: "Set wallpaper", scriptContent: Buffer.from("Write-Host 1").toString("base64"), fileName: "wallpaper.ps1" });
        const compliance = await created("/deviceManagement/deviceComplianceScripts", { displayName: "Disk check", detectionScriptContent: Buffer.from("{}").toString("base64") });
        ids = {
          health,
          script,
          compliance,
          healthState: await created(`/deviceManagement/deviceHealthScripts/${health}/deviceRunStates`, { detectionState: "fail", "managedDevice@odata.bind": bind(device) }),
          scriptState: await created(`/deviceManagement/deviceManagementScripts/${script}/deviceRunStates`, { runState: "success", "managedDevice@odata.bind": bind(device) }),
          complianceState: await created(`/deviceManagement/deviceComplianceScripts/${compliance}/deviceRunStates`, { detectionState: "success", "managedDevice@odata.bind": bind(device) }),
          app: await created("/deviceManagement/detectedApps", { displayName: "7-Zip", version: "24.08", publisher: "Igor Pavlov", "managedDevices@odata.bind": [bind(device)] }),
        };
      });

      const sevenPaths = () => [
        `/deviceManagement/managedDevices/${device}`,
        `/deviceManagement/comanagedDevices/${device}`,
        `/deviceManagement/deviceHealthScripts/${ids.health}/deviceRunStates/${ids.healthState}/managedDevice`,
        `/deviceManagement/deviceManagementScripts/${ids.script}/deviceRunStates/${ids.scriptState}/managedDevice`,
        `/deviceManagement/deviceComplianceScripts/${ids.compliance}/deviceRunStates/${ids.complianceState}/managedDevice`,
        `/deviceManagement/deviceManagementScripts/${ids.script}/deviceRunStates/${ids.scriptState}/managedDevice/users/${ADELE}/managedDevices/${device}`,
        `/deviceManagement/deviceManagementScripts/${ids.script}/deviceRunStates/${ids.scriptState}/managedDevice/detectedApps/${ids.app}/managedDevices/${device}`,
      ];

      it("the intermediate entities link to the device: a run state's managedDevice, the device's users and detectedApps, the app's managedDevices, the user's managedDevices", async () => {
        const [, , health, script, compliance, viaUser, viaApp] = sevenPaths();
        for (const p of [health, script, compliance, viaUser, viaApp]) {
          const res = await s.call("GET", p);
          assert.equal(res.status, 200, `${p}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.id, device, p);
        }
        const users = await s.call("GET", `/deviceManagement/managedDevices/${device}/users`);
        assert.deepEqual(users.body.value.map((u: any) => u.userPrincipalName), [ADELE_UPN]);
        const apps = await s.call("GET", `/deviceManagement/managedDevices/${device}/detectedApps`);
        assert.deepEqual(apps.body.value.map((a: any) => [a.id, a.displayName, a.deviceCount]), [[ids.app, "7-Zip", 1]]);
        const appDevices = await s.call("GET", `/deviceManagement/detectedApps/${ids.app}/managedDevices`);
        assert.deepEqual(appDevices.body.value.map((d: any) => d.id), [device]);
        const adeleDevices = await s.call("GET", `/users/${ADELE}/managedDevices`);
        assert.ok(adeleDevices.body.value.some((d: any) => d.id === device));
        assert.ok(adeleDevices.body.value.every((d: any) => d.userId === ADELE));
        // A run state bound to no device has no managedDevice; a bind to a missing device is refused.
        const lone = await created(`/deviceManagement/deviceHealthScripts/${ids.health}/deviceRunStates`, { detectionState: "pending" });
        assert.equal((await s.call("GET", `/deviceManagement/deviceHealthScripts/${ids.health}/deviceRunStates/${lone}/managedDevice`)).status, 404);
        const bad = await s.call("POST", `/deviceManagement/deviceHealthScripts/${ids.health}/deviceRunStates`, { "managedDevice@odata.bind": bind(randomUUID()) });
        assert.equal(bad.status, 400);
        // The links are set on create only: no $ref routes.
        assert.equal((await s.call("POST", `/deviceManagement/detectedApps/${ids.app}/managedDevices/$ref`, { "@odata.id": bind(device) })).status, 400);
      });

      it("POST …/changeAssignments answers 204 on every one of the seven paths and changes that device", async () => {
        const paths = sevenPaths();
        for (const [i, p] of paths.entries()) {
          const config = await configuration(s, `Path ${i + 1}`);
          const res = await change(s, p, [configItem(config)]);
          assert.equal(res.status, 204, `${p}: ${res.status} ${res.text}`);
          const items = (await resultOf(s, device)).deviceAssignmentItems;
          const item = items.find((x: any) => x.itemId === config);
          assert.deepEqual([item?.assignmentItemActionIntent, item?.assignmentItemActionStatus, item?.itemDisplayName], ["remove", "removed", `Path ${i + 1}`], p);
          assert.deepEqual(await removedSet(s, device), [`deviceConfiguration/${config}`], `${p}: the previous path's item was restored`);
        }
      });

      it("a path whose keys do not lead to the device is a 404 and changes nothing", async () => {
        const other = await enroll(s);
        const before = await snapshot(s, other);
        const config = await configuration(s);
        const wrong = [
          `/deviceManagement/deviceManagementScripts/${ids.script}/deviceRunStates/${ids.scriptState}/managedDevice/users/${ADELE}/managedDevices/${other}`,
          `/deviceManagement/deviceManagementScripts/${ids.script}/deviceRunStates/${ids.scriptState}/managedDevice/detectedApps/${ids.app}/managedDevices/${other}`,
          `/deviceManagement/deviceHealthScripts/${ids.health}/deviceRunStates/${randomUUID()}/managedDevice`,
        ];
        for (const p of wrong) {
          const res = await change(s, p, [configItem(config)]);
          assert.equal(res.status, 404, `${p}: ${res.status} ${res.text}`);
        }
        assert.equal(await snapshot(s, other), before);
      });
    });

    it("the engine seam: managed-device listeners hear of the device when a removal takes effect and when it is restored, inside the change's transaction", async () => {
      const heard: string[][] = [];
      const listen = async (_services: unknown, _tx: unknown, tenantId: string, ids: string[] | "all") => void heard.push([tenantId, ...(ids === "all" ? ["all"] : ids)]);
      const device = await enroll(s);
      const a = await configuration(s);
      s.allot.services.managedDeviceListeners.push(listen);
      try {
        await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(a)]);
        assert.deepEqual(heard, [[DEMO_TENANT_ID, device]]);
        await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(a)]);
        assert.equal(heard.length, 1, "repeating the same set changes no removal");
        await change(s, `/deviceManagement/managedDevices/${device}`, []);
        assert.deepEqual(heard, [[DEMO_TENANT_ID, device], [DEMO_TENANT_ID, device]]);
      } finally {
        s.allot.services.managedDeviceListeners.splice(s.allot.services.managedDeviceListeners.indexOf(listen), 1);
      }
    });

    it("the resolution engine honours it: a removed configuration stops applying to that device (deviceStatuses, deviceStatusOverview, explain with the reason) and applies again once restored; the group assignment is untouched", async () => {
      const [mine, neighbour] = [await enrollWithEntra(s), await enrollWithEntra(s)];
      const { target } = await groupTarget(s, [mine.entraObjectId, neighbour.entraObjectId]);
      const config = await configuration(s, "Engine effect", [target]);
      const assignments = async () => (await s.call("GET", `/deviceManagement/deviceConfigurations/${config}/assignments`)).body.value;
      const assignedBefore = await assignments();
      const report = async () => {
        const statuses = (await s.call("GET", `/deviceManagement/deviceConfigurations/${config}/deviceStatuses`)).body.value;
        const overview = (await s.call("GET", `/deviceManagement/deviceConfigurations/${config}/deviceStatusOverview`)).body;
        const explained = (await s.call("GET", `/_allot/explain/devices/${mine.managedDeviceId}`)).body.configurations.find((c: any) => c.id === config);
        return {
          statuses: statuses.map((d: any) => [d.deviceDisplayName, d.status]).sort(),
          successCount: overview.successCount,
          outcome: [explained.applies, explained.outcome, explained.reason],
        };
      };
      const applied = await report();
      assert.deepEqual(applied.statuses, [[mine.deviceName, "compliant"], [neighbour.deviceName, "compliant"]].sort());
      assert.equal(applied.successCount, 2);
      assert.equal(applied.outcome[1], "applies");

      assert.equal((await change(s, `/deviceManagement/managedDevices/${mine.managedDeviceId}`, [configItem(config)])).status, 204);
      const removed = await report();
      assert.deepEqual(removed.statuses, [[neighbour.deviceName, "compliant"]], "the device leaves the configuration's device statuses; its neighbour stays");
      assert.equal(removed.successCount, 1, "the overview counts follow");
      assert.equal(removed.outcome[0], false);
      assert.equal(removed.outcome[1], "removedByChangeAssignments");
      assert.match(String(removed.outcome[2]), /changeAssignments/);
      assert.deepEqual(await assignments(), assignedBefore, "the group assignment itself is untouched");

      assert.equal((await change(s, `/deviceManagement/managedDevices/${mine.managedDeviceId}`, [])).status, 204);
      const restored = await report();
      assert.deepEqual(restored.statuses, applied.statuses);
      assert.equal(restored.successCount, 2);
      assert.equal(restored.outcome[1], "applies");
    });

    it("a configuration not assigned to the device: its removal ends in `error` (errorCode 409, intentActionMessage says why); nothing is removed", async () => {
      const device = await enroll(s);
      const unassigned = await configuration(s, "Not for this device", []);
      assert.equal((await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(unassigned)])).status, 204);
      const result = await resultOf(s, device);
      assert.equal(result.actionState, "failed");
      const [item] = result.deviceAssignmentItems;
      assert.deepEqual([item.assignmentItemActionIntent, item.assignmentItemActionStatus, item.errorCode], ["remove", "error", 409]);
      assert.match(item.intentActionMessage, /no longer assigned to the device/);
      assert.deepEqual(await removedSet(s, device), []);
    });

    it("Kiota sees a rejected call as an ODataError with responseStatusCode 400", async () => {
      const device = await enroll(s);
      let error: ODataError | undefined;
      try {
        await kiotaChange(device, [{ itemId: randomUUID(), itemType: "deviceConfiguration" }]);
      } catch (e) {
        error = e as ODataError;
      }
      assert.equal(error?.responseStatusCode, 400);
      assert.equal(error?.errorEscaped?.code, "BadRequest");
    });
  });

  describe(`changeAssignments lifecycle on the clock (${backend})`, () => {
    let s: TestServer;
    const clock = new ManualClock(Date.parse("2026-03-01T08:00:00.000Z"));
    before(async () => {
      s = await startTestServer(backend, { lifecycle: "60s", clock, reconcile: false });
    });
    after(() => s.close());
    /** Moves the clock past the next step and lets the reconciler apply what came due. */
    const tick = async () => {
      clock.advanceSeconds(61);
      await s.allot.reconciler.runOnce();
    };

    it("each item moves initiated → inProgress → removed one step per interval; actionState pending → active → done; timestamps from the clock", async () => {
      const device = await enroll(s);
      const a = await configuration(s);
      const t0 = clock.now().toISOString();
      assert.equal((await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(a)])).status, 204);
      let result = await resultOf(s, device);
      assert.deepEqual([result.actionState, result.startDateTime, result.lastUpdatedDateTime], ["pending", t0, t0]);
      assert.deepEqual(itemsOf(result), [[a, "remove", "initiated"]]);
      assert.deepEqual([result.deviceAssignmentItems[0].lastActionDateTime, result.deviceAssignmentItems[0].lastModifiedDateTime], [t0, t0]);
      assert.deepEqual(await removedSet(s, device), [], "not removed before the device has done it");

      await tick();
      const t1 = clock.now().toISOString();
      result = await resultOf(s, device);
      assert.equal(result.actionState, "active");
      assert.deepEqual(itemsOf(result), [[a, "remove", "inProgress"]]);
      assert.deepEqual([result.deviceAssignmentItems[0].lastActionDateTime, result.deviceAssignmentItems[0].lastModifiedDateTime], [t0, t1]);
      assert.deepEqual(await removedSet(s, device), []);

      await tick();
      result = await resultOf(s, device);
      assert.equal(result.actionState, "done");
      assert.deepEqual(itemsOf(result), [[a, "remove", "removed"]]);
      assert.equal(result.deviceAssignmentItems[0].lastModifiedDateTime, clock.now().toISOString());
      assert.deepEqual(await removedSet(s, device), [`deviceConfiguration/${a}`]);

      // Restore on the same clock.
      await change(s, `/deviceManagement/managedDevices/${device}`, []);
      assert.deepEqual(itemsOf(await resultOf(s, device)), [[a, "restore", "initiated"]]);
      await tick();
      assert.deepEqual(itemsOf(await resultOf(s, device)), [[a, "restore", "inProgress"]]);
      assert.deepEqual(await removedSet(s, device), [`deviceConfiguration/${a}`], "still removed while the restore runs");
      await tick();
      assert.deepEqual(itemsOf(await resultOf(s, device)), [[a, "restore", "succeeded"]]);
      assert.deepEqual(await removedSet(s, device), []);
    });

    it("a configuration deleted meanwhile ends in `error` with errorCode and intentActionMessage; actionState failed; nothing is removed", async () => {
      const device = await enroll(s);
      const [gone, kept] = [await configuration(s), await configuration(s)];
      await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(gone), configItem(kept)]);
      await tick();
      assert.equal((await s.call("DELETE", `/deviceManagement/deviceConfigurations/${gone}`)).status, 204);
      await tick();
      const result = await resultOf(s, device);
      assert.equal(result.actionState, "failed");
      const failed = result.deviceAssignmentItems.find((i: any) => i.itemId === gone);
      assert.deepEqual([failed.assignmentItemActionStatus, failed.errorCode], ["error", 404]);
      assert.match(failed.intentActionMessage, /no longer exists/);
      assert.deepEqual(await removedSet(s, device), [`deviceConfiguration/${kept}`]);
    });

    it("a configuration unassigned from the device meanwhile ends in `error` 409 'no longer assigned'", async () => {
      const device = await enrollWithEntra(s);
      const { groupId, target } = await groupTarget(s, [device.entraObjectId]);
      const config = await configuration(s, "Leaves the group", [target]);
      await change(s, `/deviceManagement/managedDevices/${device.managedDeviceId}`, [configItem(config)]);
      await tick();
      assert.equal((await s.call("DELETE", `/groups/${groupId}/members/${device.entraObjectId}/$ref`)).status, 204);
      await tick();
      const [item] = (await resultOf(s, device.managedDeviceId)).deviceAssignmentItems;
      assert.deepEqual([item.assignmentItemActionStatus, item.errorCode], ["error", 409]);
      assert.match(item.intentActionMessage, /no longer assigned/);
      assert.deepEqual(await removedSet(s, device.managedDeviceId), []);
    });

    it("a newer call while an older one is in flight replaces it: the older set's pending removal is dropped, the newer set runs to its end", async () => {
      const device = await enroll(s);
      const [first, second] = [await configuration(s), await configuration(s)];
      await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(first)]);
      await tick(); // first: inProgress
      await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(second)]);
      assert.deepEqual(itemsOf(await resultOf(s, device)), [[second, "remove", "initiated"]]);
      const [work] = await s.allot.db.all(`SELECT COUNT(*) AS n FROM pending_work WHERE subject_id = ${s.allot.db.dialect.param(1)}`, [device]);
      assert.equal(Number(work.n), 1, "one lifecycle in flight per device");
      await tick();
      await tick();
      assert.deepEqual(itemsOf(await resultOf(s, device)), [[second, "remove", "removed"]]);
      assert.deepEqual(await removedSet(s, device), [`deviceConfiguration/${second}`]);
      // Naming the removed item again, with another, keeps its state and only runs the new one.
      const third = await configuration(s);
      await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(second), configItem(third)]);
      assert.deepEqual(itemsOf(await resultOf(s, device)), [[second, "remove", "removed"], [third, "remove", "initiated"]].sort());
    });
  });
}

describe("changeAssignments lifecycle after reads", () => {
  it("with `2reads` each step comes due after two reads of the device", async () => {
    const s = await startTestServer("sqlite", { lifecycle: "2reads", reconcile: false });
    try {
      const device = await enroll(s);
      const a = await configuration(s);
      await change(s, `/deviceManagement/managedDevices/${device}`, [configItem(a)]);
      const status = async () => (await resultOf(s, device)).deviceAssignmentItems[0].assignmentItemActionStatus;
      assert.equal(await status(), "initiated");
      assert.equal(await status(), "inProgress");
      await status();
      assert.equal(await status(), "removed");
    } finally {
      await s.close();
    }
  });
});
