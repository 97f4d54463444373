import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { zipSync } from "fflate";
import { parse } from "yaml";
import { TABLE_KEYS } from "../adapters/aws/provision.ts";

/**
 * Builds the Lambda package `dist/aws/tessera.zip` (one ESM file, index.mjs) that serverless.yml
 * deploys as its `package.artifact`, and checks serverless.yml agrees with it: the artifact path,
 * the runtime, every function handler exported by the bundle, the table's key schema, and no
 * literal signing key.
 *
 * The AWS SDK v3 is bundled rather than taken from the nodejs22.x runtime: the runtime's copy
 * changes under us between Lambda releases, while the bundle runs exactly the client versions
 * package-lock.json pins and the tests ran against.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = join(ROOT, "adapters/aws/index.ts");
const OUT_DIR = join(ROOT, "dist/aws");
export const AWS_ZIP = join(OUT_DIR, "tessera.zip");
export const AWS_RUNTIME = "nodejs22.x";
const SERVERLESS_YML = join(ROOT, "serverless.yml");
const ENTRY_FILE = "index.mjs";
/** A fixed timestamp makes the zip byte-identical for identical code, so an unchanged bundle does
 * not count as a new Lambda version. */
const ZIP_MTIME = new Date("2000-01-01T00:00:00Z");

export async function buildAws(): Promise<{ zip: string; bytes: number }> {
  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, ENTRY_FILE);
  const result = await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    metafile: true,
    legalComments: "none",
    // Bundled CommonJS dependencies call require() for Node built-ins; an ESM bundle has none.
    banner: {
      js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
    },
    logLevel: "warning",
  });
  const exports = result.metafile.outputs[relative(process.cwd(), outfile)]?.exports ?? [];
  await checkServerlessYml(exports);
  const zip = zipSync(
    { [ENTRY_FILE]: [await readFile(outfile), { mtime: ZIP_MTIME }] },
    { level: 9 },
  );
  await writeFile(AWS_ZIP, zip);
  return { zip: AWS_ZIP, bytes: zip.length };
}

interface ServerlessYml {
  package?: { artifact?: string };
  provider?: { runtime?: string; environment?: Record<string, unknown> };
  functions?: Record<string, { handler?: string }>;
  resources?: {
    Resources?: Record<
      string,
      { Type?: string; Properties?: { KeySchema?: { AttributeName: string; KeyType: string }[] } }
    >;
  };
}

/** Throws one error listing every way serverless.yml disagrees with the bundle. */
export async function checkServerlessYml(bundleExports: readonly string[]): Promise<void> {
  const doc = parse(await readFile(SERVERLESS_YML, "utf8")) as ServerlessYml;
  const problems: string[] = [];
  const artifact = doc.package?.artifact;
  if (!artifact || resolve(ROOT, artifact) !== AWS_ZIP) {
    problems.push(`package.artifact must be ${relative(ROOT, AWS_ZIP)} (is ${artifact})`);
  }
  if (doc.provider?.runtime !== AWS_RUNTIME) {
    problems.push(`provider.runtime must be ${AWS_RUNTIME} (is ${doc.provider?.runtime})`);
  }
  const functions = Object.entries(doc.functions ?? {});
  if (functions.length === 0) problems.push("no functions");
  for (const [name, fn] of functions) {
    const [file, exp] = (fn.handler ?? "").split(".");
    if (`${file}.mjs` !== ENTRY_FILE || !exp || !bundleExports.includes(exp)) {
      problems.push(`functions.${name}.handler ${fn.handler} is not an export of ${ENTRY_FILE}`);
    }
  }
  const tables = Object.values(doc.resources?.Resources ?? {}).filter(
    (r) => r.Type === "AWS::DynamoDB::Table",
  );
  const keys = tables[0]?.Properties?.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === "HASH")?.AttributeName;
  const range = keys.find((k) => k.KeyType === "RANGE")?.AttributeName;
  if (tables.length !== 1 || hash !== TABLE_KEYS.partition || range !== TABLE_KEYS.sort) {
    problems.push(`one DynamoDB table keyed ${TABLE_KEYS.partition}/${TABLE_KEYS.sort} expected`);
  }
  const key = doc.provider?.environment?.TESSERA_SIGNING_KEY;
  if (typeof key !== "string" || !key.startsWith("${")) {
    problems.push(
      "provider.environment.TESSERA_SIGNING_KEY must be an env: or ssm: variable, never a literal",
    );
  }
  if (problems.length > 0) {
    throw new Error(`serverless.yml does not match the bundle:\n  ${problems.join("\n  ")}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { zip, bytes } = await buildAws();
  console.log(`built ${relative(ROOT, zip)} (${(bytes / 1024).toFixed(0)} KiB)`);
}
