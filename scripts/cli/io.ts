import { readFile } from "node:fs/promises";
import { normalizeTrust, type TrustedCluster } from "../../shared/tickets/trust.ts";

/** What every `tessera` command group shares: exit codes, error kinds, reading input files. */

/** Exit codes shared by the tessera CLI groups. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** Bad arguments: exit 2 with the usage text. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Unreadable or unparsable input: exit 2, without the usage text. */
export class InputError extends UsageError {
  override name = "InputError";
}

/** Reads and parses a JSON file; UsageError (exit 2) when unreadable or not JSON. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`${path} is not JSON`);
  }
}

export async function loadKeys(path: string | undefined): Promise<TrustedCluster[] | undefined> {
  if (path === undefined) return undefined;
  try {
    return normalizeTrust(await readJsonFile(path));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
}

/** Runs a command body, mapping UsageError (and option parsing errors) to exit 2. */
export async function guarded(usageText: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof InputError) {
      console.error(`error: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`error: ${(e as Error).message}\n\n${usageText}`);
      return EXIT.usage;
    }
    throw e;
  }
}
