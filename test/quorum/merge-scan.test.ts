import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { mergeScans } from "../../shared/quorum/merge-scan.ts";
import type { AcceptorRecord } from "../../shared/quorum/messages.ts";

const b = (counter: number) => (counter === 0 ? "" : encodeBallot({ counter, proposer: "p" }));
const rec = (key: string, counter: number, value: string | null): AcceptorRecord => ({
  key,
  promised: b(counter),
  accepted: b(counter),
  value,
});

describe("mergeScans", () => {
  it("unions the keys and keeps the later write of each", () => {
    const merged = mergeScans([
      { records: [rec("a", 1, '"a1"'), rec("c", 3, '"c3"')] },
      { records: [rec("b", 2, '"b2"'), rec("c", 5, null)] },
    ]);
    expect(merged).toEqual({
      records: [rec("a", 1, '"a1"'), rec("b", 2, '"b2"'), rec("c", 5, null)],
    });
  });

  it("stops where the shorter of two stopped pages stopped", () => {
    const merged = mergeScans([
      { records: [rec("a", 1, "1"), rec("b", 1, "1")], cursor: "b" },
      { records: [rec("a", 1, "1"), rec("c", 1, "1"), rec("d", 1, "1")], cursor: "d" },
    ]);
    expect(merged).toEqual({ records: [rec("a", 1, "1"), rec("b", 1, "1")], cursor: "b" });
  });

  it("takes a stopped page's last key, not its cursor, and its cursor when it has no records", () => {
    const full = { records: [rec("a", 1, "1"), rec("b", 1, "1"), rec("z", 1, "1")] };
    const stopped = {
      records: [rec("a", 1, "1"), rec("b", 1, "1"), rec("c", 1, "1")],
      cursor: "tok",
    };
    expect(mergeScans([full, stopped])).toEqual({
      records: [rec("a", 1, "1"), rec("b", 1, "1"), rec("c", 1, "1")],
      cursor: "c",
    });
    expect(mergeScans([full, { records: [], cursor: "b" }])).toEqual({
      records: [rec("a", 1, "1"), rec("b", 1, "1")],
      cursor: "b",
    });
  });

  it("stops at the smaller of two stopped pages whichever comes first, and sorts the union", () => {
    const merged = mergeScans([
      { records: [rec("c", 1, "1"), rec("d", 1, "1"), rec("e", 1, "1")], cursor: "e" },
      { records: [rec("a", 1, "1"), rec("b", 1, "1"), rec("d", 1, "1")], cursor: "d" },
    ]);
    expect(merged).toEqual({
      records: [rec("a", 1, "1"), rec("b", 1, "1"), rec("c", 1, "1"), rec("d", 1, "1")],
      cursor: "d",
    });
  });

  it("gives no cursor at all when every page reached the end", () => {
    const merged = mergeScans([{ records: [rec("b", 1, "1")] }, { records: [rec("a", 1, "1")] }]);
    expect(merged).toStrictEqual({ records: [rec("a", 1, "1"), rec("b", 1, "1")] });
  });

  it("property: any two of three stores give every write a majority accepted", () => {
    // Each key's history is a sequence of writes; write i reached a random set of stores, and the
    // last write that reached at least two stores is the committed one.
    const keys = ["k0", "k1", "k2", "k3"];
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.subarray([0, 1, 2]), { maxLength: 4 }), {
          minLength: keys.length,
          maxLength: keys.length,
        }),
        fc.subarray([0, 1, 2], { minLength: 2, maxLength: 2 }),
        (histories, pair) => {
          const stores: AcceptorRecord[][] = [[], [], []];
          const committed = new Map<string, string>();
          histories.forEach((writes, k) => {
            const key = keys[k]!;
            writes.forEach((reached, w) => {
              for (const s of reached) {
                const list = stores[s]!;
                const i = list.findIndex((r) => r.key === key);
                const r = rec(key, w + 1, `"${key}.${w}"`);
                if (i >= 0) list[i] = r;
                else list.push(r);
              }
              if (reached.length >= 2) committed.set(key, `"${key}.${w}"`);
            });
          });
          const merged = mergeScans(pair.map((s) => ({ records: stores[s]! })));
          for (const [key, value] of committed) {
            const got = merged.records.find((r) => r.key === key);
            // The committed write, or a later one still in flight.
            expect(got).toBeDefined();
            expect(Number(got!.value!.slice(1, -1).split(".")[1])).toBeGreaterThanOrEqual(
              Number(value.slice(1, -1).split(".")[1]),
            );
          }
        },
      ),
    );
  });
});
