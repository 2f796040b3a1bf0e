// The one clock. Every timestamp the server writes and every lifecycle step reads it, so time control
// (freeze, advance) can later act on all of them at once.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
