// Builds the dashboard into server/static/app/ and fails when all its JavaScript together is
// over the budget (gzip), so the first screen stays fast.
import { build } from "vite";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 150 * 1024;
const out = new URL("../server/static/app/assets/", import.meta.url).pathname;

await build({ logLevel: "warn" });

let total = 0;
for (const name of readdirSync(out).sort()) {
  const size = gzipSync(readFileSync(join(out, name)), { level: 9 }).length;
  console.log(`${name.padEnd(36)} ${(size / 1024).toFixed(1).padStart(6)} KB gzip`);
  if (name.endsWith(".js")) total += size;
}
console.log(`all JavaScript: ${(total / 1024).toFixed(1)} KB gzip (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error("the dashboard's JavaScript is over its budget");
  process.exit(1);
}
