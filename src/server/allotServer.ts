// Assembles one Allot installation: store, migrations, identity, seed, and the HTTP adapters on Fastify.

import { EntityTextCache } from "../graph/entityTextCache.js";
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer, type RequestListener } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import Fastify, { type FastifyInstance } from "fastify";
import { graphModel } from "../graph/model/index.js";
import { EntityRequests } from "../graph/entityRequests.js";
import { AuditTrail } from "../graph/auditTrail.js";
import { DEVICE_ACTION_WORK, deviceActionHandler, deviceActionWork } from "../graph/devices/deviceActionRequests.js";
import { describeTiming, LifecycleTimings, parseLifecycleTiming } from "../engine/lifecycleTiming.js";
import { FaultStore } from "../gate/faultStore.js";
import { RequestGate } from "../gate/requestGate.js";
import { Throttle } from "../gate/throttle.js";
import { limitsFromJson, parseThrottleFlag, REAL_LIMITS, type ThrottleLimits } from "../gate/throttleLimits.js";
import { intuneServiceFamily } from "../graph/intuneServiceFamily.js";
import { registerFaultRoutes } from "../control/faultRoutes.js";
import { registerThrottlingRoutes } from "../control/throttlingRoutes.js";
import { registerTimeControlRoutes } from "../control/timeControlRoutes.js";
import { SharedSettings } from "../store/sharedSettings.js";
import { ControlledClock } from "../time/controlledClock.js";
import { SharedState } from "./sharedState.js";
import { CHANGE_ASSIGNMENTS_WORK, changeAssignmentsHandler, changeAssignmentsWork, type ChangeAssignmentsOptions } from "../graph/devices/changeAssignmentsRequests.js";
import { detectedAppBehaviour, deviceNavigationProviders } from "../graph/devices/deviceNavigation.js";
import { assignedThroughEngine } from "../graph/devices/changeAssignmentsAssignedCheck.js";
import { Reconciler } from "../reconcile/reconciler.js";
import { WorkQueue } from "../reconcile/workQueue.js";
import { registerEnrollmentRoutes } from "../control/enrollmentRoutes.js";
import { registerFleetRoutes } from "../control/fleetRoutes.js";
import { registerExplainRoutes } from "../control/explainRoutes.js";
import { configurationReevaluation, onConfigurationMembershipChanges, onManagedDeviceChanges, registerManagedDeviceReevaluation } from "../graph/configurations/configurationReevaluation.js";
import { configurationReportProviders } from "../graph/configurations/configurationReports.js";
import { CONFIGURATION_CHECK_IN_WORK, ConfigurationStates } from "../graph/configurations/configurationStates.js";
import { AUTOPILOT_EVALUATION_WORK, AUTOPILOT_SYNC_WORK, AutopilotAssignments } from "../graph/autopilot/autopilotAssignments.js";
import { registerAutopilotBehaviours } from "../graph/autopilot/autopilotBehaviours.js";
import { autopilotProviders } from "../graph/autopilot/autopilotNavigation.js";
import { autopilotActions } from "../graph/autopilot/autopilotActions.js";
import { ConfigurationAssignments } from "../graph/configurations/configurationAssignments.js";
import { configurationActions } from "../graph/configurations/configurationActions.js";
import { registerConfigurationBehaviours } from "../graph/configurations/configurationBehaviours.js";
import { configurationLinkProviders } from "../graph/configurations/configurationLinks.js";
import { ConfigurationListeners } from "../graph/configurations/configurationListeners.js";
import { ConfigurationTables } from "../graph/configurations/configurationTargets.js";
import { registerDeviceProfileCleanup } from "../mmd/deviceProfiles.js";
import { registerMmdRoutes } from "../mmd/mmdRoutes.js";
import { mmdModel } from "../mmd/mmdModel.js";
import { MMD_REASSIGN_BATCH_WORK, MMD_REASSIGN_WORK, reassignBatchWork, reassignWork } from "../mmd/reassignProfile.js";
import { EntityBehaviours, type GraphServices, type NavigationProvider } from "../graph/graphContext.js";
import { registerGraphRoutes, type GraphRequestExecutor } from "../graph/graphRoutes.js";
import { graphReadListener } from "./graphReadListener.js";
import { registerDirectoryBehaviours } from "../graph/directory/directoryBehaviours.js";
import { groupMembersProvider, memberOfProvider } from "../graph/directory/membershipProviders.js";
import { memberGroupActions } from "../graph/directory/memberGroupActions.js";
import { Memberships } from "../directory/memberships.js";
import { DynamicMembership } from "../directory/dynamicMembership.js";
import { registerIdentityRoutes } from "../identity/identityRoutes.js";
import { ensureSigningKey } from "../identity/signingKeys.js";
import type { PasswordHash } from "../identity/userPasswords.js";
import { TrustedIssuers } from "../identity/trustedIssuers.js";
import { Authenticator } from "../identity/authenticator.js";
import { BodyValidator } from "../odata/bodyValidation.js";
import { EntitySerializer } from "../odata/serializer.js";
import { registerControlRoutes } from "../control/controlRoutes.js";
import { registerIdentityControlRoutes } from "../control/identityControlRoutes.js";
import { checkFixture, loadFixture, type Fixture } from "../seed/fixture.js";
import { demoFixture } from "../seed/demoTenant.js";
import type { Database } from "../store/database.js";
import { EntityStore } from "../store/entityStore.js";
import { IdentityStore } from "../store/identityStore.js";
import { migrate, wipeTenantState } from "../store/schema.js";
import { withinTransaction } from "../store/scopedDatabase.js";
import { SqliteDatabase } from "../store/sqlite/sqliteDatabase.js";
import { PostgresDatabase } from "../store/postgres/postgresDatabase.js";
import { systemClock, type Clock } from "../time/clock.js";
import { parseReplicationLag, ReplicationLag } from "../store/replicationLag.js";
import { asGraphError, sendGraphError } from "./graphErrorEnvelope.js";
import { GraphError } from "../odata/errors.js";
import { addProtocolHeaders } from "./protocolHeaders.js";
import { LOGIN_HOST_BASE, PROXIED_HOSTS, startHttpsProxy, type RunningHttpsProxy } from "./httpsProxy.js";
import { coverageRecorderFromEnvironment, microsoftClientOf } from "../coverage/coverageRecorder.js";
import { inMemoryCertificateAuthority, issueServerCertificate, type ServerCertificate } from "./localCertificateAuthority.js";

export type StoreOption = { kind: "sqlite"; file: string } | { kind: "postgres"; url: string; schema?: string };

export interface AllotOptions {
  port: number;
  host: string;
  store: StoreOption;
  /** `demo`, `none`, a fixture file path, or a fixture object. Applied only to a store that has no tenant yet. */
  seed: "demo" | "none" | string | Fixture;
  tls?: { certPem: string; keyPem: string };
  /** The base URL tokens are issued for (the `iss` prefix); defaults to the listening URL. */
  publicUrl?: string;
  maxPageSize?: number;
  /** Issuers whose tokens are accepted besides Allot's own (`--trust-issuer`), and the claim naming the tenant. */
  trustIssuers?: string[];
  tenantClaim?: string;
  trustRefetchCooldownMs?: number;
  /** Key for installation-wide control operations (X-Allot-Admin-Key). */
  adminKey?: string;
  bodyLimitBytes?: number;
  /**
   * Timing of every lifecycle step: `immediate`, `<n>s` or `<n>reads` (default 1s; a lifecycle may get its own at
   * run time). Given, it is stored as the installation's default; absent, the stored default (or 1s) holds.
   */
  lifecycle?: string;
  /**
   * Intune throttling: `off`, `real`, `scale=<factor>`, custom limits as JSON text, or settings as an object (the PUT /_allot/throttling body). Given, they are
   * stored for every process on the store; absent, the stored limits (or the real ones) hold.
   */
  throttle?: string | ThrottleLimits | Record<string, unknown>;
  /** Replication lag after Graph writes: `2s`, `500ms`, `0`/`off` (default off); changeable at /_allot/replication-lag. */
  replicationLag?: string;
  /** Run the reconciler loop in this process (default true). */
  reconcile?: boolean;
  clock?: ControlledClock;
  logger?: boolean;
  /**
   * The HTTPS proxy mode (`--proxy-port`): CONNECT to graph.microsoft.com, mmdls.microsoft.com and
   * login.microsoftonline.com is served by this installation. Without a certificate, an in-memory CA issues one.
   */
  proxy?: { port: number; host?: string; certificate?: ServerCertificate; caCertPem?: string };
}

export interface RunningAllot {
  url: string;
  app: FastifyInstance;
  db: Database;
  services: GraphServices;
  identity: IdentityStore;
  reconciler: Reconciler;
  shared: SharedState;
  requests: EntityRequests;
  /** Every HTTP route registered (method, Fastify URL pattern): what docs/coverage.md lists besides the model. */
  routes: { method: string; url: string }[];
  /** The proxy mode's URL and the CA its certificate chains to (when it is on). */
  proxy?: { url: string; port: number; caCertPem?: string };
  /** The configuration engine's maintained state (benchmarks drive full passes through it). */
  configurations: ConfigurationStates;
  close(): Promise<void>;
}

export const DEFAULT_ADMIN_KEY = "allot-dev-admin-key";

export async function openDatabase(store: StoreOption): Promise<Database> {
  if (store.kind === "sqlite") return new SqliteDatabase(store.file === ":memory:" ? "SQLite in memory" : `SQLite ${store.file}`, store.file);
  const db = new PostgresDatabase(store.url, store.schema);
  await db.connect();
  return db;
}

async function resolveSeed(seed: AllotOptions["seed"]): Promise<Fixture | undefined> {
  if (typeof seed === "object") return checkFixture(seed);
  if (seed === "none") return undefined;
  if (seed === "demo") return demoFixture;
  return checkFixture(JSON.parse(await readFile(seed, "utf8")));
}

export async function startAllot(options: AllotOptions): Promise<RunningAllot> {
  // The controlled clock drives what the emulated service records and every lifecycle; identity (tokens, keys)
  // stays on real time, since clients hold tokens in real time (docs/decisions.md, "Time control").
  const clock = options.clock ?? new ControlledClock();
  const realClock: Clock = systemClock;
  const replicationLagMs = parseReplicationLag(options.replicationLag ?? "off");
  const db = await openDatabase(options.store);
  try {
    await migrate(db, graphModel, mmdModel);
  } catch (e) {
    await db.close();
    throw e;
  }
  const identity = new IdentityStore(db);
  await ensureSigningKey(identity, realClock.now());

  const memberships = new Memberships();
  const entities = new EntityStore(graphModel);
  const behaviours = new EntityBehaviours();
  registerDirectoryBehaviours(behaviours, memberships, new DynamicMembership(graphModel, entities, memberships));
  const providers = new Map<string, NavigationProvider>([
    ["groupMembers", groupMembersProvider(memberships)],
    ["memberOf", memberOfProvider(memberships)],
  ]);
  const timings = new LifecycleTimings(parseLifecycleTiming("1s"), [DEVICE_ACTION_WORK, AUTOPILOT_SYNC_WORK, MMD_REASSIGN_WORK, CONFIGURATION_CHECK_IN_WORK, CHANGE_ASSIGNMENTS_WORK]);
  const faults = new FaultStore(db, graphModel);
  const shared = new SharedState(new SharedSettings(db), clock, timings, faults, REAL_LIMITS);
  await shared.refresh();
  if (options.lifecycle !== undefined) await shared.setLifecycles({ default: describeTiming(parseLifecycleTiming(options.lifecycle)) });
  if (options.throttle !== undefined) {
    await shared.setThrottling(typeof options.throttle === "string" ? parseThrottleFlag(options.throttle) : limitsFromJson(options.throttle));
  }
  const timingOf = (kind: string) => () => timings.for(kind);
  const queue = new WorkQueue(db);
  // Bulk work items are steps of a lifecycle users know by its own name, and follow its timing.
  const lifecycleOf: Record<string, string> = { [AUTOPILOT_EVALUATION_WORK]: AUTOPILOT_SYNC_WORK, [MMD_REASSIGN_BATCH_WORK]: MMD_REASSIGN_WORK };
  const reconciler = new Reconciler(db, queue, clock, (kind) => timings.for(lifecycleOf[kind] ?? kind));
  const services: GraphServices = {
    db,
    model: graphModel,
    entities,
    serializer: new EntitySerializer(graphModel),
    validator: new BodyValidator(graphModel),
    clock,
    behaviours,
    providers,
    maxPageSize: options.maxPageSize ?? 1000,
    audit: new AuditTrail(graphModel, entities),
    membershipListeners: [],
    managedDeviceListeners: [],
    replication: new ReplicationLag(replicationLagMs),
    observeRead: (tenantId, id, collection) => (timings.countsReads() ? reconciler.observeRead(tenantId, [id, collection]) : false),
    // Used only while the store has a read stamp (SQLite): docs/decisions.md, "The Graph read cache".
    readCache: new EntityTextCache(),
  };
  const managedDevicesTable = graphModel.entityType("deviceManagement").navigation.get("managedDevices")!.table!;
  reconciler.register(DEVICE_ACTION_WORK, deviceActionWork(entities, managedDevicesTable));
  for (const [name, provider] of Object.entries(deviceNavigationProviders(graphModel))) providers.set(name, provider);
  behaviours.register("detectedApp", detectedAppBehaviour);
  const changeAssignments: ChangeAssignmentsOptions = { reconciler, timing: timingOf(CHANGE_ASSIGNMENTS_WORK) };
  reconciler.register(CHANGE_ASSIGNMENTS_WORK, changeAssignmentsWork(services, changeAssignments));
  const autopilot = new AutopilotAssignments(graphModel, entities, memberships, reconciler, timingOf(AUTOPILOT_SYNC_WORK));
  reconciler.register(AUTOPILOT_SYNC_WORK, autopilot.work());
  reconciler.register(AUTOPILOT_EVALUATION_WORK, autopilot.evaluationWork());
  registerAutopilotBehaviours(behaviours, autopilot);
  for (const [name, provider] of Object.entries(autopilotProviders(autopilot))) providers.set(name, provider);
  services.membershipListeners.push((ctx, tx, changes) => autopilot.onMembershipChanges(ctx, tx, changes));
  const configurationStates = new ConfigurationStates(graphModel, entities, reconciler, timingOf(CONFIGURATION_CHECK_IN_WORK), clock);
  reconciler.register(CONFIGURATION_CHECK_IN_WORK, configurationStates.work());
  registerManagedDeviceReevaluation(behaviours, configurationStates);
  for (const [name, provider] of Object.entries(configurationReportProviders(configurationStates))) providers.set(name, provider);
  services.membershipListeners.push((ctx, tx, changes) => onConfigurationMembershipChanges(configurationStates, ctx, tx, changes));
  services.managedDeviceListeners.push((svc, tx, tenantId, ids) => onManagedDeviceChanges(configurationStates, svc, tx, tenantId, ids));
  changeAssignments.isAssigned = assignedThroughEngine(configurationStates);
  reconciler.register(MMD_REASSIGN_WORK, reassignWork(services, reconciler, timingOf(DEVICE_ACTION_WORK)));
  reconciler.register(MMD_REASSIGN_BATCH_WORK, reassignBatchWork(services, reconciler, timingOf(DEVICE_ACTION_WORK)));
  registerDeviceProfileCleanup(behaviours);
  // Device configurations and assignment filters; the configuration engine listens through configurationListeners.
  const configurationListeners = new ConfigurationListeners();
  configurationListeners.add(configurationReevaluation(configurationStates));
  const configurations = new ConfigurationAssignments(new ConfigurationTables(graphModel), entities, configurationListeners);
  registerConfigurationBehaviours(behaviours, configurations);
  for (const [name, provider] of configurationLinkProviders(graphModel)) providers.set(name, provider);
  const requests = new EntityRequests(
    new Map(
      Object.entries({
        ...memberGroupActions(memberships),
        deviceAction: deviceActionHandler(reconciler, timingOf(DEVICE_ACTION_WORK)),
        changeAssignments: changeAssignmentsHandler(changeAssignments),
        ...autopilotActions(autopilot),
        ...configurationActions(configurations, identity),
      }),
    ),
  );

  // Graph reads are answered by a listener in front of Fastify (graphReadListener.ts) once the routes exist.
  let graphExecutor: GraphRequestExecutor | undefined;
  let serve: RequestListener = () => undefined;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 4 * 1024 * 1024,
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: false,
    // Fastify's own URL errors (a malformed percent-encoding) answer in the Graph envelope too.
    frameworkErrors: (error, request, reply) => sendGraphError(request, reply, new GraphError(400, "BadRequest", `The request URL is not valid: ${error.message}`), clock.now()),
    ...(options.tls ? { https: { cert: options.tls.certPem, key: options.tls.keyPem } } : {}),
    // The server Fastify would create, with the read listener in front of Fastify's handler.
    serverFactory: (fastifyHandler, fastifyOptions) => {
      // Fastify's defaults for these are already filled in; they are set as Fastify sets them on its own server.
      const settings = fastifyOptions as { keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket: number };
      serve = graphReadListener(() => graphExecutor, fastifyHandler as RequestListener);
      const server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, serve) : createHttpServer(serve);
      server.keepAliveTimeout = settings.keepAliveTimeout;
      server.requestTimeout = settings.requestTimeout;
      server.setTimeout(settings.connectionTimeout);
      if (settings.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
      return server;
    },
  }) as unknown as FastifyInstance;
  const routes: { method: string; url: string }[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) if (method !== "HEAD") routes.push({ method, url: route.url });
  });
  // Model routes are recorded by the Graph executor; every other route (MMD, identity, control, $batch) here.
  const recorder = coverageRecorderFromEnvironment();
  if (recorder) {
    app.addHook("onResponse", async (request, reply) => {
      const url = request.routeOptions.url;
      if (url === undefined || /^\/(beta|v1\.0)(\/\*)?$/.test(url)) return;
      recorder.record({ api: "http", route: url, method: request.method, status: reply.statusCode, client: microsoftClientOf(request.headers) });
    });
  }
  // Each adapter parses its own bodies (Graph JSON, token forms, MMD arrays) to answer errors its own way.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  addProtocolHeaders(app);
  app.setErrorHandler((error, request, reply) => {
    const graphError = asGraphError(error);
    // A 500 is a bug in Allot: say so on stderr even when request logging is off.
    if (graphError.status >= 500) process.stderr.write(`allot: ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}\n`);
    sendGraphError(request, reply, graphError, clock.now());
  });
  // Graph answers a path without a version segment this way (spec §4.1).
  app.setNotFoundHandler((request, reply) => {
    const first = decodeURIComponent(request.url.split(/[/?]/)[1] ?? "").toLowerCase();
    sendGraphError(request, reply, new GraphError(404, "ResourceNotFound", `Invalid version: ${first}`), clock.now());
  });

  const fixture = await resolveSeed(options.seed);
  let url = "";
  const issuerBase = () => options.publicUrl ?? url;
  // Tokens issued through the proxy's login.microsoftonline.com carry Entra's issuer; both verify everywhere.
  const issuerBases = () => (options.proxy ? [issuerBase(), LOGIN_HOST_BASE] : [issuerBase()]);
  const issuerBaseFor = (baseUrl: string) => (options.proxy && baseUrl === LOGIN_HOST_BASE ? LOGIN_HOST_BASE : issuerBase());
  const seedInto = async (target: Fixture) => {
    await db.transaction((tx) =>
      loadFixture(target, { services: { ...services, db: withinTransaction(db, tx) }, identity: new IdentityStore(withinTransaction(db, tx)), requests, serviceRoot: `${url}/beta` }),
    );
  };

  const usersTable = graphModel.entitySets.get("users")!.table;
  const findUser = async (tenantId: string, upn: string) => {
    const [u] = await entities.findBy(db, usersTable, tenantId, "userPrincipalName", upn);
    if (!u) return undefined;
    return {
      id: u.id,
      userPrincipalName: String(u.doc.userPrincipalName),
      displayName: String(u.doc.displayName ?? ""),
      accountEnabled: u.doc.accountEnabled === true,
      passwordHash: (u.doc.passwordProfile as { passwordHash?: PasswordHash } | undefined)?.passwordHash,
    };
  };
  registerIdentityRoutes(app, { identity, clock: realClock, findUser, issuerBaseFor });
  const trusted = new TrustedIssuers(options.trustIssuers ?? [], { tenantClaim: options.tenantClaim ?? "tid", refetchCooldownMs: options.trustRefetchCooldownMs });
  const authenticator = new Authenticator(identity, issuerBases, realClock, trusted);
  const gate = new RequestGate(new Throttle(db, clock, () => shared.throttling), faults, intuneServiceFamily);
  graphExecutor = registerGraphRoutes(app, { services, identity, requests, authenticator, gate, ...(recorder ? { recorder } : {}) });
  registerIdentityControlRoutes(app, {
    identity,
    authenticator,
    clock: realClock,
    model: graphModel,
    findUser,
    adminKey: options.adminKey ?? DEFAULT_ADMIN_KEY,
    wipeTenant: (tenantId) => db.transaction((tx) => wipeTenantState(tx, [graphModel, mmdModel], tenantId)),
    get issuerBase() { return issuerBase(); },
  });
  registerEnrollmentRoutes(app, { services, authenticator });
  registerFleetRoutes(app, { services, identity, authenticator });
  registerExplainRoutes(app, { services, authenticator, configurations: configurationStates, autopilot });
  registerMmdRoutes(app, { services, identity, authenticator, reconciler, timing: timingOf(MMD_REASSIGN_WORK) });
  const authority = { identity, clock, adminKey: options.adminKey ?? DEFAULT_ADMIN_KEY, authenticator, get issuerBase() { return issuerBase(); } };
  registerTimeControlRoutes(app, { authority, shared, reconciler });
  registerThrottlingRoutes(app, { authority, shared });
  registerFaultRoutes(app, { authority, faults, model: graphModel });
  registerControlRoutes(app, { db, identity, services, faults, authenticator, storedModels: [graphModel, mmdModel], adminKey: options.adminKey ?? DEFAULT_ADMIN_KEY, startupFixture: fixture, seedInto, get issuerBase() { return issuerBase(); } });

  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  url = `${options.tls ? "https" : "http"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  if (fixture && (await identity.listTenants()).length === 0) await seedInto(fixture);
  if (options.reconcile !== false) reconciler.start();
  shared.start();

  let proxy: RunningHttpsProxy | undefined;
  let proxyCa = options.proxy?.caCertPem;
  if (options.proxy) {
    let certificate = options.proxy.certificate;
    if (!certificate) {
      const ca = inMemoryCertificateAuthority();
      certificate = issueServerCertificate(ca, [...PROXIED_HOSTS]);
      proxyCa = ca.caCertPem;
    }
    try {
      proxy = await startHttpsProxy({ port: options.proxy.port, host: options.proxy.host ?? options.host, certificate, handle: (req, res) => serve(req, res) });
    } catch (e) {
      await app.close();
      await reconciler.stop();
      await db.close();
      throw e;
    }
  }

  return {
    url,
    app,
    db,
    services,
    identity,
    reconciler,
    shared,
    requests,
    routes,
    ...(proxy ? { proxy: { url: proxy.url, port: proxy.port, ...(proxyCa ? { caCertPem: proxyCa } : {}) } } : {}),
    configurations: configurationStates,
    async close() {
      shared.stop();
      await proxy?.close();
      await app.close();
      await reconciler.stop();
      await db.close();
    },
  };
}
