import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendToPage,
  attachSignatures,
  REVOCATION_PAGE_SIZE,
  type RevocationPage,
  type RevocationWant,
} from "../../shared/tickets/revocation-log.ts";

const want = (tid: string): RevocationWant => ({ tid, ord: `o-${tid}`, rsn: "refunded", rat: 1 });

/** Appends as the service does: page by page from `start`, one page per change. */
function appendAll(pages: (RevocationPage | null)[], start: number, ws: RevocationWant[]) {
  let rest = ws;
  for (let p = start; rest.length > 0; p++) {
    const r = appendToPage(p, rest)([pages[p] ?? null]);
    const page = "abort" in r ? (pages[p] ?? null) : r[0];
    if (!("abort" in r)) pages[p] = r[0];
    rest = rest.filter((w) => !page?.entries.some((e) => e.tid === w.tid));
  }
}

describe("revocation pages", () => {
  it("number every revocation once, in place, with no gaps, whatever the orders and re-runs", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 20 }), {
          maxLength: 12,
        }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (orders, reruns) => {
          const pages: (RevocationPage | null)[] = [];
          const all = orders.map((o) => [...new Set(o)].map((n) => want(`t${n}`)));
          for (const ws of all) appendAll(pages, 0, ws);
          // Retries of earlier appends add nothing.
          for (const r of reruns) appendAll(pages, 0, all[r % Math.max(1, all.length)] ?? []);
          const entries = pages.flatMap((p) => p?.entries ?? []);
          const tids = new Set(all.flat().map((w) => w.tid));
          expect(entries.map((e) => e.tid).sort()).toEqual([...tids].sort());
          expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
          for (const p of pages)
            expect(p?.entries.length ?? 0).toBeLessThanOrEqual(REVOCATION_PAGE_SIZE);
        },
      ),
    );
  });

  it("a full page aborts and writes nothing", () => {
    const full: RevocationPage = {
      entries: Array.from({ length: REVOCATION_PAGE_SIZE }, (_, i) => ({
        ...want(`t${i}`),
        seq: i + 1,
        signatures: [],
      })),
    };
    expect(appendToPage(0, [want("new")])([full])).toEqual({ abort: "full" });
    // What it already lists needs no room.
    expect(appendToPage(0, [want("t3")])([full])).toEqual([full]);
  });

  it("keeps the larger set of signatures, and only on the entry named", () => {
    const page: RevocationPage = {
      entries: [
        { ...want("a"), seq: 1, signatures: [] },
        { ...want("b"), seq: 2, signatures: [] },
      ],
    };
    const sig = { protected: "p", signature: "s".repeat(86) };
    const [once] = attachSignatures(1, "a", [sig, sig])([page]);
    expect(once?.entries.map((e) => e.signatures.length)).toEqual([2, 0]);
    const [again] = attachSignatures(1, "a", [sig])([once ?? null]);
    expect(again?.entries[0]?.signatures).toHaveLength(2);
    // A number with another ticket id is not this entry.
    const [other] = attachSignatures(2, "a", [sig, sig])([page]);
    expect(other?.entries[1]?.signatures).toHaveLength(0);
  });
});
