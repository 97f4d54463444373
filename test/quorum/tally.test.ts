import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BallotAllocator } from "../../shared/quorum/allocator.ts";
import { BALLOT_JUMP_MAX, counterOf, encodeBallot } from "../../shared/quorum/ballot.ts";
import { PromiseCache } from "../../shared/quorum/cache.ts";
import { tally, tallyBatch } from "../../shared/quorum/tally.ts";

describe("tally", () => {
  it("wins at two yes and loses at two no of three", () => {
    expect(tally(0, 0)).toBe("pending");
    expect(tally(1, 1)).toBe("pending");
    expect(tally(2, 0)).toBe("won");
    expect(tally(2, 1)).toBe("won");
    expect(tally(0, 2)).toBe("lost");
    expect(tally(1, 2)).toBe("lost");
  });

  it("never both wins and loses, and a settled verdict never changes with more votes", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 3 }), (votes) => {
        let prev = "pending";
        let yes = 0;
        let no = 0;
        for (const v of votes) {
          if (v) yes++;
          else no++;
          const t = tally(yes, no);
          if (prev !== "pending") expect(t).toBe(prev);
          prev = t;
        }
        if (votes.length === 3) expect(prev).not.toBe("pending");
      }),
    );
  });

  it("a batch is won only when every key is, lost as soon as one is", () => {
    expect(tallyBatch(["won", "won"])).toBe("won");
    expect(tallyBatch(["won", "pending"])).toBe("pending");
    expect(tallyBatch(["pending", "lost"])).toBe("lost");
  });
});

describe("BallotAllocator", () => {
  it("hands out strictly increasing ballots and honours a floor", () => {
    const a = new BallotAllocator("p1");
    const b1 = a.allocate()!;
    const b2 = a.allocate(50)!;
    const b3 = a.allocate(10)!;
    expect(b1 < b2 && b2 < b3).toBe(true);
    expect(counterOf(b2)).toBe(50);
    expect(counterOf(b3)).toBe(51);
  });

  it("caps a jump requested by a refusal", () => {
    const a = new BallotAllocator("p1");
    a.allocate(10);
    expect(counterOf(a.allocate(10 ** 14)!)).toBe(10 + BALLOT_JUMP_MAX);
  });

  it("computes the floor above a conflict and tolerates garbage", () => {
    expect(BallotAllocator.floorAbove(encodeBallot({ counter: 41, proposer: "x" }))).toBe(42);
    expect(BallotAllocator.floorAbove("nonsense")).toBe(0);
    expect(BallotAllocator.floorAbove("")).toBe(1);
  });

  it("rejects a bad proposer id up front", () => {
    expect(() => new BallotAllocator("has space")).toThrow(RangeError);
  });
});

describe("PromiseCache", () => {
  it("is bounded, least recently set first out, and take removes", () => {
    const c = new PromiseCache(2);
    const e = { ballot: "b", accepted: "a", value: null, storedAt: 0 };
    c.set("x", e);
    c.set("y", e);
    c.set("z", e);
    expect(c.has("x")).toBe(false);
    expect(c.size).toBe(2);
    expect(c.take("y")).toEqual(e);
    expect(c.has("y")).toBe(false);
  });

  it("forgets a deleted key", () => {
    const c = new PromiseCache(2);
    c.set("x", { ballot: "b", accepted: "a", value: null, storedAt: 0 });
    c.delete("x");
    expect(c.has("x")).toBe(false);
    expect(c.size).toBe(0);
  });
});
