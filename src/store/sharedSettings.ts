// Installation-wide settings every process on a store shares (the clock, throttling limits, lifecycle timings):
// JSON values in allot_meta under `setting:<name>`. Writers store them; every process reads them all in one
// statement at start and every second after (src/server/sharedState.ts), so the hot path reads memory only.

import type { Database } from "./database.js";

const PREFIX = "setting:";

export class SharedSettings {
  constructor(private readonly db: Database) {}

  async readAll(): Promise<Map<string, unknown>> {
    const rows = await this.db.all<{ key: string; value: string }>(`SELECT key, value FROM allot_meta WHERE key LIKE '${PREFIX}%'`);
    return new Map(rows.map((r) => [r.key.slice(PREFIX.length), JSON.parse(r.value)]));
  }

  async write(name: string, value: unknown): Promise<void> {
    const p = (n: number) => this.db.dialect.param(n);
    await this.db.run(
      `INSERT INTO allot_meta (key, value) VALUES (${p(1)}, ${p(2)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [PREFIX + name, JSON.stringify(value)],
    );
  }

  async remove(name: string): Promise<void> {
    await this.db.run(`DELETE FROM allot_meta WHERE key = ${this.db.dialect.param(1)}`, [PREFIX + name]);
  }
}
