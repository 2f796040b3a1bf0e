// Many group_members rows in multi-row INSERTs, for writers that create members by the thousand (the fleet
// generator). The rows are those Memberships.add writes one at a time.

import type { SqlExecutor } from "../store/database.js";
import { insertRows } from "../store/multiRowInsert.js";
import type { MembershipRow } from "./memberships.js";

const COLUMNS = ["tenant_id", "group_id", "member_id", "member_type", "dynamic"];

export async function addMemberships(x: SqlExecutor, tenantId: string, rows: readonly MembershipRow[]): Promise<void> {
  await insertRows(x, "group_members", COLUMNS, rows, (r, values, at) => {
    values[at] = tenantId;
    values[at + 1] = r.groupId;
    values[at + 2] = r.memberId;
    values[at + 3] = r.memberType;
    values[at + 4] = r.dynamic ? 1 : 0;
  });
}
