// Permission declarations shared by the model's parts (spec §2.10, §1.1). A principal needs any one of the names.

import type { OperationPermissions, PermissionDecl } from "../../odata/model.js";

export const anyOf = (application: string[], delegated: string[] = application): PermissionDecl => ({
  application,
  delegated,
});

/** Read needs Read or ReadWrite of the area (or of Directory for directory objects); write needs ReadWrite. */
export function areaPermissions(area: string, alsoDirectory = false): OperationPermissions {
  const dir = (level: string) => (alsoDirectory ? [`Directory.${level}.All`] : []);
  return {
    read: anyOf([`${area}.Read.All`, `${area}.ReadWrite.All`, ...dir("Read"), ...dir("ReadWrite")]),
    write: anyOf([`${area}.ReadWrite.All`, ...dir("ReadWrite")]),
  };
}
