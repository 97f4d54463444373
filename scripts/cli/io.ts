import { access, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { normalizeTrust, type TrustedCluster } from "../../shared/tickets/trust.ts";

/** What every `tessera` command group shares: exit codes, error kinds, reading input files. */

/**
 * Exit codes shared by the tessera CLI groups. `unauthenticated`: the file agrees with keys it
 * carries itself, which anyone can make up, and no key the verifier trusts was available.
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, unauthenticated: 3 } as const;

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

/** Names a file of trusted cluster keys when `--keys` is not given. */
export const TRUSTED_KEYS_ENV = "TESSERA_TRUSTED_KEYS";

/** `$XDG_CONFIG_HOME/tessera/trusted-keys.json`, else `~/.config/tessera/trusted-keys.json`. */
export function defaultTrustedKeysPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "tessera", "trusted-keys.json");
}

export interface TrustedKeys {
  trusted: TrustedCluster[];
  /** Where they came from, for the report. */
  from: string;
}

/**
 * The keys the verifier trusts, obtained independently of the file being checked: `--keys`, else
 * the file named by TESSERA_TRUSTED_KEYS, else the default config file when it exists. A named
 * file that cannot be read is an error (exit 2) rather than a silent fall back to no trust.
 */
export async function loadTrustedKeys(flag: string | undefined): Promise<TrustedKeys | undefined> {
  if (flag !== undefined) return { trusted: (await loadKeys(flag))!, from: `--keys ${flag}` };
  const fromEnv = process.env[TRUSTED_KEYS_ENV];
  if (fromEnv)
    return { trusted: (await loadKeys(fromEnv))!, from: `${TRUSTED_KEYS_ENV}=${fromEnv}` };
  const path = defaultTrustedKeysPath();
  try {
    await access(path);
  } catch {
    return undefined;
  }
  return { trusted: (await loadKeys(path))!, from: path };
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
