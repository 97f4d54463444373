import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { z } from "zod";
import { issueLicense, verifyLicense } from "../../shared/auth/license.ts";
import { parseScopes } from "../../shared/auth/scopes.ts";
import {
  createTheaterToken,
  THEATER_TOKEN_TTL_DEFAULT_S,
} from "../../shared/auth/theater-token.ts";
import {
  Ed25519PrivateJwk,
  Ed25519PublicJwk,
  type PrivateJwk,
  type PublicJwk,
} from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";

export const usage = `usage: tessera license <command> [options]

  governance-keygen --out FILE [--force]
      new governance key pair: private JWK to FILE (mode 600), public JWK to stdout
      (add it to TESSERA_GOVERNANCE_KEYS)
  theater-keygen --out FILE [--force]
      new theater key pair: private JWK to FILE (mode 600), public JWK to stdout
  issue --governance-key FILE --theater-id ID --name NAME
        (--theater-public-key FILE | --theater-key FILE) --scopes "venues events orders sales"
        --days N --cluster CLUSTER_ID [--out FILE]
      sign a license certificate; prints it (or writes FILE)
  inspect FILE [--governance-keys FILE --cluster CLUSTER_ID]
      print a license's header and claims; with keys, also verify it now
  token --license FILE --theater-key FILE --method METHOD --path /v1/... [--ttl SECONDS]
      print a management token for one call:
      curl -H "Authorization: Tessera-Theater $(npx tessera license token ...)" ...`;

const DAY_S = 24 * 3600;
/** Private keys are secrets: owner read/write only. */
const SECRET_FILE_MODE = 0o600;

class UsageError extends Error {}

export async function run(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  try {
    switch (cmd) {
      case "governance-keygen":
        return await keygen(rest, "gov");
      case "theater-keygen":
        return await keygen(rest, "theater");
      case "issue":
        return await issue(rest);
      case "inspect":
        return await inspect(rest);
      case "token":
        return await token(rest);
      default:
        console.error(usage);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`tessera license ${cmd}: ${(e as Error).message}\n\n${usage}`);
      return 2;
    }
    console.error(`tessera license ${cmd}: ${(e as Error).message}`);
    return 1;
  }
}

function need(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

async function keygen(args: string[], prefix: string): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, force: { type: "boolean" } },
    strict: true,
  });
  const out = need(values, "out");
  const key = await generateEd25519Jwk(prefix);
  // "wx" refuses to overwrite: losing a governance key silently would orphan every license.
  await writeFile(out, `${JSON.stringify(key, null, 2)}\n`, {
    mode: SECRET_FILE_MODE,
    flag: values.force ? "w" : "wx",
  });
  console.log(JSON.stringify(publicOf(key)));
  return 0;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${file} is not JSON`);
  }
}

async function readPrivate(file: string): Promise<PrivateJwk> {
  const r = Ed25519PrivateJwk.safeParse(await readJson(file));
  if (!r.success) throw new Error(`${file} is not a private Ed25519 JWK`);
  return r.data;
}

/** A public JWK, or the public half of a private one. */
async function readPublic(file: string): Promise<PublicJwk> {
  const r = Ed25519PublicJwk.safeParse(await readJson(file));
  if (!r.success) throw new Error(`${file} is not an Ed25519 JWK`);
  return r.data; // the schema strips `d`
}

/** One public JWK, an array of them, or a JWKS `{keys: [...]}`. */
async function readPublicSet(file: string): Promise<PublicJwk[]> {
  const json = await readJson(file);
  const list = Array.isArray(json)
    ? json
    : json && typeof json === "object" && "keys" in json
      ? (json as { keys: unknown }).keys
      : [json];
  const r = z.array(Ed25519PublicJwk).min(1).safeParse(list);
  if (!r.success) throw new Error(`${file} holds no Ed25519 public JWKs`);
  return r.data;
}

async function issue(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "governance-key": { type: "string" },
      "theater-id": { type: "string" },
      name: { type: "string" },
      "theater-public-key": { type: "string" },
      "theater-key": { type: "string" },
      scopes: { type: "string" },
      days: { type: "string" },
      cluster: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  const theaterKeyFile = values["theater-public-key"] ?? values["theater-key"];
  if (!theaterKeyFile) throw new UsageError("--theater-public-key or --theater-key is required");
  const days = Number(need(values, "days"));
  if (!Number.isInteger(days) || days <= 0) throw new UsageError("--days must be a whole number");
  const license = await issueLicense({
    governanceKey: await readPrivate(need(values, "governance-key")),
    theaterId: need(values, "theater-id"),
    name: need(values, "name"),
    theaterKey: await readPublic(theaterKeyFile),
    scopes: parseScopes(need(values, "scopes")),
    clusterId: need(values, "cluster"),
    now: Date.now(),
    ttlS: days * DAY_S,
  });
  if (values.out) {
    await writeFile(values.out, `${license}\n`);
    console.error(`license ${decodeJwt(license).jti} written to ${values.out}`);
  } else {
    console.log(license);
  }
  return 0;
}

async function inspect(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { "governance-keys": { type: "string" }, cluster: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  const file = positionals[0];
  if (!file) throw new UsageError("license FILE is required");
  const license = (await readFile(file, "utf8")).trim();
  const claims = decodeJwt(license);
  const fmt = (s: unknown) => (typeof s === "number" ? new Date(s * 1000).toISOString() : s);
  console.log(
    JSON.stringify(
      {
        header: decodeProtectedHeader(license),
        claims,
        validFrom: fmt(claims.nbf),
        expires: fmt(claims.exp),
      },
      null,
      2,
    ),
  );
  if (!values["governance-keys"]) return 0;
  const r = await verifyLicense(license, {
    governanceKeys: await readPublicSet(values["governance-keys"]),
    clusterId: need(values, "cluster"),
    now: Date.now(),
    revoked: new Set(),
  });
  if (r.ok) {
    console.log("valid");
    return 0;
  }
  console.log(`INVALID: ${r.reason} (${r.detail})`);
  return 1;
}

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      license: { type: "string" },
      "theater-key": { type: "string" },
      method: { type: "string" },
      path: { type: "string" },
      ttl: { type: "string" },
    },
    strict: true,
  });
  const ttlS = values.ttl === undefined ? THEATER_TOKEN_TTL_DEFAULT_S : Number(values.ttl);
  const t = await createTheaterToken({
    license: (await readFile(need(values, "license"), "utf8")).trim(),
    theaterKey: await readPrivate(need(values, "theater-key")),
    method: need(values, "method"),
    path: need(values, "path"),
    now: Date.now(),
    ttlS,
  });
  console.log(t);
  return 0;
}
