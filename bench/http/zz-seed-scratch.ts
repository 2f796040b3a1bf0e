import { startAllot } from "/work/main/src/server/allotServer.ts";
import { benchFixture } from "/work/main/bench/http/fixture.ts";
const t = performance.now();
const allot = await startAllot({ port: 0, host: "127.0.0.1", store: { kind: "sqlite", file: process.argv[2] }, seed: benchFixture(Number(process.argv[3])), logger: false });
console.log("seeded", (performance.now() - t) / 1000);
await allot.close();
