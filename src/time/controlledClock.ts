// The controllable clock behind time control (/_allot/time): real time plus an offset, or a frozen instant.
// Its state is small and serializable, so the store can hold it and every process on that store agrees on the
// time (see src/control/timeControl.ts).

import type { Clock } from "./clock.js";

export interface ClockState {
  /** Milliseconds added to real time while running. */
  offsetMs: number;
  /** The instant (epoch ms) the clock stands still at, or null while it runs. */
  frozenAtMs: number | null;
}

export const RUNNING_REAL_TIME: ClockState = { offsetMs: 0, frozenAtMs: null };

export class ControlledClock implements Clock {
  private current: ClockState = RUNNING_REAL_TIME;

  constructor(private readonly realNow: () => number = Date.now) {}

  now(): Date {
    return new Date(this.current.frozenAtMs ?? this.realNow() + this.current.offsetMs);
  }

  state(): ClockState {
    return this.current;
  }

  adopt(state: ClockState) {
    this.current = { offsetMs: state.offsetMs, frozenAtMs: state.frozenAtMs };
  }

  /** The state in which the clock reads `instant` now, frozen or running as it is. */
  at(instant: number): ClockState {
    return this.current.frozenAtMs !== null ? { offsetMs: 0, frozenAtMs: instant } : { offsetMs: instant - this.realNow(), frozenAtMs: null };
  }

  frozen(): ClockState {
    return { offsetMs: 0, frozenAtMs: this.now().getTime() };
  }

  /** Running again from the instant it stood at. */
  running(): ClockState {
    return { offsetMs: this.now().getTime() - this.realNow(), frozenAtMs: null };
  }
}
