import { AuditEntry, GENESIS_HASH, hashEntry } from "./entry.ts";

/**
 * Checks every link of a chain independently (seq + 1, prevHash = hash of the entry before), so one
 * edit shows as one break rather than a cascade:
 *   - an edited entry breaks the link to the entry AFTER it (its hash changed);
 *   - a deleted entry leaves a seq gap and a prevHash that names the missing entry;
 *   - reordered entries break seq order and prevHash at the first moved entry.
 * What a chain alone cannot show: the loss or edit of its LAST entries (nothing points at them).
 * Sealed segments cover that: the provider signs the last hash and seq (segment.ts).
 */
export type ChainBreakCode = "malformed" | "start" | "seq" | "prev-hash" | "provider";

export interface ChainBreak {
  /** Index in the array of the entry whose link (to the entry before it) is broken. */
  index: number;
  /** Its seq as written (may be the problem itself). */
  seq: number | undefined;
  code: ChainBreakCode;
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  count: number;
  firstBreak?: ChainBreak;
  /** Up to MAX_REPORTED_BREAKS breaks; `omitted` counts the rest. */
  breaks: ChainBreak[];
  omitted: number;
  /** hashEntry of the last entry (when it parses), to compare with a sealed lastHash. */
  lastHash?: string;
}

export interface VerifyChainOptions {
  /** prevHash the first entry must carry (default: GENESIS_HASH when its seq is 1, else any). */
  firstPrevHash?: string;
  /** seq the first entry must carry (default: any). */
  fromSeq?: number;
}

/** A long log with a systematic problem would otherwise produce one break per entry. */
export const MAX_REPORTED_BREAKS = 100;

export async function verifyChain(
  entries: readonly unknown[],
  opts: VerifyChainOptions = {},
): Promise<ChainReport> {
  const breaks: ChainBreak[] = [];
  let omitted = 0;
  const report = (b: ChainBreak) => {
    if (breaks.length < MAX_REPORTED_BREAKS) breaks.push(b);
    else omitted++;
  };
  let prev: { e: AuditEntry; hash: string } | undefined;
  let lastHash: string | undefined;
  for (const [index, raw] of entries.entries()) {
    const parsed = AuditEntry.safeParse(raw);
    if (!parsed.success) {
      const seq = (raw as { seq?: unknown } | null)?.seq;
      report({
        index,
        seq: typeof seq === "number" ? seq : undefined,
        code: "malformed",
        detail: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      });
      prev = undefined;
      lastHash = undefined;
      continue;
    }
    const e = parsed.data;
    if (index === 0) {
      if (opts.fromSeq !== undefined && e.seq !== opts.fromSeq) {
        report({
          index,
          seq: e.seq,
          code: "start",
          detail: `first seq ${e.seq}, expected ${opts.fromSeq}`,
        });
      }
      const want = opts.firstPrevHash ?? (e.seq === 1 ? GENESIS_HASH : undefined);
      if (want !== undefined && e.prevHash !== want) {
        report({
          index,
          seq: e.seq,
          code: "start",
          detail: "first entry does not continue the expected hash",
        });
      }
    } else if (prev) {
      if (e.provider !== prev.e.provider) {
        report({
          index,
          seq: e.seq,
          code: "provider",
          detail: `${e.provider} entry in ${prev.e.provider}'s log`,
        });
      }
      if (e.seq !== prev.e.seq + 1) {
        const what = e.seq > prev.e.seq + 1 ? "gap (entries removed?)" : "out of order";
        report({
          index,
          seq: e.seq,
          code: "seq",
          detail: `seq ${e.seq} after ${prev.e.seq}: ${what}`,
        });
      }
      if (e.prevHash !== prev.hash) {
        report({
          index,
          seq: e.seq,
          code: "prev-hash",
          detail: `entry does not link to the entry before it (index ${index - 1} edited, or entries removed or moved)`,
        });
      }
    }
    const hash = await hashEntry(e);
    prev = { e, hash };
    lastHash = hash;
  }
  const out: ChainReport = { ok: breaks.length === 0, count: entries.length, breaks, omitted };
  if (breaks[0]) out.firstBreak = breaks[0];
  if (lastHash !== undefined) out.lastHash = lastHash;
  return out;
}
