// When the next step of a lifecycle is due: at once, after some seconds on the one clock, or after the subject
// has been read N times (as Moto does), so clients' polling loops can be exercised deterministically.

export type LifecycleTiming =
  | { kind: "immediate" }
  | { kind: "afterSeconds"; seconds: number }
  | { kind: "afterReads"; reads: number };

/** `immediate`, `2s`, `0.5s`, `3reads`. */
export function parseLifecycleTiming(text: string): LifecycleTiming {
  const t = text.trim().toLowerCase();
  if (t === "immediate") return { kind: "immediate" };
  const seconds = /^(\d+(?:\.\d+)?)s$/.exec(t);
  if (seconds) return { kind: "afterSeconds", seconds: Number(seconds[1]) };
  const reads = /^(\d+)reads?$/.exec(t);
  if (reads && Number(reads[1]) >= 1) return { kind: "afterReads", reads: Number(reads[1]) };
  throw new Error(`not a lifecycle timing: '${text}' (use immediate, <seconds>s or <n>reads)`);
}

export function describeTiming(t: LifecycleTiming): string {
  return t.kind === "immediate" ? "immediate" : t.kind === "afterSeconds" ? `${t.seconds}s` : `${t.reads}reads`;
}

/** The due time and read countdown of a step scheduled now. */
export function scheduleStep(t: LifecycleTiming, now: Date): { dueAt: string; readsLeft: number | null } {
  if (t.kind === "afterSeconds") return { dueAt: new Date(now.getTime() + t.seconds * 1000).toISOString(), readsLeft: null };
  if (t.kind === "afterReads") return { dueAt: "9999-12-31T23:59:59.999Z", readsLeft: t.reads };
  return { dueAt: now.toISOString(), readsLeft: null };
}

/**
 * The timing of each lifecycle, by work kind (`deviceAction`, `autopilotSync`, `mmdReassign`, …): one default
 * (`--lifecycle`) and the lifecycles given a timing of their own at run time (`PUT /_allot/lifecycles`).
 */
export class LifecycleTimings {
  private readonly own = new Map<string, LifecycleTiming>();

  constructor(
    private fallback: LifecycleTiming,
    /** The work kinds this installation knows, so a setting for a kind that does not exist is refused. */
    readonly kinds: readonly string[],
  ) {}

  for(kind: string): LifecycleTiming {
    return this.own.get(kind) ?? this.fallback;
  }

  /** Whether some lifecycle counts reads (reads then have to be reported to the reconciler). */
  countsReads(): boolean {
    return this.fallback.kind === "afterReads" || [...this.own.values()].some((t) => t.kind === "afterReads");
  }

  /** `{"default": "1s", "lifecycles": {"deviceAction": "immediate"}}`; a kind set to null follows the default again. */
  describe(): { default: string; lifecycles: Record<string, string> } {
    return { default: describeTiming(this.fallback), lifecycles: Object.fromEntries(this.kinds.map((k) => [k, describeTiming(this.for(k))])) };
  }

  /** The timings of `describe()`'s shape, as stored or sent; what is not named keeps its current timing. */
  apply(settings: { default?: string; lifecycles?: Record<string, string | null> }) {
    const fallback = settings.default === undefined ? this.fallback : parseLifecycleTiming(settings.default);
    const own = new Map(this.own);
    for (const [kind, text] of Object.entries(settings.lifecycles ?? {})) {
      if (!this.kinds.includes(kind)) throw new Error(`no lifecycle '${kind}' (one of ${this.kinds.join(", ")})`);
      if (text === null) own.delete(kind);
      else own.set(kind, parseLifecycleTiming(text));
    }
    this.fallback = fallback;
    this.own.clear();
    for (const [k, v] of own) this.own.set(k, v);
  }

  /** What to store: the default and only the lifecycles that have a timing of their own. */
  stored(): { default: string; lifecycles: Record<string, string | null> } {
    return {
      default: describeTiming(this.fallback),
      lifecycles: Object.fromEntries(this.kinds.map((k) => [k, this.own.has(k) ? describeTiming(this.own.get(k)!) : null])),
    };
  }
}
