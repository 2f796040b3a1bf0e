// Latency summaries for the built-in generator (wrk and autocannon compute their own).

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Growable Float64 storage for one sample per request, without boxing numbers. */
export class Samples {
  private buffer = new Float64Array(1 << 16);
  length = 0;

  push(value: number) {
    if (this.length === this.buffer.length) {
      const bigger = new Float64Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = value;
  }

  summary() {
    const sorted = this.buffer.slice(0, this.length).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      mean: this.length ? sum / this.length : NaN,
      max: this.length ? sorted[this.length - 1] : NaN,
    };
  }
}
