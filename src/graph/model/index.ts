// The Graph model Allot serves, assembled from one part per area. Later areas (Autopilot, device configurations,
// managed devices) add a part here; nothing else needs to learn about them to route, validate or describe them.

import { CompiledModel } from "../../odata/compiledModel.js";
import type { EntityTypeDecl, ModelDecl } from "../../odata/model.js";
import { auditing } from "./auditing.js";
import { autopilot } from "./autopilot.js";
import { assignmentTargets } from "./assignmentTargets.js";
import { assignmentFilters } from "./assignmentFilters.js";
import { deviceConfigurations } from "./deviceConfigurations.js";
import { configurationReports } from "./configurationReports.js";
import { deviceScripts } from "./deviceScripts.js";
import { directory } from "./directory.js";
import { managedDevices } from "./managedDevices.js";
import type { ModelPart } from "./modelPart.js";

const parts: ModelPart[] = [directory, auditing, managedDevices, assignmentTargets, autopilot, deviceConfigurations, assignmentFilters, configurationReports, deviceScripts];

/** Entity types with the navigations other parts add to them. */
const withAddedNavigations = (types: EntityTypeDecl[]): EntityTypeDecl[] =>
  types.map((t) => {
    const added = parts.map((p) => p.navigationsOf?.[t.name]).filter((n) => n !== undefined);
    return added.length ? { ...t, navigation: Object.assign({}, t.navigation ?? {}, ...added) } : t;
  });

export const graphModelDecl: ModelDecl = {
  namespace: "microsoft.graph",
  entityTypes: [
    ...withAddedNavigations(parts.flatMap((p) => p.entityTypes)),
    // The deviceManagement singleton: the Intune areas hang their collections off it.
    {
      name: "deviceManagement",
      baseType: "entity",
      flavor: "intune",
      properties: {},
      navigation: Object.assign({}, ...parts.map((p) => p.deviceManagement ?? {})),
    },
  ],
  complexTypes: parts.flatMap((p) => p.complexTypes),
  enumTypes: parts.flatMap((p) => p.enumTypes),
  entitySets: parts.flatMap((p) => p.entitySets),
  singletons: [{ name: "deviceManagement", type: "deviceManagement" }],
  operations: parts.flatMap((p) => p.operations),
};

export const graphModel = new CompiledModel(graphModelDecl);
