// What a Graph handler gets: who is calling, for which tenant, and the services of the installation.

import type { CompiledModel, EntityType, StorageTable } from "../odata/compiledModel.js";
import type { EntitySerializer } from "../odata/serializer.js";
import type { BodyValidator } from "../odata/bodyValidation.js";
import type { Database, SqlExecutor } from "../store/database.js";
import type { EntityStore, StoredEntity } from "../store/entityStore.js";
import type { Clock } from "../time/clock.js";
import type { AuditTrail } from "./auditTrail.js";
import type { MembershipChange } from "../directory/memberships.js";
import type { ReplicationLag } from "../store/replicationLag.js";
import type { EntityTextCache } from "./entityTextCache.js";

export interface Principal {
  tenantId: string;
  appId: string;
  objectId: string;
  kind: "application" | "delegated";
  /** Roles of an application token, or scopes of a delegated one. */
  permissions: ReadonlySet<string>;
  upn?: string;
}

export interface GraphServices {
  db: Database;
  model: CompiledModel;
  entities: EntityStore;
  serializer: EntitySerializer;
  validator: BodyValidator;
  clock: Clock;
  behaviours: EntityBehaviours;
  providers: Map<string, NavigationProvider>;
  maxPageSize: number;
  audit: AuditTrail;
  /** Called inside the transaction of every group membership change (assignment re-evaluation listens). */
  membershipListeners: MembershipListener[];
  /**
   * Called inside the transaction that changes facts of managed devices the configuration engine reads (today:
   * changeAssignments' per-device removals, kept in the device document as `_removedAssignmentItems`).
   */
  managedDeviceListeners: ManagedDeviceListener[];
  /** Opt-in replication lag: reads may see an entity as it was before a recent write (off by default). */
  replication: ReplicationLag;
  /**
   * A single entity is about to be read: read-timed lifecycle steps may come due. True when state changed; a plain
   * false (no promise to wait for) when no lifecycle counts reads.
   */
  observeRead(tenantId: string, entityId: string, collection: string): Promise<boolean> | false;
  /** The wire text of entities read by key (entityTextCache.ts); absent, nothing is kept. */
  readCache?: EntityTextCache;
}

export interface GraphContext extends GraphServices {
  principal: Principal;
  tenantId: string;
  /** e.g. `http://127.0.0.1:4680/beta` — the base of @odata.context and nextLink. */
  serviceRoot: string;
  /** The request's request-id (the audit log's correlation id). */
  requestId: string;
  /** Writes are audited, except the system's own (seed fixtures). */
  audited: boolean;
  requestHeaders: Record<string, string | string[] | undefined>;
}

export type MembershipListener = (ctx: GraphContext, tx: SqlExecutor, changes: MembershipChange[]) => Promise<void>;

/** `"all"`: every managed device of the tenant may have changed (a bulk operation such as the fleet generator). */
export type ManagedDeviceListener = (services: GraphServices, tx: SqlExecutor, tenantId: string, managedDeviceIds: string[] | "all") => Promise<void>;

/** Tells the listeners that these managed devices' engine-relevant facts changed, inside the change's transaction. */
export async function notifyManagedDeviceChanges(services: GraphServices, tx: SqlExecutor, tenantId: string, managedDeviceIds: string[] | "all") {
  if (managedDeviceIds.length === 0) return;
  for (const listen of services.managedDeviceListeners) await listen(services, tx, tenantId, managedDeviceIds);
}

export async function notifyMembershipChanges(ctx: GraphContext, tx: SqlExecutor, changes: MembershipChange[]) {
  if (changes.length === 0) return;
  for (const listen of ctx.membershipListeners) await listen(ctx, tx, changes);
}

/** Rules an entity type adds to generic CRUD, run inside the write's transaction. */
export interface EntityBehaviour {
  /** Before a create (before = undefined) or an update is stored; throw a GraphError to refuse. */
  validate?(ctx: GraphContext, tx: SqlExecutor, draft: StoredEntity, before?: StoredEntity): Promise<void>;
  afterWrite?(ctx: GraphContext, tx: SqlExecutor, after: StoredEntity, before?: StoredEntity): Promise<void>;
  /** Before a delete; throw a GraphError to refuse it. */
  beforeDelete?(ctx: GraphContext, tx: SqlExecutor, entity: StoredEntity): Promise<void>;
  afterDelete?(ctx: GraphContext, tx: SqlExecutor, deleted: StoredEntity): Promise<void>;
  /** Entities as reads show them, in the same order (state held apart from the rows, overlaid). */
  present?(ctx: GraphContext, x: SqlExecutor, entities: StoredEntity[]): Promise<StoredEntity[]>;
}

export class EntityBehaviours {
  private readonly byType = new Map<string, EntityBehaviour[]>();

  /** Several areas may add rules to one type (the Graph surface, the configuration engine): they run in order. */
  register(typeName: string, behaviour: EntityBehaviour) {
    const list = this.byType.get(typeName) ?? [];
    list.push(behaviour);
    this.byType.set(typeName, list);
  }

  /** Whether any behaviour of the type or its ancestors overlays reads (`present`). */
  presents(type: EntityType): boolean {
    for (let t: EntityType | undefined = type; t; t = t.base) if (this.byType.get(t.name)?.some((b) => b.present)) return true;
    return false;
  }

  /** Behaviours of the type and its ancestors, most derived first. */
  for(type: EntityType): EntityBehaviour[] {
    const out: EntityBehaviour[] = [];
    for (let t: EntityType | undefined = type; t; t = t.base) out.push(...(this.byType.get(t.name) ?? []));
    return out;
  }
}

export interface ProvidedEntity {
  entity: StoredEntity;
  type: EntityType;
  /** The table the entity lives in, when it can be changed through this path. */
  table?: StorageTable;
}

export interface ProviderPage {
  items: ProvidedEntity[];
  count?: number;
  hasMore: boolean;
}

export interface ProviderPageRequest {
  top: number;
  offset: number;
  count: boolean;
  /** A type-cast segment: only entities of these types (unqualified names). */
  types?: string[];
}

/** Resolves a navigation that is not a contained table: group members, a device's profile, … */
export interface NavigationProvider {
  /** A single-valued navigation's entity (a device's deploymentProfile …), if any. */
  single?(ctx: GraphContext, x: SqlExecutor, parent: StoredEntity): Promise<ProvidedEntity | undefined>;
  list(ctx: GraphContext, x: SqlExecutor, parent: StoredEntity, page: ProviderPageRequest): Promise<ProviderPage>;
  get(ctx: GraphContext, x: SqlExecutor, parent: StoredEntity, id: string): Promise<ProvidedEntity | undefined>;
  addReference?(ctx: GraphContext, tx: SqlExecutor, parent: StoredEntity, targetId: string): Promise<void>;
  removeReference?(ctx: GraphContext, tx: SqlExecutor, parent: StoredEntity, targetId: string): Promise<void>;
  /** `nav@odata.bind` in a PATCH: the navigation holds exactly these targets afterwards. */
  setReferences?(ctx: GraphContext, tx: SqlExecutor, parent: StoredEntity, targetIds: string[]): Promise<void>;
}
