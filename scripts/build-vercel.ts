import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

/**
 * Builds the Vercel deployment as Build Output API v3 (`.vercel/output`), deployable with
 * `vercel deploy --prebuilt`: one Node.js function holding the whole bundled app, every path
 * routed to it, and the anti-entropy cron. vercel.json at the root says the same for Git deploys.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = join(ROOT, "adapters/vercel/index.ts");
export const VERCEL_RUNTIME = "nodejs22.x";
/** Anti-entropy repairs keys a failed write left behind on a minority; every 5 minutes bounds how
 * long a lagging acceptor stays behind (needs a Vercel Pro plan: Hobby crons run at most daily). */
export const VERCEL_CRONS = [{ path: "/internal/anti-entropy", schedule: "*/5 * * * *" }];

export async function buildVercel(
  opts: { outDir?: string } = {},
): Promise<{ dir: string; bytes: number; inputs: string[] }> {
  const dir = opts.outDir ?? join(ROOT, ".vercel/output");
  const funcDir = join(dir, "functions/index.func");
  await rm(dir, { recursive: true, force: true });
  await mkdir(funcDir, { recursive: true });
  const outfile = join(funcDir, "index.mjs");
  const { metafile } = await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    sourcemap: "linked",
    legalComments: "external",
    // Some bundled CommonJS dependencies call require() for Node built-ins; an ESM bundle has no
    // require of its own, so give it one.
    banner: {
      js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
    },
    logLevel: "warning",
    metafile: true,
  });
  await writeFile(
    join(funcDir, ".vc-config.json"),
    JSON.stringify(
      {
        runtime: VERCEL_RUNTIME,
        handler: "index.mjs",
        launcherType: "Nodejs",
        // The handler is a web (Request -> Response) one: Vercel's req/res helpers are not used.
        shouldAddHelpers: false,
        supportsResponseStreaming: true,
      },
      null,
      2,
    ),
  );
  await writeFile(
    join(dir, "config.json"),
    JSON.stringify(
      { version: 3, routes: [{ src: "/(.*)", dest: "/index" }], crons: VERCEL_CRONS },
      null,
      2,
    ),
  );
  return {
    dir,
    bytes: (await stat(outfile)).size,
    // Every file the bundle was made from (esbuild reports them relative to the working folder).
    inputs: Object.keys(metafile.inputs).map((f) => resolve(f)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { dir, bytes } = await buildVercel();
  console.log(`built ${dir} (function bundle ${(bytes / 1024).toFixed(0)} KiB)`);
}
