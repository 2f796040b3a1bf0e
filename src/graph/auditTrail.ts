// One audit event per successful write, in the shape of Intune's auditEvent, stored in the same transaction as
// the write itself: who (app or user), what (operation, resources, changed properties), when, and the request id.

import { randomUUID } from "node:crypto";
import type { CompiledModel, EntityType } from "../odata/compiledModel.js";
import type { SqlExecutor } from "../store/database.js";
import type { EntityStore, StoredEntity } from "../store/entityStore.js";
import type { GraphContext } from "./graphContext.js";
import { sequentialGuids } from "../store/sequentialGuids.js";

export type AuditOperation = "Create" | "Patch" | "Delete" | "Action";

export interface AuditedWrite {
  operation: AuditOperation;
  /** Short verb phrase: "Create group", "Add member to group", "assign" … */
  activity: string;
  type: EntityType;
  entity: StoredEntity;
  before?: StoredEntity;
  /** Changes that are not properties (a member added …); otherwise computed from before and after. */
  changes?: AuditChange[];
}

export interface AuditChange {
  displayName: string;
  oldValue: string;
  newValue: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const shown = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));

export class AuditTrail {
  constructor(
    private readonly model: CompiledModel,
    private readonly entities: EntityStore,
  ) {}

  private auditOf(type: EntityType) {
    for (let t: EntityType | undefined = type; t; t = t.base) if (t.decl.audit) return t.decl.audit;
    return { category: "Other", component: "DeviceManagement" };
  }

  /** Properties whose values differ, secrets and write-only values left out. */
  private modified(type: EntityType, after: StoredEntity, before?: StoredEntity) {
    const out: AuditChange[] = [];
    for (const [name, p] of type.properties) {
      if (p.writeOnly || name === "id" || p.readOnly) continue;
      const oldValue = shown(before?.doc[name]);
      const newValue = shown(after.doc[name]);
      if (oldValue !== newValue) out.push({ displayName: name, oldValue, newValue });
    }
    return out;
  }

  private get table() {
    return this.model.entityType("deviceManagement").navigation.get("auditEvents")!.table!;
  }

  async record(ctx: GraphContext, tx: SqlExecutor, write: AuditedWrite): Promise<void> {
    if (!ctx.audited) return;
    await this.entities.insert(tx, this.table, ctx.tenantId, { id: randomUUID(), type: "auditEvent", doc: this.eventDocument(ctx, write) });
  }

  /** One event per write, inserted set-based (writes by the thousand: a bulk reassignment). */
  async recordMany(ctx: GraphContext, tx: SqlExecutor, writes: readonly AuditedWrite[]): Promise<void> {
    if (!ctx.audited || writes.length === 0) return;
    // Neighbouring ids: the events land on a few pages of the id key, not one page each.
    const ids = sequentialGuids(writes.length);
    await this.entities.insertMany(tx, this.table, ctx.tenantId, writes.map((w, i) => ({ id: ids[i], type: "auditEvent", doc: this.eventDocument(ctx, w) })));
  }

  private eventDocument(ctx: GraphContext, write: AuditedWrite): Record<string, unknown> {
    const { category, component } = this.auditOf(write.type);
    const p = ctx.principal;
    const doc = {
      displayName: `${write.activity}`,
      componentName: component,
      activity: write.activity,
      activityDateTime: ctx.clock.now().toISOString(),
      activityType: write.activity,
      activityOperationType: write.operation,
      activityResult: "Success",
      correlationId: GUID.test(ctx.requestId) ? ctx.requestId.toLowerCase() : randomUUID(),
      category,
      actor: {
        type: p.kind === "delegated" ? "ItPro" : "Application",
        userPermissions: [...p.permissions].sort(),
        applicationId: p.appId,
        applicationDisplayName: null,
        userPrincipalName: p.upn ?? null,
        servicePrincipalName: p.kind === "application" ? p.appId : null,
        ipAddress: null,
        userId: p.kind === "delegated" ? p.objectId : null,
        remoteTenantId: null,
        remoteUserId: null,
        userRoleScopeTags: [],
      },
      resources: [
        {
          displayName: shown(write.entity.doc.displayName),
          modifiedProperties: write.changes ?? (write.operation === "Delete" ? [] : this.modified(this.model.entityType(write.entity.type), write.entity, write.before)),
          type: write.entity.type,
          auditResourceType: `microsoft.graph.${write.entity.type}`,
          resourceId: write.entity.id,
        },
      ],
    };
    return doc;
  }
}
