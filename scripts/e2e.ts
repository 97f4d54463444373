import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ASSETS_MODULE, buildWebAssets } from "./build-web.ts";

/**
 * `npm run test:e2e`: the web front in Chromium against the real local three-provider cluster.
 *
 * 1. Rebuilds the page script and stylesheet (functions/web/assets.generated.ts) so the cluster
 *    serves what functions/web/client says, not a stale build.
 * 2. Runs test/e2e/*.e2e.ts with vitest (test/e2e/vitest.config.ts); each file starts its own
 *    cluster (startTestCluster) and browser, and saves screenshots to test/e2e/screenshots/.
 *
 * Needs Debian's Chromium (`apt-get install -y chromium`) or TESSERA_CHROMIUM pointing at one.
 * Extra arguments go to vitest, e.g. `npm run test:e2e -- -t "seat map"`.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<number> {
  const t0 = performance.now();
  const next = await buildWebAssets();
  const current = await readFile(ASSETS_MODULE, "utf8").catch(() => "");
  if (current !== next) {
    await writeFile(ASSETS_MODULE, next);
    console.log("e2e: rebuilt functions/web/assets.generated.ts (commit it with your change)");
  }
  // test/e2e/browser.ts launches it and says which path is missing, if one is.
  console.log(
    `e2e: browser ${process.env.TESSERA_CHROMIUM ?? "Debian's (TESSERA_CHROMIUM unset)"}`,
  );
  const code = await new Promise<number>((done) => {
    const child = spawn(
      join(ROOT, "node_modules/.bin/vitest"),
      ["run", "--config", "test/e2e/vitest.config.ts", ...process.argv.slice(2)],
      { cwd: ROOT, stdio: "inherit" },
    );
    child.on("exit", (c, signal) => done(c ?? (signal ? 1 : 0)));
  });
  console.log(
    `e2e: ${code === 0 ? "passed" : "FAILED"} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return code;
}

process.exit(await main());
