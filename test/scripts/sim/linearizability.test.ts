import { describe, expect, it } from "vitest";
import {
  checkHistory,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  registerModel,
} from "../../../scripts/sim/linearizability.ts";

type Op = Operation<RegisterInput, RegisterOutput>;
let id = 0;
const w = (key: string, value: string, call: number, ret: number): Op => ({
  id: id++,
  key,
  input: { f: "write", value },
  call,
  ret,
  output: { f: "write" },
});
const r = (key: string, value: string | null, call: number, ret: number): Op => ({
  id: id++,
  key,
  input: { f: "read" },
  call,
  ret,
  output: { f: "read", value },
});
const cas = (
  key: string,
  from: string | null,
  to: string,
  ok: boolean,
  call: number,
  ret: number,
): Op => ({
  id: id++,
  key,
  input: { f: "cas", from, to },
  call,
  ret,
  output: { f: "cas", ok },
});
const unknownWrite = (key: string, value: string, call: number): Op => ({
  id: id++,
  key,
  input: { f: "write", value },
  call,
  ret: Number.POSITIVE_INFINITY,
});
const check = (ops: Op[]) => checkHistory(registerModel, ops);

describe("linearizability checker", () => {
  it("accepts a sequential history", () => {
    expect(
      check([
        w("k", "a", 0, 1),
        r("k", "a", 2, 3),
        cas("k", "a", "b", true, 4, 5),
        r("k", "b", 6, 7),
      ]).ok,
    ).toBe(true);
  });

  it("accepts concurrent operations in either order", () => {
    // The read overlaps the write: it may see the old or the new value.
    expect(check([w("k", "a", 0, 10), r("k", null, 1, 2)]).ok).toBe(true);
    expect(check([w("k", "a", 0, 10), r("k", "a", 1, 2)]).ok).toBe(true);
  });

  it("rejects a stale read after a completed write", () => {
    const res = check([w("k", "a", 0, 1), r("k", null, 2, 3)]);
    expect(res.ok).toBe(false);
    expect(res.key).toBe("k");
  });

  it("rejects two successful compare-and-sets from the same value (a lost update)", () => {
    expect(
      check([w("k", "a", 0, 1), cas("k", "a", "b", true, 2, 5), cas("k", "a", "c", true, 3, 6)]).ok,
    ).toBe(false);
  });

  it("rejects a read that goes back in time", () => {
    expect(
      check([w("k", "a", 0, 1), w("k", "b", 2, 10), r("k", "b", 3, 4), r("k", "a", 5, 6)]).ok,
    ).toBe(false);
  });

  it("lets an unknown write take effect late or never", () => {
    expect(check([unknownWrite("k", "a", 0), r("k", null, 1, 2), r("k", "a", 3, 4)]).ok).toBe(true);
    expect(check([unknownWrite("k", "a", 0), r("k", null, 1, 2)]).ok).toBe(true);
    // ...but not before it was called.
    expect(check([r("k", "a", 0, 1), unknownWrite("k", "a", 2)]).ok).toBe(false);
  });

  it("checks keys independently", () => {
    expect(check([w("x", "1", 0, 1), r("y", null, 2, 3), r("x", "1", 4, 5)]).ok).toBe(true);
    expect(check([w("x", "1", 0, 1), r("y", "1", 2, 3)]).key).toBe("y");
  });

  it("a failed cas must have seen another value", () => {
    expect(check([w("k", "a", 0, 1), cas("k", "a", "b", false, 2, 3)]).ok).toBe(false);
    expect(check([w("k", "z", 0, 1), cas("k", "a", "b", false, 2, 3)]).ok).toBe(true);
  });

  it("fails a search cut off at its step limit instead of passing it", () => {
    const ops: Op[] = [];
    for (let i = 0; i < 8; i++) ops.push(w("k", `v${i}`, i, 100 + i));
    ops.push(r("k", "v7", 200, 201));
    expect(checkHistory(registerModel, ops).ok).toBe(true);
    const cut = checkHistory(registerModel, ops, 3);
    expect(cut).toMatchObject({ ok: false, inconclusive: true, key: "k" });
  });

  it("stays small with many unknown writes nobody observed, and still finds a violation", () => {
    // 20 unknown writes can go in 2^20 subsets; none is observed, so they are interchangeable.
    const base = (): Op[] => {
      const ops: Op[] = [w("k", "a", 0, 1)];
      for (let i = 0; i < 20; i++) ops.push(unknownWrite("k", `u${i}`, 2 + i));
      return ops;
    };
    const fine = check([
      ...base(),
      cas("k", "a", "b", false, 30, 31),
      r("k", "b", 32, 33),
      r("k", "b", 34, 35),
    ]);
    expect(fine.ok).toBe(false); // b was never written
    const failedCas = check([
      ...base(),
      cas("k", "a", "b", false, 30, 31),
      w("k", "c", 32, 33),
      r("k", "c", 34, 35),
    ]);
    expect(failedCas).toMatchObject({ ok: true }); // an unknown write made the cas fail
    expect(failedCas.steps).toBeLessThan(200);
    const lost = check([
      ...base(),
      cas("k", "a", "b", true, 30, 31),
      cas("k", "a", "c", true, 32, 33),
    ]);
    expect(lost).toMatchObject({ ok: false, key: "k" });
    expect(lost.inconclusive).toBeUndefined();
    expect(lost.steps).toBeLessThan(1_000);
  });

  it("prunes a node only by one reached with fewer unknown writes done, never more", () => {
    // Reads b, a, b need b written twice around a. With one unknown write of b, the node after
    // "b, a" (b's write used) must not be taken for the one before it (b's write unused): wrongly
    // subsumed either way, the search would pass the first history or fail the second.
    const reads = (): Op[] => [r("k", "b", 10, 11), r("k", "a", 12, 13), r("k", "b", 14, 15)];
    const once = [unknownWrite("k", "b", 0), unknownWrite("k", "a", 1)];
    expect(check([...once, ...reads()]).ok).toBe(false);
    const twice = [...once, unknownWrite("k", "b", 2)];
    expect(check([...twice, ...reads()]).ok).toBe(true);
  });

  it("handles a long concurrent history quickly (memoisation)", () => {
    const ops: Op[] = [];
    for (let i = 0; i < 60; i++) ops.push(w("k", `v${i}`, i, 100 + i));
    ops.push(r("k", "v59", 200, 201));
    expect(check(ops).ok).toBe(true);
  });
});
