// Runs before `npm start` and `npm test`: on a fresh clone, installs the locked dependencies first, so the
// quick start stays two commands. Uses only Node's built-ins (nothing else is installed yet).
import { existsSync, readFileSync, statSync } from "node:fs";
import { execSync } from "node:child_process";

const lock = "package-lock.json";
const installed = "node_modules/.package-lock.json";
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs - 1000;
const missingNative = !existsSync("node_modules/better-sqlite3/build/Release/better_sqlite3.node");
if (stale || missingNative) {
  const { name } = JSON.parse(readFileSync("package.json", "utf8"));
  console.error(`${name}: installing dependencies (npm ci) …`);
  execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
}
