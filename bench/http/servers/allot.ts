// Allot under load, in a child process of its own: the store and user count arrive as a JSON argument; the
// fixture is generated here (deterministic ids) and passed to startAllot as its seed.

import BetterSqlite3 from "better-sqlite3";
import { startAllot, type StoreOption } from "../../../src/server/allotServer.js";
import { benchFixture } from "../fixture.js";
import { reportFailure, serveUntilStopped } from "./childProtocol.js";

interface AllotChildConfig {
  store: StoreOption;
  users: number;
}

try {
  const config = JSON.parse(process.argv[2] ?? "") as AllotChildConfig;
  const fixture = benchFixture(config.users);
  const started = performance.now();
  const allot = await startAllot({ port: 0, host: "127.0.0.1", store: config.store, seed: fixture, logger: false });
  const seedSeconds = (performance.now() - started) / 1000;
  const facts: Record<string, unknown> = { seedSeconds, users: config.users };
  if (config.store.kind === "sqlite") {
    const probe = new BetterSqlite3(":memory:");
    facts.sqliteVersion = (probe.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
    probe.close();
    facts.journalMode = (await allot.db.all<{ journal_mode: string }>("PRAGMA journal_mode"))[0]?.journal_mode;
  } else {
    facts.postgresVersion = (await allot.db.all<{ server_version: string }>("SHOW server_version"))[0]?.server_version;
  }
  serveUntilStopped({ url: allot.url, ...facts }, () => allot.close());
} catch (e) {
  reportFailure(e);
}
