// The server's controlled clock over a "real time" that a test moves by hand, so lifecycle steps and lags come due
// exactly when the test says.

import { ControlledClock } from "../../src/time/controlledClock.js";

export class ManualClock extends ControlledClock {
  private elapsedMs = 0;

  constructor(start = Date.parse("2026-03-01T09:00:00Z")) {
    super(() => start + this.elapsedMs);
  }

  advanceMs(ms: number) {
    this.elapsedMs += ms;
  }

  advanceSeconds(seconds: number) {
    this.advanceMs(seconds * 1000);
  }
}
