// Assembles one Allot installation: store, migrations, identity, seed, and the HTTP adapters on Fastify.

import { readFile } from "node:fs/promises";
import Fastify, { type FastifyInstance } from "fastify";
import { graphModel } from "../graph/model/index.js";
import { EntityRequests } from "../graph/entityRequests.js";
import { AuditTrail } from "../graph/auditTrail.js";
import { DEVICE_ACTION_WORK, deviceActionHandler, deviceActionWork } from "../graph/devices/deviceActionRequests.js";
import { parseLifecycleTiming } from "../engine/lifecycleTiming.js";
import { Reconciler } from "../reconcile/reconciler.js";
import { WorkQueue } from "../reconcile/workQueue.js";
import { registerEnrollmentRoutes } from "../control/enrollmentRoutes.js";
import { registerFleetRoutes } from "../control/fleetRoutes.js";
import { AUTOPILOT_EVALUATION_WORK, AUTOPILOT_SYNC_WORK, AutopilotAssignments } from "../graph/autopilot/autopilotAssignments.js";
import { registerAutopilotBehaviours } from "../graph/autopilot/autopilotBehaviours.js";
import { autopilotProviders } from "../graph/autopilot/autopilotNavigation.js";
import { autopilotActions } from "../graph/autopilot/autopilotActions.js";
import { registerMmdRoutes } from "../mmd/mmdRoutes.js";
import { mmdModel } from "../mmd/mmdModel.js";
import { MMD_REASSIGN_BATCH_WORK, MMD_REASSIGN_WORK, reassignBatchWork, reassignWork } from "../mmd/reassignProfile.js";
import { EntityBehaviours, type GraphServices, type NavigationProvider } from "../graph/graphContext.js";
import { registerGraphRoutes } from "../graph/graphRoutes.js";
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
import { asGraphError, sendGraphError } from "./graphErrorEnvelope.js";
import { GraphError } from "../odata/errors.js";
import { addProtocolHeaders } from "./protocolHeaders.js";

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
  /** Timing of every lifecycle step: `immediate`, `<n>s` or `<n>reads` (default 1s). */
  lifecycle?: string;
  /** Run the reconciler loop in this process (default true). */
  reconcile?: boolean;
  clock?: Clock;
  logger?: boolean;
}

export interface RunningAllot {
  url: string;
  app: FastifyInstance;
  db: Database;
  services: GraphServices;
  identity: IdentityStore;
  reconciler: Reconciler;
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
  const clock = options.clock ?? systemClock;
  const db = await openDatabase(options.store);
  try {
    await migrate(db, graphModel, mmdModel);
  } catch (e) {
    await db.close();
    throw e;
  }
  const identity = new IdentityStore(db);
  await ensureSigningKey(identity, clock.now());

  const memberships = new Memberships();
  const entities = new EntityStore(graphModel);
  const behaviours = new EntityBehaviours();
  registerDirectoryBehaviours(behaviours, memberships, new DynamicMembership(graphModel, entities, memberships));
  const providers = new Map<string, NavigationProvider>([
    ["groupMembers", groupMembersProvider(memberships)],
    ["memberOf", memberOfProvider(memberships)],
  ]);
  const timing = parseLifecycleTiming(options.lifecycle ?? "1s");
  const queue = new WorkQueue(db);
  const reconciler = new Reconciler(db, queue, clock, () => timing);
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
    observeRead: (tenantId, id, collection) => (timing.kind === "afterReads" ? reconciler.observeRead(tenantId, [id, collection]) : Promise.resolve(false)),
  };
  const managedDevicesTable = graphModel.entityType("deviceManagement").navigation.get("managedDevices")!.table!;
  reconciler.register(DEVICE_ACTION_WORK, deviceActionWork(entities, managedDevicesTable));
  const autopilot = new AutopilotAssignments(graphModel, entities, memberships, reconciler, () => timing);
  reconciler.register(AUTOPILOT_SYNC_WORK, autopilot.work());
  reconciler.register(AUTOPILOT_EVALUATION_WORK, autopilot.evaluationWork());
  registerAutopilotBehaviours(behaviours, autopilot);
  for (const [name, provider] of Object.entries(autopilotProviders(autopilot))) providers.set(name, provider);
  services.membershipListeners.push((ctx, tx, changes) => autopilot.onMembershipChanges(ctx, tx, changes));
  reconciler.register(MMD_REASSIGN_WORK, reassignWork(services, reconciler, () => timing));
  reconciler.register(MMD_REASSIGN_BATCH_WORK, reassignBatchWork(services, reconciler, () => timing));
  const requests = new EntityRequests(
    new Map(Object.entries({ ...memberGroupActions(memberships), deviceAction: deviceActionHandler(reconciler, () => timing), ...autopilotActions(autopilot) })),
  );

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 4 * 1024 * 1024,
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: false,
    // Fastify's own URL errors (a malformed percent-encoding) answer in the Graph envelope too.
    frameworkErrors: (error, request, reply) => sendGraphError(request, reply, new GraphError(400, "BadRequest", `The request URL is not valid: ${error.message}`), clock.now()),
    ...(options.tls ? { https: { cert: options.tls.certPem, key: options.tls.keyPem } } : {}),
  }) as unknown as FastifyInstance;
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
  registerIdentityRoutes(app, { identity, clock, findUser, get issuerBase() { return issuerBase(); } });
  const trusted = new TrustedIssuers(options.trustIssuers ?? [], { tenantClaim: options.tenantClaim ?? "tid", refetchCooldownMs: options.trustRefetchCooldownMs });
  const authenticator = new Authenticator(identity, issuerBase, clock, trusted);
  registerGraphRoutes(app, { services, identity, requests, authenticator });
  registerIdentityControlRoutes(app, {
    identity,
    authenticator,
    clock,
    model: graphModel,
    findUser,
    adminKey: options.adminKey ?? DEFAULT_ADMIN_KEY,
    wipeTenant: (tenantId) => db.transaction((tx) => wipeTenantState(tx, [graphModel, mmdModel], tenantId)),
    get issuerBase() { return issuerBase(); },
  });
  registerEnrollmentRoutes(app, { services, authenticator });
  registerFleetRoutes(app, { services, identity, authenticator });
  registerMmdRoutes(app, { services, identity, authenticator, reconciler, timing: () => timing });
  registerControlRoutes(app, { db, identity, services, authenticator, storedModels: [graphModel, mmdModel], adminKey: options.adminKey ?? DEFAULT_ADMIN_KEY, startupFixture: fixture, seedInto, get issuerBase() { return issuerBase(); } });

  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  url = `${options.tls ? "https" : "http"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  if (fixture && (await identity.listTenants()).length === 0) await seedInto(fixture);
  if (options.reconcile !== false) reconciler.start();

  return {
    url,
    app,
    db,
    services,
    identity,
    reconciler,
    async close() {
      await app.close();
      await reconciler.stop();
      await db.close();
    },
  };
}
