import { maxBallot } from "./ballot.ts";
import type { AcceptorRecord, ScanPage } from "./messages.ts";

/**
 * Two stores' scan pages of the same range, merged into what the cluster has committed there. A
 * write is committed once a majority accepted it, and any two of three stores include one of that
 * majority: so the union of two stores' records, keeping per key the one with the higher accepted
 * ballot (the later write), holds every committed record, including a deletion a lagging store
 * has not seen. It may also hold a write still in flight (accepted by one store so far), which a
 * later read either confirms or never sees again; lists and backups can live with that, not with a
 * committed order missing because the serving store was down when it was sold.
 *
 * A page that stopped early (`cursor`) covers keys only up to its last key, so the merge stops at
 * the smallest such key and hands it on as the cursor.
 */
export function mergeScans(pages: readonly ScanPage[]): ScanPage {
  let upTo: string | undefined;
  for (const p of pages) {
    // Where a stopped page got to: its last key (a plain key is a valid cursor on every driver).
    const last = p.cursor === undefined ? undefined : (p.records.at(-1)?.key ?? p.cursor);
    if (last !== undefined && (upTo === undefined || last < upTo)) upTo = last;
  }
  const byKey = new Map<string, AcceptorRecord>();
  for (const p of pages) {
    for (const r of p.records) {
      if (upTo !== undefined && r.key > upTo) continue;
      const cur = byKey.get(r.key);
      if (cur === undefined || maxBallot(cur.accepted, r.accepted) !== cur.accepted) {
        byKey.set(r.key, r);
      }
    }
  }
  const records = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return upTo === undefined ? { records } : { records, cursor: upTo };
}
