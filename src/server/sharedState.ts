// What every process on one store agrees on, besides the entities: the controlled clock, the throttling
// limits, the lifecycle timings (allot_meta settings) and the fault rules (their own table). Each process holds a
// copy in memory for its hot path, refreshed every second from the store (one SELECT of the settings, one of the
// rules) and at once after its own changes; a change made through another process arrives within a second.

import type { LifecycleTimings } from "../engine/lifecycleTiming.js";
import type { FaultStore } from "../gate/faultStore.js";
import { limitsFromJson, type ThrottleLimits } from "../gate/throttleLimits.js";
import type { SharedSettings } from "../store/sharedSettings.js";
import type { ClockState, ControlledClock } from "../time/controlledClock.js";

const REFRESH_MS = 1000;

export class SharedState {
  private timer: NodeJS.Timeout | undefined;
  private throttleLimits: ThrottleLimits;
  /** Bumped by this process's own changes: a refresh that overlapped one must not bring back the older value. */
  private changes = 0;

  constructor(
    private readonly settings: SharedSettings,
    readonly clock: ControlledClock,
    readonly timings: LifecycleTimings,
    readonly faults: FaultStore,
    initialLimits: ThrottleLimits,
  ) {
    this.throttleLimits = initialLimits;
  }

  get throttling(): ThrottleLimits {
    return this.throttleLimits;
  }

  /** Adopts what the store holds; settings it does not hold keep this process's start-up values. */
  async refresh(): Promise<void> {
    const before = this.changes;
    const stored = await this.settings.readAll();
    if (this.changes !== before) return;
    const clock = stored.get("clock") as ClockState | undefined;
    if (clock) this.clock.adopt(clock);
    const throttling = stored.get("throttling");
    if (throttling !== undefined) this.throttleLimits = limitsFromJson(throttling);
    const lifecycles = stored.get("lifecycles") as Parameters<LifecycleTimings["apply"]>[0] | undefined;
    if (lifecycles) this.timings.apply(lifecycles);
    await this.faults.refresh();
  }

  start() {
    const tick = () => {
      this.timer = setTimeout(() => {
        this.refresh()
          .catch((e) => process.stderr.write(`allot shared state: ${(e as Error).message}\n`))
          .finally(() => {
            if (this.timer) tick();
          });
      }, REFRESH_MS);
      this.timer.unref();
    };
    tick();
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async setClock(state: ClockState) {
    this.changes++;
    await this.settings.write("clock", state);
    this.clock.adopt(state);
  }

  async setThrottling(limits: ThrottleLimits) {
    this.changes++;
    await this.settings.write("throttling", limits);
    this.throttleLimits = limits;
  }

  async setLifecycles(settings: Parameters<LifecycleTimings["apply"]>[0]) {
    this.changes++;
    this.timings.apply(settings);
    await this.settings.write("lifecycles", this.timings.stored());
  }
}
