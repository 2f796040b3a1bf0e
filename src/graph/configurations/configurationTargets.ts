// What a device configuration assignment's target names, and the checks every write of one runs (spec §2.7, §2.8):
// the group, user or device it names exists, the filter it names exists, and filter id and filter type agree.

import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import { badRequest } from "../../odata/errors.js";
import type { SqlExecutor } from "../../store/database.js";
import type { GraphContext } from "../graphContext.js";

/** Intune's virtual group ids for "All devices" and "All users" (as assignment filter payloads report them). */
export const ALL_DEVICES_GROUP_ID = "acacacac-9df4-4c7d-9d50-4ef0226f57a9";
export const ALL_LICENSED_USERS_GROUP_ID = "adadadad-808e-44e2-905a-0b7873a8a531";

export type AssignmentTarget = Record<string, unknown>;

/** The short type name of a validated target (`groupAssignmentTarget` …). */
export const targetTypeOf = (target: AssignmentTarget) => String(target["@odata.type"] ?? "").replace(/^#?microsoft\.graph\./, "");

/** The object a target names, by the property that holds it. */
const NAMING_PROPERTY: Record<string, string> = {
  groupAssignmentTarget: "groupId",
  exclusionGroupAssignmentTarget: "groupId",
  androidFotaDeploymentAssignmentTarget: "groupId",
  configurationManagerCollectionAssignmentTarget: "collectionId",
  scopeTagGroupAssignmentTarget: "entraObjectId",
  organizationalUnitAssignmentTarget: "organizationalUnitId",
};

/** What the target reaches: a group id (virtual for all devices / all users), a collection, an Entra object … */
export function targetObjectId(target: AssignmentTarget): string | undefined {
  const type = targetTypeOf(target);
  if (type === "allDevicesAssignmentTarget") return ALL_DEVICES_GROUP_ID;
  if (type === "allLicensedUsersAssignmentTarget") return ALL_LICENSED_USERS_GROUP_ID;
  const property = NAMING_PROPERTY[type];
  const v = property ? target[property] : undefined;
  return typeof v === "string" ? v : undefined;
}

/** Two assignments of one configuration are duplicates when their targets have this same key (spec §2.6 [I]). */
export const targetKey = (target: AssignmentTarget) => `${targetTypeOf(target)}|${(targetObjectId(target) ?? "").toLowerCase()}`;

export const filterIdOf = (target: AssignmentTarget): string | undefined => {
  const v = target.deviceAndAppManagementAssignmentFilterId;
  return typeof v === "string" && v !== "" ? v : undefined;
};
export const filterTypeOf = (target: AssignmentTarget) => String(target.deviceAndAppManagementAssignmentFilterType ?? "none");

export class ConfigurationTables {
  readonly configurations: StorageTable;
  readonly assignments: StorageTable;
  readonly groupAssignments: StorageTable;
  readonly filters: StorageTable;
  readonly groups: StorageTable;
  readonly users: StorageTable;
  readonly devices: StorageTable;

  constructor(model: CompiledModel) {
    const dm = model.entityType("deviceManagement").navigation;
    this.configurations = dm.get("deviceConfigurations")!.table!;
    this.filters = dm.get("assignmentFilters")!.table!;
    const config = model.entityType("deviceConfiguration").navigation;
    this.assignments = config.get("assignments")!.table!;
    this.groupAssignments = config.get("groupAssignments")!.table!;
    this.groups = model.entitySets.get("groups")!.table;
    this.users = model.entitySets.get("users")!.table;
    this.devices = model.entitySets.get("devices")!.table;
  }
}

/** Refuses a target that names something missing, or whose filter id and filter type disagree; nothing is changed. */
export async function checkTarget(ctx: GraphContext, tx: SqlExecutor, tables: ConfigurationTables, target: AssignmentTarget): Promise<void> {
  const type = targetTypeOf(target);
  const id = targetObjectId(target);
  if (type === "groupAssignmentTarget" || type === "exclusionGroupAssignmentTarget" || type === "androidFotaDeploymentAssignmentTarget") {
    if (!id || !(await ctx.entities.get(tx, tables.groups, ctx.tenantId, id))) throw badRequest(`The group '${id ?? ""}' does not exist.`);
  }
  if (type === "scopeTagGroupAssignmentTarget" && id !== undefined) {
    const exists = async (t: StorageTable) => (await ctx.entities.get(tx, t, ctx.tenantId, id)) !== undefined;
    if (!(await exists(tables.groups)) && !(await exists(tables.users)) && !(await exists(tables.devices))) {
      throw badRequest(`The Entra object '${id}' does not exist.`);
    }
  }
  if ((type === "configurationManagerCollectionAssignmentTarget" || type === "organizationalUnitAssignmentTarget") && !id) {
    throw badRequest(`The target '${type}' needs its ${NAMING_PROPERTY[type]}.`);
  }
  const filterId = filterIdOf(target);
  const filterType = filterTypeOf(target);
  if (filterId === undefined && filterType !== "none") {
    throw badRequest(`The filter type '${filterType}' needs a deviceAndAppManagementAssignmentFilterId.`);
  }
  if (filterId !== undefined) {
    if (filterType === "none") throw badRequest("A deviceAndAppManagementAssignmentFilterId needs the filter type 'include' or 'exclude'.");
    if (!(await ctx.entities.get(tx, tables.filters, ctx.tenantId, filterId))) throw badRequest(`The assignment filter '${filterId}' does not exist.`);
  }
}
