import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../bench/results");

/** `2026-05-01T10-20-30Z`: sortable, and safe in file names everywhere. */
export function stamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
}

/**
 * Writes `<prefix><stamp>.json` and `<prefix>latest.json` (and the SVG likewise when given).
 * Returns the paths written.
 */
export async function writeResults(
  dir: string,
  prefix: string,
  at: string,
  report: unknown,
  svg?: string,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const files: [string, string][] = [
    [join(dir, `${prefix}${at}.json`), json],
    [join(dir, `${prefix}latest.json`), json],
  ];
  if (svg !== undefined) {
    files.push([join(dir, `${prefix}${at}.svg`), svg], [join(dir, `${prefix}latest.svg`), svg]);
  }
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([p]) => p);
}
