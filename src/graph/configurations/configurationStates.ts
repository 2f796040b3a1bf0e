// Keeps the configuration engine's answers in the store: one row per (configuration, managed device) a
// configuration applies to, with its status, and per configuration the deviceStatusOverview counts, changed by
// deltas in the transaction of the change that caused them. A re-evaluation has a scope (some devices × some
// configurations, or all of either), works in batches of devices with a few set-based statements per batch, and
// touches only the rows whose answer changed.
//
// A row that is new or whose final status changed starts `pending` (unless the lifecycle is immediate), stamped
// with the wave — the reconciler work item — that settles it on the lifecycle clock; the wave's step moves every row
// still carrying its id to its final status in one statement and moves the counts with it. A later re-evaluation
// re-stamps a row, so an older wave never settles a newer answer.

import { randomUUID } from "node:crypto";
import { configurationApplies, evaluateConfiguration, type ConfigurationApplicability, type ConfigurationDeviceFacts, type FilterMatch } from "../../engine/configurationApplicability.js";
import { configurationPlatform, devicePlatform, type ConfigurationDeviceStatus } from "../../engine/configurationStatus.js";
import { filterableManagedDevice } from "../../engine/filterableManagedDevice.js";
import { scheduleStep, type LifecycleTiming } from "../../engine/lifecycleTiming.js";
import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import type { Reconciler, WorkHandler } from "../../reconcile/reconciler.js";
import type { SqlExecutor } from "../../store/database.js";
import type { EntityStore, StoredEntity } from "../../store/entityStore.js";
import type { Clock } from "../../time/clock.js";
import { ConfigurationCatalogue, assignmentOf, groupAssignmentOf, type CataloguedConfiguration } from "./configurationCatalogue.js";
import { ConfigurationTables } from "./configurationTargets.js";
import { ConfigurationDeviceFactsReader } from "./configurationDeviceFacts.js";

export const CONFIGURATION_CHECK_IN_WORK = "configurationCheckIn";
const BATCH = 1000;
/** Device lists at least this long are first narrowed to the reachable devices (a single device is cheaper read). */
const REACH_PROBE_FROM = 50;

export interface EvaluationScope {
  devices: "all" | string[];
  configurations: "all" | string[];
}

export interface EvaluationSummary {
  devices: number;
  pairsEvaluated: number;
  rowsChanged: number;
}

interface StateRow {
  configurationId: string;
  managedDeviceId: string;
  status: ConfigurationDeviceStatus;
  finalStatus: ConfigurationDeviceStatus;
}

type CountColumn = "pending_count" | "success_count" | "not_applicable_count" | "error_count" | "conflict_count";
const COUNT_COLUMNS: CountColumn[] = ["pending_count", "success_count", "not_applicable_count", "error_count", "conflict_count"];
const COLUMN_OF: Record<ConfigurationDeviceStatus, CountColumn> = {
  pending: "pending_count", compliant: "success_count", notApplicable: "not_applicable_count", error: "error_count", conflict: "conflict_count",
};

/** Per configuration, how each count moves. */
class CountDeltas {
  private readonly byConfiguration = new Map<string, Record<CountColumn, number>>();

  add(configurationId: string, status: ConfigurationDeviceStatus, n: number) {
    let d = this.byConfiguration.get(configurationId);
    if (!d) this.byConfiguration.set(configurationId, (d = { pending_count: 0, success_count: 0, not_applicable_count: 0, error_count: 0, conflict_count: 0 }));
    d[COLUMN_OF[status]] += n;
  }

  async apply(x: SqlExecutor, tenantId: string, at: string) {
    const entries = [...this.byConfiguration.entries()].filter(([, d]) => COUNT_COLUMNS.some((c) => d[c] !== 0));
    if (entries.length === 0) return;
    const p = (n: number) => x.dialect.param(n);
    const width = 3 + COUNT_COLUMNS.length;
    for (let start = 0; start < entries.length; start += 500) {
      const slice = entries.slice(start, start + 500);
      const values: unknown[] = [];
      const tuples = slice.map(([id, d], i) => {
        values.push(tenantId, id, ...COUNT_COLUMNS.map((c) => d[c]), at);
        return `(${Array.from({ length: width }, (_, k) => p(i * width + k + 1)).join(", ")})`;
      });
      await x.run(
        `INSERT INTO configuration_status_counts (tenant_id, configuration_id, ${COUNT_COLUMNS.join(", ")}, last_update) VALUES ${tuples.join(", ")}
         ON CONFLICT (tenant_id, configuration_id) DO UPDATE SET ${COUNT_COLUMNS.map((c) => `${c} = configuration_status_counts.${c} + excluded.${c}`).join(", ")}, last_update = excluded.last_update`,
        values,
      );
    }
  }
}

export class ConfigurationStates {
  readonly tables: ConfigurationTables;
  readonly facts: ConfigurationDeviceFactsReader;

  constructor(
    model: CompiledModel,
    private readonly entities: EntityStore,
    private readonly reconciler: Reconciler,
    private readonly timing: () => LifecycleTiming,
    private readonly clock: Clock,
  ) {
    this.tables = new ConfigurationTables(model);
    this.facts = new ConfigurationDeviceFactsReader(model, entities);
  }

  catalogue(x: SqlExecutor, tenantId: string): Promise<ConfigurationCatalogue> {
    return ConfigurationCatalogue.load(this.entities, this.tables, x, tenantId);
  }

  /** Filter results for one device, each filter evaluated at most once. */
  private filterMatcher(catalogue: ConfigurationCatalogue, device: StoredEntity): FilterMatch {
    let record: ReturnType<typeof filterableManagedDevice> | undefined;
    const results = new Map<string, boolean | undefined>();
    return (filterId) => {
      if (results.has(filterId)) return results.get(filterId);
      const filter = catalogue.filters.get(filterId);
      let result: boolean | undefined;
      if (filter?.compiled) {
        record ??= filterableManagedDevice(device.doc);
        result = filter.compiled.matches(record);
      }
      results.set(filterId, result);
      return result;
    };
  }

  /** The engine's full answer for one device and one configuration, with its explanation (explain). */
  evaluate(catalogue: ConfigurationCatalogue, configuration: CataloguedConfiguration, device: StoredEntity, facts: ConfigurationDeviceFacts): ConfigurationApplicability {
    return evaluateConfiguration(configuration.id, configuration.assignments, facts, this.filterMatcher(catalogue, device));
  }

  /** Re-evaluates the scope inside the caller's transaction; `subjectId` names what changed (for read-timed steps). */
  async reevaluate(tx: SqlExecutor, tenantId: string, scope: EvaluationScope, subjectId: string): Promise<EvaluationSummary> {
    const summary: EvaluationSummary = { devices: 0, pairsEvaluated: 0, rowsChanged: 0 };
    if (scope.devices !== "all" && scope.devices.length === 0) return summary;
    if (scope.configurations !== "all" && scope.configurations.length === 0) return summary;
    const catalogue = await this.catalogue(tx, tenantId);
    if (catalogue.empty && !(await this.hasRows(tx, tenantId))) return summary;
    const only = scope.configurations === "all" ? undefined : new Set(scope.configurations);
    const timing = this.timing();
    const now = this.clock.now();
    const nowText = now.toISOString();
    const waveId = randomUUID();
    const deltas = new CountDeltas();
    let pending = 0;

    const evaluateBatch = async (ids: string[], found: Map<string, StoredEntity>) => {
      summary.devices += ids.length;
      const withFacts = await this.facts.read(tx, tenantId, [...found.values()]);
      const desired = new Map<string, StateRow>();
      for (const { device, facts } of withFacts) {
        const matches = this.filterMatcher(catalogue, device);
        const platform = devicePlatform(device.doc.operatingSystem as string | undefined);
        for (const configurationId of catalogue.candidatesFor(facts)) {
          if (only && !only.has(configurationId)) continue;
          const configuration = catalogue.configurations.get(configurationId)!;
          summary.pairsEvaluated++;
          if (!configurationApplies(configuration.id, configuration.assignments, facts, matches)) continue;
          const wanted = configuration.platform;
          const finalStatus: ConfigurationDeviceStatus = !wanted || wanted === platform ? "compliant" : "notApplicable";
          desired.set(`${configurationId}|${device.id}`, { configurationId, managedDeviceId: device.id, status: finalStatus, finalStatus });
        }
      }
      const existing = await this.rowsOf(tx, tenantId, ids, scope.configurations === "all" ? undefined : scope.configurations);
      const removed: [string, string][] = [];
      const added: StateRow[] = [];
      for (const row of existing) {
        const key = `${row.configurationId}|${row.managedDeviceId}`;
        const want = desired.get(key);
        if (want && want.finalStatus === row.finalStatus) {
          desired.delete(key);
          continue;
        }
        removed.push([row.configurationId, row.managedDeviceId]);
      }
      for (const row of desired.values()) {
        const status: ConfigurationDeviceStatus = timing.kind === "immediate" ? row.finalStatus : "pending";
        added.push({ ...row, status });
        if (status === "pending") pending++;
      }
      summary.rowsChanged += removed.length + added.length;
      await this.deletePairs(tx, tenantId, removed, deltas);
      await this.insertRows(tx, tenantId, added, waveId, nowText, deltas);
    };

    if (scope.devices === "all") {
      let afterSeq: number | undefined;
      for (;;) {
        const { rows } = await this.entities.list(tx, this.facts.managedDevices, { tenantId, orderBy: [], top: BATCH, skip: 0, afterSeq, count: false });
        if (rows.length) await evaluateBatch(rows.map((r) => r.id), new Map(rows.map((r) => [r.id, r])));
        if (rows.length < BATCH) break;
        afterSeq = rows.at(-1)!.seq;
      }
      // Rows of devices that no longer exist (a full pass is also the repair tool).
      const orphans = await tx.all(
        `SELECT DISTINCT s.managed_device_id AS id FROM configuration_device_states s WHERE s.tenant_id = ${tx.dialect.param(1)} AND NOT EXISTS (SELECT 1 FROM ${this.facts.managedDevices.name} md WHERE md.tenant_id = s.tenant_id AND md.id = s.managed_device_id)`,
        [tenantId],
      );
      for (let i = 0; i < orphans.length; i += BATCH) await evaluateBatch(orphans.slice(i, i + BATCH).map((r) => r.id as string), new Map());
    } else {
      const ids = [...new Set(scope.devices)];
      // Unless something reaches everyone, only devices holding rows or reached through a target's directory
      // objects can change: the others are neither read back nor evaluated (a fleet's new devices, mostly).
      const reach = catalogue.reach(only);
      const narrow = !reach.everyone && ids.length >= REACH_PROBE_FROM;
      for (let i = 0; i < ids.length; i += BATCH) {
        let slice = ids.slice(i, i + BATCH);
        if (narrow) {
          const reachable = await this.facts.reachable(tx, tenantId, slice, [...reach.directoryObjectIds]);
          slice = slice.filter((id) => reachable.has(id));
          if (slice.length === 0) continue;
        }
        await evaluateBatch(slice, await this.entities.getMany(tx, this.facts.managedDevices, tenantId, slice));
      }
    }
    await deltas.apply(tx, tenantId, nowText);
    if (pending > 0) {
      const item = { tenantId, id: waveId, kind: CONFIGURATION_CHECK_IN_WORK, subjectId, step: 0, ...scheduleStep(timing, now), payload: {} };
      await this.reconciler.queue.enqueue(tx, item);
    }
    return summary;
  }

  private async hasRows(x: SqlExecutor, tenantId: string): Promise<boolean> {
    const rows = await x.all(`SELECT 1 AS one FROM configuration_device_states WHERE tenant_id = ${x.dialect.param(1)} LIMIT 1`, [tenantId]);
    return rows.length > 0;
  }

  private async rowsOf(x: SqlExecutor, tenantId: string, deviceIds: string[], configurationIds?: string[]): Promise<StateRow[]> {
    const d = x.dialect;
    const params: unknown[] = [tenantId, d.bindList(deviceIds)];
    let sql = `SELECT configuration_id, managed_device_id, status, final_status FROM configuration_device_states WHERE tenant_id = ${d.param(1)} AND ${d.inList("managed_device_id", d.param(2))}`;
    if (configurationIds) {
      params.push(d.bindList(configurationIds));
      sql += ` AND ${d.inList("configuration_id", d.param(3))}`;
    }
    return (await x.all(sql, params)).map((r) => ({
      configurationId: r.configuration_id as string,
      managedDeviceId: r.managed_device_id as string,
      status: r.status as ConfigurationDeviceStatus,
      finalStatus: r.final_status as ConfigurationDeviceStatus,
    }));
  }

  /**
   * Deletes the pairs and moves the counts by what was actually deleted: under PostgreSQL's READ COMMITTED a row read
   * as pending may have been settled by a wave since, and RETURNING reports the version that was deleted.
   */
  private async deletePairs(x: SqlExecutor, tenantId: string, pairs: [string, string][], deltas: CountDeltas) {
    const d = x.dialect;
    for (let i = 0; i < pairs.length; i += 10_000) {
      const deleted = await x.all(
        `DELETE FROM configuration_device_states WHERE tenant_id = ${d.param(1)} AND ${d.inPairs("configuration_id", "managed_device_id", d.param(2))} RETURNING configuration_id, status`,
        [tenantId, d.bindPairs(pairs.slice(i, i + 10_000))],
      );
      for (const r of deleted) deltas.add(r.configuration_id as string, r.status as ConfigurationDeviceStatus, -1);
    }
  }

  /**
   * Inserts new rows and counts the ones actually inserted: a concurrent re-evaluation of the same pair (another
   * transaction, PostgreSQL) may have inserted it first, and its counts already hold that row.
   */
  private async insertRows(x: SqlExecutor, tenantId: string, rows: StateRow[], waveId: string, at: string, deltas: CountDeltas) {
    const width = 7;
    const perStatement = Math.floor((x.dialect.name === "sqlite" ? 32_766 : 65_535) / width);
    for (let start = 0; start < rows.length; start += perStatement) {
      const slice = rows.slice(start, start + perStatement);
      const values: unknown[] = [];
      const tuples = slice.map((r, i) => {
        values.push(tenantId, r.configurationId, r.managedDeviceId, r.status, r.finalStatus, r.status === "pending" ? waveId : null, at);
        return `(${Array.from({ length: width }, (_, k) => x.dialect.param(i * width + k + 1)).join(", ")})`;
      });
      const inserted = await x.all(
        `INSERT INTO configuration_device_states (tenant_id, configuration_id, managed_device_id, status, final_status, wave_id, reported_at) VALUES ${tuples.join(", ")}
         ON CONFLICT (tenant_id, configuration_id, managed_device_id) DO NOTHING RETURNING configuration_id, status`,
        values,
      );
      for (const r of inserted) deltas.add(r.configuration_id as string, r.status as ConfigurationDeviceStatus, 1);
    }
  }

  /** A configuration's settings changed (a new version): its devices receive it again, pending until check-in. */
  async redeliver(tx: SqlExecutor, tenantId: string, configurationId: string) {
    const timing = this.timing();
    if (timing.kind === "immediate") return;
    const p = (n: number) => tx.dialect.param(n);
    const now = this.clock.now();
    const waveId = randomUUID();
    const deltas = new CountDeltas();
    // One UPDATE per settled status, so the counts move by exactly the rows each one changed.
    let moved = 0;
    for (const status of ["compliant", "notApplicable", "error", "conflict"] as const) {
      const r = await tx.run(
        `UPDATE configuration_device_states SET status = 'pending', wave_id = ${p(1)}, reported_at = ${p(2)} WHERE tenant_id = ${p(3)} AND configuration_id = ${p(4)} AND status = ${p(5)}`,
        [waveId, now.toISOString(), tenantId, configurationId, status],
      );
      deltas.add(configurationId, status, -r.changes);
      deltas.add(configurationId, "pending", r.changes);
      moved += r.changes;
    }
    // Rows already pending join the new wave (they will receive the new version too).
    await tx.run(`UPDATE configuration_device_states SET wave_id = ${p(1)} WHERE tenant_id = ${p(2)} AND configuration_id = ${p(3)} AND status = 'pending'`, [waveId, tenantId, configurationId]);
    if (moved === 0 && !(await this.hasPending(tx, tenantId, configurationId))) return;
    await deltas.apply(tx, tenantId, now.toISOString());
    await this.reconciler.queue.enqueue(tx, { tenantId, id: waveId, kind: CONFIGURATION_CHECK_IN_WORK, subjectId: configurationId, step: 0, ...scheduleStep(timing, now), payload: {} });
  }

  private async hasPending(x: SqlExecutor, tenantId: string, configurationId: string): Promise<boolean> {
    const p = (n: number) => x.dialect.param(n);
    return (await x.all(`SELECT 1 AS one FROM configuration_device_states WHERE tenant_id = ${p(1)} AND configuration_id = ${p(2)} AND status = 'pending' LIMIT 1`, [tenantId, configurationId])).length > 0;
  }

  /** A configuration was deleted: its rows and counts go with it. */
  async forgetConfiguration(tx: SqlExecutor, tenantId: string, configurationId: string) {
    const p = (n: number) => tx.dialect.param(n);
    await tx.run(`DELETE FROM configuration_device_states WHERE tenant_id = ${p(1)} AND configuration_id = ${p(2)}`, [tenantId, configurationId]);
    await tx.run(`DELETE FROM configuration_status_counts WHERE tenant_id = ${p(1)} AND configuration_id = ${p(2)}`, [tenantId, configurationId]);
  }

  /**
   * The devices a configuration's change can affect: those it is applied to now (rows) and those its include
   * assignments reach (before exclusions and filters); "all" when an All devices/All licensed users include exists.
   */
  async devicesReachedBy(tx: SqlExecutor, tenantId: string, configurationId: string): Promise<"all" | string[]> {
    const assignments = [
      ...(await this.contained(tx, this.tables.assignments, tenantId, configurationId)).map(assignmentOf),
      ...(await this.contained(tx, this.tables.groupAssignments, tenantId, configurationId)).map(groupAssignmentOf),
    ];
    if (assignments.some((a) => a.target.kind === "allDevices" || a.target.kind === "allLicensedUsers")) return "all";
    const groups = assignments.flatMap((a) => (a.target.kind === "group" ? [a.target.groupId] : a.target.kind === "scopeTagGroup" ? [a.target.entraObjectId] : []));
    const reached = await this.facts.managedDevicesInGroups(tx, tenantId, [...new Set(groups)]);
    const current = await tx.all(`SELECT managed_device_id FROM configuration_device_states WHERE tenant_id = ${tx.dialect.param(1)} AND configuration_id = ${tx.dialect.param(2)}`, [tenantId, configurationId]);
    return [...new Set([...reached, ...current.map((r) => r.managed_device_id as string)])];
  }

  private contained(tx: SqlExecutor, table: StorageTable, tenantId: string, configurationId: string): Promise<StoredEntity[]> {
    return this.entities.list(tx, table, { tenantId, parentId: configurationId, orderBy: [], top: 100_000, skip: 0, count: false }).then((r) => r.rows);
  }

  /**
   * Re-evaluates one configuration over the devices its change can affect: those it applies to now (which covers
   * what its assignments reached before) and those its assignments reach after the change.
   */
  async reevaluateConfiguration(tx: SqlExecutor, tenantId: string, configurationId: string): Promise<EvaluationSummary> {
    const devices = await this.devicesReachedBy(tx, tenantId, configurationId);
    return this.reevaluate(tx, tenantId, { devices, configurations: [configurationId] }, configurationId);
  }

  /** The wave's step: every row it still owns takes its final status; the counts move with them. */
  work(): WorkHandler {
    return {
      apply: async (tx, item, at) => {
        const p = (n: number) => tx.dialect.param(n);
        // RETURNING: the counts move by exactly the rows this step settled, whatever ran concurrently.
        const settled = await tx.all(
          `UPDATE configuration_device_states SET status = final_status, wave_id = NULL, reported_at = ${p(1)} WHERE tenant_id = ${p(2)} AND wave_id = ${p(3)} AND status = 'pending' RETURNING configuration_id, final_status`,
          [at.toISOString(), item.tenantId, item.id],
        );
        if (settled.length === 0) return { more: false };
        const deltas = new CountDeltas();
        for (const r of settled) {
          deltas.add(r.configuration_id as string, "pending", -1);
          deltas.add(r.configuration_id as string, r.final_status as ConfigurationDeviceStatus, 1);
        }
        await deltas.apply(tx, item.tenantId, at.toISOString());
        return { more: false };
      },
    };
  }
}
