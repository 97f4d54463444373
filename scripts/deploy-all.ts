/**
 * `npm run deploy:all`: deploys the same handler set to Cloudflare Workers, Vercel and AWS Lambda
 * from one cluster configuration. `--dry-run` builds the three deployable artifacts offline, loads
 * each one and checks it answers, and prints their sizes: this is what CI runs.
 *
 * Credentials and secrets come only from the environment (see docs/deploy.md); with any missing the
 * script refuses before touching a provider and lists every missing name.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const dryRun = process.argv.includes("--dry-run");
const root = resolve(import.meta.dirname, "..");
/** Pinned deploy CLIs: vercel stays out of the lockfile (its lock entries break npm ci). */
const VERCEL_CLI = "vercel@60.1.3";
const SERVERLESS_CLI = "serverless@3.40.0";

const REQUIRED_FOR_DEPLOY: Record<string, string> = {
  CLOUDFLARE_API_TOKEN: "Cloudflare API token with Workers, Durable Objects and R2 edit rights",
  CLOUDFLARE_ACCOUNT_ID: "Cloudflare account id",
  VERCEL_TOKEN: "Vercel access token",
  VERCEL_ORG_ID: "Vercel team/org id",
  VERCEL_PROJECT_ID: "Vercel project id",
  AWS_ACCESS_KEY_ID: "AWS credentials (or set AWS_PROFILE instead of the key pair)",
  AWS_SECRET_ACCESS_KEY: "AWS credentials (or set AWS_PROFILE instead of the key pair)",
  TESSERA_CLUSTER: "cluster configuration JSON (public): cluster id, provider URLs and public keys",
  TESSERA_SIGNING_KEY_CLOUDFLARE: "Cloudflare deployment's Ed25519 private JWK",
  TESSERA_SIGNING_KEY_VERCEL: "Vercel deployment's Ed25519 private JWK",
  TESSERA_SIGNING_KEY_AWS: "AWS deployment's Ed25519 private JWK",
  TESSERA_GOVERNANCE_KEYS: "JSON array of governance public JWKs that sign theater licenses",
  TESSERA_OIDC_ISSUER: "buyers' OpenID Connect issuer URL",
  TESSERA_OIDC_AUDIENCE: "audience buyer tokens must carry",
  CRON_SECRET: "bearer secret of the scheduled anti-entropy call (16+ chars)",
  TESSERA_BUYER_ID_KEY:
    "secret shared by all three deployments that keys buyer ids (32+ random bytes, base64url)",
  UPSTASH_REDIS_REST_URL: "Upstash Redis REST URL for the Vercel deployment",
  UPSTASH_REDIS_REST_TOKEN: "Upstash Redis REST token for the Vercel deployment",
};

/** Per deployment, only when set: the name of the last restore of its own store (docs/quorum.md,
 * "Acceptor amnesia"); serverless.yml reads TESSERA_STORE_RESTORE_AWS itself. */
const restoreOf = (env: Record<string, string>, suffix: "CLOUDFLARE" | "VERCEL") => {
  const v = env[`TESSERA_STORE_RESTORE_${suffix}`];
  return v ? [["TESSERA_STORE_RESTORE", v] as const] : [];
};

/** Settings each deployment gets only when the operator set them (docs/deploy.md). */
const OPTIONAL = [
  "TESSERA_TRUSTED_CLUSTERS",
  "TESSERA_OIDC_ISSUER_ALIASES",
  "TESSERA_REVOKED_LICENSES",
] as const;

function run(cmd: string, args: string[], env: Record<string, string> = {}): void {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      VERCEL_TELEMETRY_DISABLED: "1",
      ...env,
    },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args[0] ?? ""} failed with exit ${r.status}`);
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function buildAll(): Promise<Array<{ provider: string; artifact: string; size: string }>> {
  const rows: Array<{ provider: string; artifact: string; size: string }> = [];

  run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist/cloudflare"]);
  const worker = join(root, "dist/cloudflare/index.js");
  if (!existsSync(worker)) throw new Error(`wrangler produced no ${worker}`);
  const wbytes = readFileSync(worker);
  rows.push({
    provider: "cloudflare",
    artifact: "dist/cloudflare/index.js",
    size: `${kib(wbytes.length)} (${kib(gzipSync(wbytes).length)} gzipped)`,
  });

  const { buildVercel } = await import("./build-vercel.ts");
  const v = await buildVercel();
  rows.push({ provider: "vercel", artifact: v.dir, size: kib(v.bytes) });

  const { buildAws } = await import("./build-aws.ts");
  const a = await buildAws();
  rows.push({ provider: "aws", artifact: a.zip, size: kib(a.bytes) });
  return rows;
}

async function main(): Promise<number> {
  if (!dryRun) {
    const missing = Object.keys(REQUIRED_FOR_DEPLOY).filter((k) => {
      if (k.startsWith("AWS_") && process.env.AWS_PROFILE) return false;
      return !process.env[k];
    });
    if (missing.length > 0) {
      console.error("deploy:all refused: missing credentials or settings in the environment:");
      for (const k of missing) console.error(`  ${k.padEnd(32)} ${REQUIRED_FOR_DEPLOY[k]}`);
      console.error(
        "\nSee docs/deploy.md. To only build and check the bundles: npm run deploy:all -- --dry-run",
      );
      return 1;
    }
  }
  const rows = await buildAll();
  console.log("\nartifacts:");
  for (const r of rows)
    console.log(`  ${r.provider.padEnd(11)} ${r.artifact.padEnd(34)} ${r.size}`);
  if (dryRun) {
    const { checkArtifacts } = await import("./check-artifacts.ts");
    await checkArtifacts(root);
    console.log("dry run: all three artifacts built and answered /livez; nothing deployed");
    return 0;
  }
  const env = process.env as Record<string, string>;
  run("npx", ["wrangler", "deploy"], {});
  for (const [name, value] of [
    ["TESSERA_SIGNING_KEY", env.TESSERA_SIGNING_KEY_CLOUDFLARE],
    ["TESSERA_CLUSTER", env.TESSERA_CLUSTER],
    ["TESSERA_GOVERNANCE_KEYS", env.TESSERA_GOVERNANCE_KEYS],
    ["TESSERA_OIDC_ISSUER", env.TESSERA_OIDC_ISSUER],
    ["TESSERA_OIDC_AUDIENCE", env.TESSERA_OIDC_AUDIENCE],
    ["CRON_SECRET", env.CRON_SECRET],
    ["TESSERA_BUYER_ID_KEY", env.TESSERA_BUYER_ID_KEY],
    ...OPTIONAL.filter((k) => env[k]).map((k) => [k, env[k]] as const),
    ...restoreOf(env, "CLOUDFLARE"),
  ] as const) {
    const r = spawnSync("npx", ["wrangler", "secret", "put", name], {
      cwd: root,
      input: value,
      stdio: ["pipe", "inherit", "inherit"],
    });
    if (r.status !== 0) throw new Error(`wrangler secret put ${name} failed`);
  }
  // Runtime settings for this deployment go as --env pairs (the prebuilt output carries no env).
  const vercelEnv = [
    ["TESSERA_PROVIDER", "vercel"],
    ["TESSERA_SIGNING_KEY", env.TESSERA_SIGNING_KEY_VERCEL],
    ...[
      "TESSERA_CLUSTER",
      "TESSERA_GOVERNANCE_KEYS",
      "TESSERA_OIDC_ISSUER",
      "TESSERA_OIDC_AUDIENCE",
      "CRON_SECRET",
      "TESSERA_BUYER_ID_KEY",
      "UPSTASH_REDIS_REST_URL",
      "UPSTASH_REDIS_REST_TOKEN",
    ].map((k) => [k, env[k]]),
    ...OPTIONAL.filter((k) => env[k]).map((k) => [k, env[k]]),
    ...restoreOf(env, "VERCEL"),
  ].flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  run("npx", [
    "-y",
    VERCEL_CLI,
    "deploy",
    "--prebuilt",
    "--prod",
    "--token",
    env.VERCEL_TOKEN!,
    ...vercelEnv,
  ]);
  run("npx", ["-y", SERVERLESS_CLI, "deploy"], {
    TESSERA_SIGNING_KEY: env.TESSERA_SIGNING_KEY_AWS!,
  });
  console.log("deployed to all three providers");
  return 0;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`deploy:all failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
