// One area of the Graph model. Areas under Intune hang their collections off the deviceManagement singleton.

import type { ModelDecl, NavigationDecl } from "../../odata/model.js";

export type ModelPart = Pick<ModelDecl, "entityTypes" | "complexTypes" | "enumTypes" | "entitySets" | "operations"> & {
  deviceManagement?: Record<string, NavigationDecl>;
  /** Navigations this area adds to entity types another area declares (reports hung off a configuration …). */
  navigationsOf?: Record<string, Record<string, NavigationDecl>>;
};
