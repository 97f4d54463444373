import { fromBase64Url, toBase64Url } from "../../shared/crypto/base64.ts";
import { SCAN_LIMIT_MAX } from "../../shared/storage/ports.ts";
import { ProblemError } from "../problem.ts";
import type { Services } from "./index.ts";
import type { ScanConsistency } from "./store.ts";

/** Reading a key prefix page by page: whole scans for exports and sweeps, and the API's lists. */

/** Every page of a scan, `pageSize` records at a time (memory stays at one page). */
export async function* scanPages<T>(
  s: Services,
  prefix: string,
  pageSize = SCAN_LIMIT_MAX,
  consistency: ScanConsistency = "majority",
): AsyncGenerator<{ key: string; value: T }[]> {
  let cursor: string | undefined;
  do {
    const page = await s.store.scan<T>(
      prefix,
      { limit: pageSize, ...(cursor !== undefined ? { cursor } : {}) },
      consistency,
    );
    if (page.items.length > 0) yield page.items;
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/**
 * Scan pages one list request may read before it returns what it found with a cursor: bounds the
 * work of a request whose filter drops most entries (a search matching little).
 */
export const LIST_SCAN_PAGES_MAX = 10;

/** API cursors are a position in key space (every driver's scan cursor is one), base64url-coded so
 * clients treat them as opaque; they work on any provider, which a client may switch to. */
export const encodeCursor = (key: string) => toBase64Url(new TextEncoder().encode(key));

export function decodeCursor(cursor: string, prefix: string): string {
  let key: string | undefined;
  try {
    key = new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(cursor));
  } catch {
    key = undefined;
  }
  if (key === undefined || !key.startsWith(prefix)) {
    throw new ProblemError(400, "invalid-cursor", "Invalid cursor", "pass `nextCursor` unchanged");
  }
  return key;
}

/**
 * One page of a filtered, mapped local scan: `keep` returns the item to list or undefined to skip.
 * `nextCursor` is present whenever entries may follow.
 */
export async function listPage<T, R>(
  s: Services,
  prefix: string,
  page: { cursor?: string | undefined; limit: number },
  keep: (key: string, value: T) => R | undefined | Promise<R | undefined>,
  consistency: ScanConsistency = "local",
): Promise<{ items: R[]; nextCursor?: string }> {
  let after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, prefix);
  const items: R[] = [];
  const scanLimit = Math.min(SCAN_LIMIT_MAX, Math.max(page.limit, 100));
  for (let p = 0; p < LIST_SCAN_PAGES_MAX; p++) {
    const got = await s.store.scan<T>(
      prefix,
      { limit: scanLimit, ...(after !== undefined ? { cursor: after } : {}) },
      consistency,
    );
    for (let i = 0; i < got.items.length; i++) {
      const it = got.items[i]!;
      const r = await keep(it.key, it.value);
      if (r !== undefined) items.push(r);
      after = it.key;
      if (items.length === page.limit) {
        const last = i === got.items.length - 1 && got.cursor === undefined;
        return last ? { items } : { items, nextCursor: encodeCursor(it.key) };
      }
    }
    if (got.cursor === undefined) return { items };
    after = got.cursor;
  }
  return after === undefined ? { items } : { items, nextCursor: encodeCursor(after) };
}
