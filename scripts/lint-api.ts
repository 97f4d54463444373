import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openApiText } from "./openapi-doc.ts";

/**
 * `npm run lint:api`: lints the OpenAPI document the app serves with Spectral (OWASP API Security
 * ruleset, .spectral.mjs) and Redocly (recommended rules, redocly.yaml). Offline: both rulesets
 * come from node_modules and telemetry and update checks are off. Fails on any error.
 *
 * The document is generated for a deployed cluster's https URLs: the servers list is the only
 * deployment-specific part, and the local stand-ins' http://127.0.0.1 would only trip the
 * "no plain-http server" rule, which is about deployments.
 */
const DEPLOYED = {
  cloudflare: "https://tessera.cloudflare.example",
  vercel: "https://tessera.vercel.example",
  aws: "https://tessera.aws.example",
};

const dir = mkdtempSync(join(tmpdir(), "tessera-openapi-"));
const file = join(dir, "openapi.json");
let failed = false;
try {
  writeFileSync(file, `${await openApiText(DEPLOYED)}\n`);
  const env = {
    ...process.env,
    REDOCLY_TELEMETRY: "off",
    REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
    SPECTRAL_DISABLE_TELEMETRY: "true",
  };
  const run = (cmd: string, args: string[]) => {
    console.log(`$ ${cmd} ${args.join(" ")}`);
    const r = spawnSync(join("node_modules", ".bin", cmd), args, { stdio: "inherit", env });
    if (r.status !== 0) failed = true;
  };
  run("spectral", ["lint", "--ruleset", ".spectral.mjs", "--fail-severity", "error", file]);
  run("redocly", ["lint", "--config", "redocly.yaml", file]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  console.error("lint:api: the OpenAPI document has errors (see above)");
  process.exit(1);
}
