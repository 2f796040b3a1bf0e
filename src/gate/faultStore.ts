// Fault rules in the store (table fault_rules), shared by every process on it. Each process matches requests
// against its in-memory copy (refreshed every second and on its own writes); only a rule counting "the next N"
// touches the store when it fires: one conditional decrement, so each of the N is taken exactly once whatever
// the concurrency and however many processes share the store.

import type { CompiledModel } from "../odata/compiledModel.js";
import type { Database } from "../store/database.js";
import { ruleDoc, ruleFromDoc, ruleMatches, type FaultRule, type FaultRuleDoc, type RequestFacts } from "./faultRules.js";

export interface ListedFaultRule extends FaultRuleDoc {
  /** For a `count` rule: how many of its next N are left. */
  remaining?: number;
}

export class FaultStore {
  private rules: Array<{ rule: FaultRule; remaining: number | null }> = [];

  constructor(
    private readonly db: Database,
    private readonly model: CompiledModel,
    private readonly random: () => number = Math.random,
  ) {}

  async refresh(): Promise<void> {
    const rows = await this.db.all<{ doc: unknown; remaining: number | null }>("SELECT doc, remaining FROM fault_rules ORDER BY seq");
    this.rules = rows.map((r) => {
      const doc = (typeof r.doc === "string" ? JSON.parse(r.doc) : r.doc) as FaultRuleDoc;
      let rule: FaultRule;
      try {
        rule = ruleFromDoc(this.model, doc);
      } catch {
        // A pattern this model no longer knows (a newer or older Allot wrote it): listed, never matching.
        rule = { ...doc, pattern: { text: doc.path ?? "", matches: () => false } };
      }
      return { rule, remaining: r.remaining === null || r.remaining === undefined ? null : Number(r.remaining) };
    });
  }

  async add(rule: FaultRule): Promise<void> {
    const p = (n: number) => this.db.dialect.param(n);
    await this.db.run(`INSERT INTO fault_rules (id, tenant_id, remaining, doc) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`, [
      rule.id,
      rule.tenant ?? null,
      rule.count ?? null,
      JSON.stringify(ruleDoc(rule)),
    ]);
    await this.refresh();
  }

  /** Every rule, or a tenant's own (rules naming that tenant). */
  async list(tenantId?: string): Promise<ListedFaultRule[]> {
    await this.refresh();
    return this.rules
      .filter(({ rule }) => tenantId === undefined || rule.tenant === tenantId)
      .map(({ rule, remaining }) => ({ ...ruleDoc(rule), ...(remaining !== null ? { remaining } : {}) }));
  }

  /** Deletes one rule (of the tenant, when named); false when there was none. */
  async remove(id: string, tenantId?: string): Promise<boolean> {
    const p = (n: number) => this.db.dialect.param(n);
    const r = tenantId === undefined
      ? await this.db.run(`DELETE FROM fault_rules WHERE id = ${p(1)}`, [id])
      : await this.db.run(`DELETE FROM fault_rules WHERE id = ${p(1)} AND tenant_id = ${p(2)}`, [id, tenantId]);
    await this.refresh();
    return r.changes > 0;
  }

  /** Deletes every rule (of the tenant, when named); answers how many. */
  async clear(tenantId?: string): Promise<number> {
    const r = tenantId === undefined
      ? await this.db.run("DELETE FROM fault_rules")
      : await this.db.run(`DELETE FROM fault_rules WHERE tenant_id = ${this.db.dialect.param(1)}`, [tenantId]);
    await this.refresh();
    return r.changes;
  }

  /** Whether any rule is held (none: `fire` has nothing to match). */
  get hasRules(): boolean {
    return this.rules.length > 0;
  }

  /** The first rule that catches the request and fires (its probability came up, or one of its N was left). */
  async fire(facts: RequestFacts): Promise<FaultRule | undefined> {
    for (const entry of this.rules) {
      if (entry.remaining === 0 || !ruleMatches(entry.rule, facts)) continue;
      if (entry.rule.probability !== undefined && this.random() >= entry.rule.probability) continue;
      if (entry.remaining !== null) {
        const p = (n: number) => this.db.dialect.param(n);
        const [taken] = await this.db.all<{ remaining: number }>(
          `UPDATE fault_rules SET remaining = remaining - 1 WHERE id = ${p(1)} AND remaining > 0 RETURNING remaining`,
          [entry.rule.id],
        );
        if (!taken) {
          entry.remaining = 0;
          continue;
        }
        entry.remaining = Number(taken.remaining);
      }
      return entry.rule;
    }
    return undefined;
  }
}
