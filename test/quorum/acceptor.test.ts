import { describe, expect, it } from "vitest";
import { applyAccept, applyPrepare } from "../../shared/quorum/acceptor.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import type { AcceptorRecord } from "../../shared/quorum/messages.ts";

const b = (counter: number) => encodeBallot({ counter, proposer: "p" });
const rec = (promised: string, accepted: string, value: string | null): AcceptorRecord => ({
  key: "k",
  promised,
  accepted,
  value,
});

describe("acceptor rules", () => {
  it("prepare: refuses a ballot equal to the promise or not above the accepted one", () => {
    expect(applyPrepare(rec(b(5), b(3), "v"), b(5)).reply).toEqual({
      ok: false,
      key: "k",
      conflict: b(5),
    });
    // A record whose accepted ballot passed its promise (as a store may hold one).
    expect(applyPrepare(rec(b(2), b(4), "v"), b(4)).reply.ok).toBe(false);
    expect(applyPrepare(rec(b(2), b(4), "v"), b(3)).reply.ok).toBe(false);
    const up = applyPrepare(rec(b(2), b(4), "v"), b(5));
    expect(up.reply).toEqual({ ok: true, key: "k", accepted: b(4), value: "v" });
    expect(up.next.promised).toBe(b(5));
  });

  it("accept: refuses a different value at the accepted ballot, acknowledges the same one", () => {
    expect(applyAccept(rec(b(4), b(4), "v"), { key: "k", ballot: b(4), value: "w" }).reply).toEqual(
      { ok: false, key: "k", conflict: b(4) },
    );
    const same = applyAccept(rec(b(9), b(4), "v"), { key: "k", ballot: b(4), value: "v" });
    expect(same.reply.ok).toBe(true);
    expect(same.next.promised).toBe(b(9));
  });

  it("accept: the empty ballot is never a stored accept", () => {
    expect(applyAccept(rec("", "", null), { key: "k", ballot: "", value: null }).reply.ok).toBe(
      false,
    );
  });

  it("accept: promises the accepted ballot itself when no next ballot comes with it", () => {
    const r = applyAccept(rec(b(3), b(2), "v"), { key: "k", ballot: b(3), value: "w" });
    expect(r.next).toEqual({ key: "k", promised: b(3), accepted: b(3), value: "w" });
    const n = applyAccept(rec(b(3), b(2), "v"), { key: "k", ballot: b(3), value: "w", next: b(7) });
    expect(n.next.promised).toBe(b(7));
  });
});
