// A tenant's device configurations, their assignments as the engine's types, and their compiled assignment
// filters, read from the store for one evaluation, with an index from what reaches a device (a group, All devices,
// All licensed users, a collection) to the configurations that could apply. Built per evaluation, never cached, so
// nothing here can go stale.

import { compileFilterRule, type CompiledFilterRule, type DevicePlatform } from "../../engine/assignmentFilter/index.js";
import { configurationPlatform, type PlatformFamily } from "../../engine/configurationStatus.js";
import type { ConfigurationAssignmentInput, ConfigurationDeviceFacts, ConfigurationTarget } from "../../engine/configurationApplicability.js";
import { configurationReach, type ConfigurationReach } from "../../engine/configurationReach.js";
import type { StorageTable } from "../../odata/compiledModel.js";
import type { ConfigurationTables } from "./configurationTargets.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EntityStore, StoredEntity } from "../../store/entityStore.js";

export interface CataloguedConfiguration {
  id: string;
  odataType: string;
  /** The platform family the type targets (undefined: any), for the final status. */
  platform: PlatformFamily | undefined;
  displayName: string;
  version: number;
  doc: Record<string, unknown>;
  assignments: ConfigurationAssignmentInput[];
}

export interface CataloguedFilter {
  id: string;
  displayName: string;
  platform: string;
  rule: string;
  compiled?: CompiledFilterRule;
  /** Why the rule could not be compiled (a stored rule is validated on write, so this is a safety net). */
  error?: string;
}

const BATCH = 1000;

/** The engine's view of a stored assignment target (`@odata.type` with or without `#`). */
export function targetOf(target: Record<string, unknown> | undefined): ConfigurationTarget {
  const type = String(target?.["@odata.type"] ?? "").replace(/^#/, "");
  const name = type.replace(/^microsoft\.graph\./, "");
  const t = target ?? {};
  switch (name) {
    case "groupAssignmentTarget": return { kind: "group", groupId: String(t.groupId ?? "") };
    case "exclusionGroupAssignmentTarget": return { kind: "exclusionGroup", groupId: String(t.groupId ?? "") };
    case "allDevicesAssignmentTarget": return { kind: "allDevices" };
    case "allLicensedUsersAssignmentTarget": return { kind: "allLicensedUsers" };
    case "configurationManagerCollectionAssignmentTarget": return { kind: "configurationManagerCollection", collectionId: String(t.collectionId ?? "") };
    case "scopeTagGroupAssignmentTarget": {
      const targetType = String(t.targetType ?? "none");
      return { kind: "scopeTagGroup", targetType: targetType === "user" || targetType === "device" || targetType === "unknownFutureValue" ? targetType : "none", entraObjectId: String(t.entraObjectId ?? "") };
    }
    default: return { kind: "unsupported", odataType: `#${type}` };
  }
}

export function assignmentOf(entity: StoredEntity): ConfigurationAssignmentInput {
  const target = entity.doc.target as Record<string, unknown> | undefined;
  const filterId = target?.deviceAndAppManagementAssignmentFilterId;
  const mode = target?.deviceAndAppManagementAssignmentFilterType;
  const filter = typeof filterId === "string" && filterId !== "" && (mode === "include" || mode === "exclude") ? { id: filterId, mode } as const : undefined;
  return { id: entity.id, target: targetOf(target), filter, intent: entity.doc.intent === "remove" ? "remove" : "apply" };
}

/** A legacy deviceConfigurationGroupAssignment (spec §2.6) as the engine sees it: a group included or excluded. */
export function groupAssignmentOf(entity: StoredEntity): ConfigurationAssignmentInput {
  const groupId = String(entity.doc.targetGroupId ?? "");
  return { id: entity.id, target: entity.doc.excludeGroup === true ? { kind: "exclusionGroup", groupId } : { kind: "group", groupId }, intent: "apply" };
}

export async function allRows(entities: EntityStore, x: SqlExecutor, table: StorageTable, tenantId: string, parentId?: string): Promise<StoredEntity[]> {
  const out: StoredEntity[] = [];
  let afterSeq: number | undefined;
  for (;;) {
    const { rows } = await entities.list(x, table, { tenantId, parentId, orderBy: [], top: BATCH, skip: 0, afterSeq, count: false });
    out.push(...rows);
    if (rows.length < BATCH) return out;
    afterSeq = rows.at(-1)!.seq;
  }
}

export class ConfigurationCatalogue {
  readonly configurations = new Map<string, CataloguedConfiguration>();
  readonly filters = new Map<string, CataloguedFilter>();
  private readonly byGroup = new Map<string, Set<string>>();
  private readonly byCollection = new Map<string, Set<string>>();
  private readonly allDevices = new Set<string>();
  private readonly allUsers = new Set<string>();

  static async load(entities: EntityStore, tables: ConfigurationTables, x: SqlExecutor, tenantId: string): Promise<ConfigurationCatalogue> {
    const catalogue = new ConfigurationCatalogue();
    const configurations = await allRows(entities, x, tables.configurations, tenantId);
    if (configurations.length === 0) return catalogue;
    for (const c of configurations) {
      catalogue.configurations.set(c.id, {
        id: c.id,
        odataType: `#microsoft.graph.${c.type}`,
        platform: configurationPlatform(c.type),
        displayName: String(c.doc.displayName ?? ""),
        version: Number(c.doc.version ?? 1),
        doc: c.doc,
        assignments: [],
      });
    }
    for (const a of await entities.listAcrossParents(x, tables.assignments, tenantId)) {
      const configuration = a.parentId ? catalogue.configurations.get(a.parentId) : undefined;
      if (configuration) configuration.assignments.push(assignmentOf(a));
    }
    for (const a of await entities.listAcrossParents(x, tables.groupAssignments, tenantId)) {
      const configuration = a.parentId ? catalogue.configurations.get(a.parentId) : undefined;
      if (configuration) configuration.assignments.push(groupAssignmentOf(a));
    }
    for (const f of await allRows(entities, x, tables.filters, tenantId)) catalogue.addFilter(f);
    for (const c of catalogue.configurations.values()) catalogue.index(c);
    return catalogue;
  }

  private addFilter(f: StoredEntity) {
    const entry: CataloguedFilter = { id: f.id, displayName: String(f.doc.displayName ?? ""), platform: String(f.doc.platform ?? "unknown"), rule: String(f.doc.rule ?? "") };
    try {
      entry.compiled = compileFilterRule(entry.rule, entry.platform as DevicePlatform);
    } catch (e) {
      entry.error = (e as Error).message;
    }
    this.filters.set(f.id, entry);
  }

  private index(c: CataloguedConfiguration) {
    const add = (map: Map<string, Set<string>>, key: string) => {
      let set = map.get(key);
      if (!set) map.set(key, (set = new Set()));
      set.add(c.id);
    };
    for (const a of c.assignments) {
      const t = a.target;
      if (t.kind === "group") add(this.byGroup, t.groupId);
      else if (t.kind === "scopeTagGroup") add(this.byGroup, t.entraObjectId);
      else if (t.kind === "allDevices") this.allDevices.add(c.id);
      else if (t.kind === "allLicensedUsers") this.allUsers.add(c.id);
      else if (t.kind === "configurationManagerCollection") add(this.byCollection, t.collectionId);
    }
  }

  get empty(): boolean {
    return this.configurations.size === 0;
  }

  /** The configurations an include of which could reach the device (before exclusions and filters). */
  candidatesFor(device: ConfigurationDeviceFacts): Set<string> {
    const out = new Set(this.allDevices);
    const fromGroups = (ids: Iterable<string>) => {
      for (const g of ids) for (const c of this.byGroup.get(g) ?? []) out.add(c);
    };
    fromGroups(device.deviceGroupIds);
    if (device.entraDeviceObjectId) fromGroups([device.entraDeviceObjectId]);
    if (device.primaryUser) {
      fromGroups(device.primaryUser.groupIds);
      fromGroups([device.primaryUser.id]);
      if (device.primaryUser.licensed) for (const c of this.allUsers) out.add(c);
    }
    for (const col of device.configurationManagerCollectionIds) for (const c of this.byCollection.get(col) ?? []) out.add(c);
    return out;
  }

  /**
   * The configurations with an assignment naming one of these groups (included, excluded or as a scope tag
   * group's object): the only ones whose answers a change of those groups' members can move, since the engine
   * reads direct memberships only.
   */
  namingGroups(groupIds: ReadonlySet<string>): string[] {
    const names = (t: ConfigurationTarget) =>
      (t.kind === "group" || t.kind === "exclusionGroup") ? groupIds.has(t.groupId) : t.kind === "scopeTagGroup" ? groupIds.has(t.entraObjectId) : false;
    return [...this.configurations.values()].filter((c) => c.assignments.some((a) => names(a.target))).map((c) => c.id);
  }

  /** What the includes of these configurations (all when undefined) can reach a device through. */
  reach(configurationIds?: ReadonlySet<string>): ConfigurationReach {
    const chosen = [...this.configurations.values()].filter((c) => !configurationIds || configurationIds.has(c.id));
    return configurationReach(chosen.map((c) => c.assignments));
  }

  /** The configurations with an assignment using this filter. */
  usingFilter(filterId: string): string[] {
    return [...this.configurations.values()].filter((c) => c.assignments.some((a) => a.filter?.id === filterId)).map((c) => c.id);
  }
}
