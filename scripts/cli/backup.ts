import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatSchemas, schemaText } from "../../shared/formats/schemas.ts";
import { verifyBackup } from "../../shared/formats/verify-backup.ts";
import { EXIT, guarded, InputError, loadKeys, readJsonFile, UsageError } from "./io.ts";

export const usage = `usage: tessera backup <command>

  verify FILE [--keys KEYS.json] [--no-tickets] [--json]
      Checks a theater backup (tessera.backup): schema, per-section checksums, every ticket's
      quorum signatures (against the keys in the file, or KEYS), and that tickets match seats.
      Exit 0 valid, 1 problems found (all listed), 2 usage or I/O error.
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
  const keys = await loadKeys(values.keys);
  const parsed = await readJsonFile(positionals[0]!);
  const r = await verifyBackup(parsed, {
    ...(keys ? { trusted: keys } : {}),
    verifyTickets: !values["no-tickets"],
  });
  if (values.json) {
    console.log(JSON.stringify(r, null, 2));
    return r.ok ? EXIT.ok : EXIT.invalid;
  }
  const counts = Object.entries(r.counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  console.log(`${r.ok ? "VALID" : "INVALID"} backup: ${counts}`);
  console.log(
    `tickets: ${r.tickets.valid} valid, ${r.tickets.invalid} invalid of ${r.tickets.checked} checked (keys ${r.keysSource})`,
  );
  for (const i of r.issues) console.log(`  ${i.code} ${i.path}: ${i.detail}`);
  if (r.omitted) console.log(`  ... and ${r.omitted} more issues`);
  return r.ok ? EXIT.ok : EXIT.invalid;
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
