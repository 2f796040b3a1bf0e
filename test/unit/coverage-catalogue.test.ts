// docs/coverage.md's parts: the operation catalogue spells routes exactly as the recorder records requests, the
// recorder exists only with ALLOT_COVERAGE_FILE, Microsoft's clients are told apart by their headers, and the
// table marks what the recording saw.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { coverageRecorderFromEnvironment, microsoftClientOf, modelRoute } from "../../src/coverage/coverageRecorder.js";
import { coverageMarkdown, parseServedRequests } from "../../src/coverage/coverageReport.js";
import { operationCatalogue, type CatalogueEntry } from "../../src/coverage/operationCatalogue.js";
import { resolvePath, splitPath } from "../../src/odata/pathResolver.js";
import { startAllot, type RunningAllot } from "../../src/server/allotServer.js";

describe("coverage catalogue and recorder", () => {
  let allot: RunningAllot;
  let catalogue: CatalogueEntry[];
  before(async () => {
    allot = await startAllot({ port: 0, host: "127.0.0.1", store: { kind: "sqlite", file: ":memory:" }, seed: "none", reconcile: false });
    catalogue = operationCatalogue({ model: allot.services.model, providers: allot.services.providers, implements: (h) => allot.requests.implements(h), routes: allot.routes });
  });
  after(async () => allot?.close());

  const has = (api: string, method: string, route: string) => catalogue.some((e) => e.api === api && e.method === method && e.route === route);

  it("lists entity-set CRUD, $count, $ref, bound actions, MMD, identity and control-plane routes", () => {
    assert.ok(has("Graph", "GET", "/groups"));
    assert.ok(has("Graph", "POST", "/groups"));
    assert.ok(has("Graph", "PATCH", "/groups/{id}"));
    assert.ok(has("Graph", "GET", "/groups/$count"));
    assert.ok(has("Graph", "POST", "/groups/{id}/members/$ref"));
    assert.ok(has("Graph", "DELETE", "/groups/{id}/members/{id}/$ref"));
    assert.ok(has("Graph", "POST", "/deviceManagement/managedDevices/{id}/wipe"));
    assert.ok(has("Graph $batch", "POST", "/beta/$batch"));
    assert.ok(has("MMD", "PATCH", "/support/odata/v1/tenants/:tenantId/profiles/reassignProfile"));
    assert.ok(has("Identity", "POST", "/:tenant/oauth2/v2.0/token"));
    assert.ok(has("Control plane", "PUT", "/_allot/replication-lag"));
    assert.ok(!has("Graph", "POST", "/groups/{id}/members"), "a provider navigation is not created into");
    assert.ok(!catalogue.some((e) => e.route === "/beta/*"), "the Graph catch-all route is the model's, not a row");
  });

  it("every Graph route, instantiated, resolves back to itself through the path resolver", () => {
    for (const entry of catalogue.filter((e) => e.api === "Graph" && e.route !== "/" && e.route !== "/$metadata")) {
      const path = entry.route.slice(1).replace(/\{id\}/g, "some-id");
      const resolved = resolvePath(allot.services.model, splitPath(path));
      assert.equal(modelRoute(resolved.steps), entry.route, `${entry.method} ${entry.route}`);
    }
  });

  it("type casts count as their base path", () => {
    const resolved = resolvePath(allot.services.model, splitPath("deviceManagement/windowsAutopilotDeploymentProfiles/microsoft.graph.azureADWindowsAutopilotDeploymentProfile"));
    assert.equal(modelRoute(resolved.steps), "/deviceManagement/windowsAutopilotDeploymentProfiles");
  });

  it("Microsoft clients are told apart by SdkVersion and User-Agent; curl and fetch are not Microsoft clients", () => {
    assert.equal(microsoftClientOf({ sdkversion: "graph-js/3.0.7 (featureUsage=0000000f)" }), "graph-js/3.0.7");
    assert.equal(microsoftClientOf({ sdkversion: "graph-typescript-beta/1.0.0-preview.81, graph-typescript-core/1.0.0", "user-agent": "kiota-typescript/1.0.0-preview.109" }), "graph-typescript-beta/1.0.0-preview.81");
    assert.equal(microsoftClientOf({ "user-agent": "kiota-typescript/1.0.0-preview.109" }), "kiota-typescript/1.0.0-preview.109");
    assert.equal(microsoftClientOf({ "user-agent": "azsdk-js-identity/4.13.1 core-rest-pipeline/1.19.0 Node/20.19.0" }), "azsdk-js-identity/4.13.1");
    assert.equal(microsoftClientOf({ "user-agent": "curl/7.88.1" }), undefined);
    assert.equal(microsoftClientOf({ "user-agent": "node" }), undefined);
  });

  it("there is no recorder without ALLOT_COVERAGE_FILE; with it, each request is one JSON line", async () => {
    assert.equal(coverageRecorderFromEnvironment({}), undefined);
    const dir = await mkdtemp(join(tmpdir(), "allot-coverage-"));
    try {
      const file = join(dir, "served.jsonl");
      const recorder = coverageRecorderFromEnvironment({ ALLOT_COVERAGE_FILE: file })!;
      recorder.record({ api: "graph", route: "/groups", method: "GET", status: 200, client: "graph-js/3.0.7" });
      recorder.record({ api: "http", route: "/_allot/health", method: "GET", status: 200 });
      assert.deepEqual(parseServedRequests(await readFile(file, "utf8")).map((s) => s.route), ["/groups", "/_allot/health"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the table marks tested operations, their Microsoft clients, error-only ones, and strays", () => {
    const markdown = coverageMarkdown(catalogue, [
      { api: "graph", route: "/groups", method: "GET", status: 200, client: "graph-js/3.0.7" },
      { api: "graph", route: "/groups", method: "GET", status: 200 },
      { api: "graph", route: "/users/{id}", method: "PATCH", status: 400 },
      { api: "graph", route: "/nowhere", method: "GET", status: 200 },
      { api: "graph", route: "/groups", method: "PUT", status: 400 },
      { api: "http", route: "/_allot/health", method: "GET", status: 200 },
    ], "test");
    assert.match(markdown, /\| GET \| `\/groups` \| list \| ✓ \| ✓ \| graph-js \|/);
    assert.match(markdown, /\| PATCH \| `\/users\/\{id\}` \| update \| ✓ \| errors only \| — \|/);
    assert.match(markdown, /\| GET \| `\/users` \| list \| ✓ \| — \| — \|/);
    assert.match(markdown, /\| GET \| `\/_allot\/health` \| route \| ✓ \| ✓ \| — \|/);
    assert.match(markdown, /## Served but not in the catalogue\n\n- `Graph GET \/nowhere`\n\n/);
    assert.match(markdown, /## Tested refusals\n\n.*\n\n- `Graph PUT \/groups`/);
  });
});
