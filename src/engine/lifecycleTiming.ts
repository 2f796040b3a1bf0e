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
