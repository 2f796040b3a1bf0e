// A one-line progress bar on a stream (stderr): redrawn in place with a carriage return, so it never mixes with
// what the command prints on stdout.

const number = (n: number) => Math.round(n).toLocaleString("en-US");

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}

export class ProgressBar {
  private readonly started = performance.now();
  private lastWidth = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly total: number,
    private readonly unit: string,
    private readonly width = 30,
  ) {}

  update(done: number) {
    const fraction = this.total === 0 ? 1 : Math.min(1, done / this.total);
    const filled = Math.round(fraction * this.width);
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const line = `[${"#".repeat(filled)}${"-".repeat(this.width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${number(done)}/${number(this.total)} ${this.unit}  ${number(rate)}/s  ${done >= this.total ? `in ${duration(seconds)}` : `ETA ${duration(eta)}`}`;
    // Pad over the previous line's tail instead of relying on terminal escapes (the stream may be a file).
    this.out.write(`\r${line}${" ".repeat(Math.max(0, this.lastWidth - line.length))}`);
    this.lastWidth = line.length;
  }

  finish() {
    this.out.write("\n");
  }
}
