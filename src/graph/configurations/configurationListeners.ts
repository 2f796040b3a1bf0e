// The seam between the device-configuration graph surface and whatever keeps derived state current (the
// configuration engine's re-evaluation, reports). Every listener runs inside the transaction of the change.

import type { SqlExecutor } from "../../store/database.js";
import type { StoredEntity } from "../../store/entityStore.js";
import type { GraphContext } from "../graphContext.js";

export interface ConfigurationListener {
  /** The assignment set of a configuration changed: an assignment created, PATCHed or deleted, or `assign`. */
  assignmentsChanged?(ctx: GraphContext, tx: SqlExecutor, configurationId: string): Promise<void>;
  /** A configuration was created or changed (`before` undefined on create), or deleted (`after` undefined). */
  configurationChanged?(ctx: GraphContext, tx: SqlExecutor, after: StoredEntity | undefined, before: StoredEntity | undefined): Promise<void>;
  /**
   * An assignment filter was created, deleted (`after` undefined) or changed in its rule or platform: the devices
   * the assignments using it reach (its `payloads`) may now be in or out.
   */
  filterRuleChanged?(ctx: GraphContext, tx: SqlExecutor, after: StoredEntity | undefined, before: StoredEntity | undefined): Promise<void>;
}

export class ConfigurationListeners {
  private readonly listeners: ConfigurationListener[] = [];

  add(listener: ConfigurationListener) {
    this.listeners.push(listener);
  }

  async assignmentsChanged(ctx: GraphContext, tx: SqlExecutor, configurationId: string) {
    for (const l of this.listeners) await l.assignmentsChanged?.(ctx, tx, configurationId);
  }

  async configurationChanged(ctx: GraphContext, tx: SqlExecutor, after: StoredEntity | undefined, before: StoredEntity | undefined) {
    for (const l of this.listeners) await l.configurationChanged?.(ctx, tx, after, before);
  }

  async filterRuleChanged(ctx: GraphContext, tx: SqlExecutor, after: StoredEntity | undefined, before: StoredEntity | undefined) {
    for (const l of this.listeners) await l.filterRuleChanged?.(ctx, tx, after, before);
  }
}
