// Group membership rows: static members (added through members/$ref) and dynamic members (computed from a
// group's membershipRule). Both kinds live in group_members; `dynamic` tells them apart.

import type { SqlExecutor } from "../store/database.js";

export type MemberType = "user" | "device" | "group";

export interface MembershipRow {
  groupId: string;
  memberId: string;
  memberType: MemberType;
  dynamic: boolean;
}

export interface MembershipChange {
  groupId: string;
  memberId: string;
  memberType: MemberType;
  change: "added" | "removed";
}

const toRow = (r: Record<string, unknown>): MembershipRow => ({
  groupId: r.group_id as string,
  memberId: r.member_id as string,
  memberType: r.member_type as MemberType,
  dynamic: Number(r.dynamic) === 1,
});

export class Memberships {
  async add(x: SqlExecutor, tenantId: string, row: MembershipRow): Promise<void> {
    const p = (n: number) => x.dialect.param(n);
    await x.run(
      `INSERT INTO group_members (tenant_id, group_id, member_id, member_type, dynamic) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`,
      [tenantId, row.groupId, row.memberId, row.memberType, row.dynamic ? 1 : 0],
    );
  }

  async remove(x: SqlExecutor, tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    const p = (n: number) => x.dialect.param(n);
    const r = await x.run(`DELETE FROM group_members WHERE tenant_id = ${p(1)} AND group_id = ${p(2)} AND member_id = ${p(3)}`, [tenantId, groupId, memberId]);
    return r.changes > 0;
  }

  /** Removes some members of one group in one statement per chunk (the ids bound as one list: PostgreSQL plans a
   *  list of thousands of parameters slower than it runs it). */
  async removeMany(x: SqlExecutor, tenantId: string, groupId: string, memberIds: readonly string[]): Promise<void> {
    const d = x.dialect;
    for (let i = 0; i < memberIds.length; i += 5000) {
      await x.run(`DELETE FROM group_members WHERE tenant_id = ${d.param(1)} AND group_id = ${d.param(2)} AND ${d.inList("member_id", d.param(3))}`, [tenantId, groupId, d.bindList(memberIds.slice(i, i + 5000))]);
    }
  }

  /** The dynamic memberships of many objects, in one statement per chunk. */
  async dynamicGroupsOfMany(x: SqlExecutor, tenantId: string, memberIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    const d = x.dialect;
    for (let i = 0; i < memberIds.length; i += 5000) {
      const params = [tenantId, d.bindList(memberIds.slice(i, i + 5000))];
      for (const r of await x.all(`SELECT group_id, member_id FROM group_members WHERE tenant_id = ${d.param(1)} AND ${d.inList("member_id", d.param(2))} AND dynamic = 1`, params)) {
        const id = r.member_id as string;
        let set = out.get(id);
        if (!set) out.set(id, (set = new Set()));
        set.add(r.group_id as string);
      }
    }
    return out;
  }

  async get(x: SqlExecutor, tenantId: string, groupId: string, memberId: string): Promise<MembershipRow | undefined> {
    const p = (n: number) => x.dialect.param(n);
    const [row] = await x.all(`SELECT * FROM group_members WHERE tenant_id = ${p(1)} AND group_id = ${p(2)} AND member_id = ${p(3)}`, [tenantId, groupId, memberId]);
    return row ? toRow(row) : undefined;
  }

  /** `WHERE` for one group's rows, optionally of some member types only. */
  private groupScope(x: SqlExecutor, tenantId: string, groupId: string, memberTypes?: MemberType[]) {
    const params: unknown[] = [tenantId, groupId];
    let where = `tenant_id = ${x.dialect.param(1)} AND group_id = ${x.dialect.param(2)}`;
    if (memberTypes) {
      where += ` AND member_type IN (${memberTypes.map((t) => (params.push(t), x.dialect.param(params.length))).join(", ") || "NULL"})`;
    }
    return { where, params };
  }

  async membersOf(x: SqlExecutor, tenantId: string, groupId: string, page: { top: number; offset: number; memberTypes?: MemberType[] }): Promise<MembershipRow[]> {
    const { where, params } = this.groupScope(x, tenantId, groupId, page.memberTypes);
    params.push(page.top, page.offset);
    const rows = await x.all(
      `SELECT * FROM group_members WHERE ${where} ORDER BY seq LIMIT ${x.dialect.param(params.length - 1)} OFFSET ${x.dialect.param(params.length)}`,
      params,
    );
    return rows.map(toRow);
  }

  async countMembers(x: SqlExecutor, tenantId: string, groupId: string, memberTypes?: MemberType[]): Promise<number> {
    const { where, params } = this.groupScope(x, tenantId, groupId, memberTypes);
    const [row] = await x.all(`SELECT COUNT(*) AS n FROM group_members WHERE ${where}`, params);
    return Number(row.n);
  }

  async groupsOf(x: SqlExecutor, tenantId: string, memberId: string): Promise<MembershipRow[]> {
    const p = (n: number) => x.dialect.param(n);
    const rows = await x.all(`SELECT * FROM group_members WHERE tenant_id = ${p(1)} AND member_id = ${p(2)} ORDER BY seq`, [tenantId, memberId]);
    return rows.map(toRow);
  }

  /** Removes every row naming the object, as group or as member (the object was deleted). */
  async forget(x: SqlExecutor, tenantId: string, objectId: string): Promise<MembershipChange[]> {
    const p = (n: number) => x.dialect.param(n);
    const where = `tenant_id = ${p(1)} AND (group_id = ${p(2)} OR member_id = ${p(3)})`;
    const rows = (await x.all(`SELECT * FROM group_members WHERE ${where}`, [tenantId, objectId, objectId])).map(toRow);
    await x.run(`DELETE FROM group_members WHERE ${where}`, [tenantId, objectId, objectId]);
    return rows.map((r) => ({ ...r, change: "removed" as const }));
  }
}
