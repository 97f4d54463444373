import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatSchemas, schemaText } from "../../shared/formats/schemas.ts";
import { verifyBackup } from "../../shared/formats/verify-backup.ts";
import { EXIT, guarded, InputError, loadTrustedKeys, readJsonFile, UsageError } from "./io.ts";

export const usage = `usage: tessera backup <command>

  verify FILE [--keys KEYS.json] [--no-tickets] [--json]
      Checks a theater backup (tessera.backup): schema, per-section checksums, every ticket's
      quorum signatures, and that tickets match seats. Tickets are authenticated only against
      keys you trust: KEYS, else the file named by $TESSERA_TRUSTED_KEYS, else
      $XDG_CONFIG_HOME/tessera/trusted-keys.json (default ~/.config/...) when it exists. Without
      any, the keys in the file show only that it is self-consistent: NOT AUTHENTICATED.
      Exit 0 valid, 1 problems found (all listed), 2 usage or I/O error,
      3 self-consistent but not authenticated.
  schema [--all --out-dir DIR]
      Print the backup JSON Schema; with --all, write every format schema into DIR
      (the committed copies live in docs/formats/).`;

export async function run(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  return guarded(usage, async () => {
    if (cmd === "verify") return verifyCmd(rest);
    if (cmd === "schema") return schemaCmd(rest);
    throw new UsageError(`unknown command "${cmd}"`);
  });
}

async function verifyCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      keys: { type: "string" },
      "no-tickets": { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("expected exactly one FILE");
  const own = await loadTrustedKeys(values.keys);
  const parsed = await readJsonFile(positionals[0]!);
  const r = await verifyBackup(parsed, {
    ...(own ? { trusted: own.trusted } : {}),
    verifyTickets: !values["no-tickets"],
  });
  // Keys shipped in the file are anyone's to make up: they never authenticate it.
  const authenticated = own !== undefined || values["no-tickets"] === true;
  const exit = !r.ok ? EXIT.invalid : authenticated ? EXIT.ok : EXIT.unauthenticated;
  if (values.json) {
    const keysSource = own ? "trusted" : r.keysSource;
    console.log(
      JSON.stringify(
        { ...r, ok: r.ok && authenticated, selfConsistent: r.ok, authenticated, keysSource },
        null,
        2,
      ),
    );
    return exit;
  }
  const counts = Object.entries(r.counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  const verdict = !r.ok
    ? "INVALID"
    : authenticated
      ? "VALID"
      : "SELF-CONSISTENT, NOT AUTHENTICATED";
  console.log(`${verdict} backup: ${counts}`);
  const keys = own ? `trusted (${own.from})` : `${r.keysSource}, not trusted`;
  console.log(
    `tickets: ${r.tickets.valid} valid, ${r.tickets.invalid} invalid of ${r.tickets.checked} checked (keys ${keys})`,
  );
  for (const i of r.issues) console.log(`  ${i.code} ${i.path}: ${i.detail}`);
  if (r.omitted) console.log(`  ... and ${r.omitted} more issues`);
  if (r.ok && !authenticated) {
    console.log("  the tickets verify only against keys the file carries itself: pass --keys");
  }
  return exit;
}

async function schemaCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { all: { type: "boolean" }, "out-dir": { type: "string" } },
  });
  if (positionals.length > 0) throw new UsageError("schema takes no positional arguments");
  const schemas = formatSchemas();
  if (!values.all) {
    process.stdout.write(schemaText(schemas["backup.schema.json"]!));
    return EXIT.ok;
  }
  const dir = values["out-dir"];
  if (!dir) throw new UsageError("--all needs --out-dir DIR");
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, s] of Object.entries(schemas)) {
      await writeFile(join(dir, name), schemaText(s));
      console.log(`wrote ${join(dir, name)}`);
    }
  } catch (e) {
    throw new InputError(`cannot write into ${dir}: ${(e as Error).message}`);
  }
  return EXIT.ok;
}
