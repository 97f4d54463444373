import { describe, expect, it } from "vitest";
import { BallotAllocator } from "../../shared/quorum/allocator.ts";
import { BALLOT_JUMP_MAX, COUNTER_MAX, counterOf } from "../../shared/quorum/ballot.ts";

const NOW = Date.UTC(2026, 10, 25);

describe("BallotAllocator", () => {
  it("starts a fresh instance at the wall clock, not one jump above zero", () => {
    const a = new BallotAllocator("p1");
    expect(counterOf(a.allocate(0, NOW)!)).toBe(NOW);
  });

  it("adopts a refusal's ballot within one jump of its clock, and clamps a bigger one", () => {
    const a = new BallotAllocator("p1");
    expect(counterOf(a.allocate(NOW + 500, NOW)!)).toBe(NOW + 500);
    const b = new BallotAllocator("p2");
    expect(counterOf(b.allocate(NOW * 100, NOW)!)).toBe(NOW + BALLOT_JUMP_MAX);
  });

  it("an old instance catches up with a newer one in one step", () => {
    const old = new BallotAllocator("old");
    old.allocate(0, NOW);
    // A newer instance started an hour later; its ballots track its clock.
    const later = NOW + 3_600_000;
    expect(counterOf(old.allocate(later + 1, later)!)).toBe(later + 1);
  });

  it("never hands out the same counter twice, even if the clock goes back", () => {
    const a = new BallotAllocator("p1");
    const c1 = counterOf(a.allocate(0, NOW)!);
    const c2 = counterOf(a.allocate(0, NOW - 10_000)!);
    expect(c2).toBe(c1 + 1);
  });

  it("hands out COUNTER_MAX itself, then refuses rather than lose precision", () => {
    const a = new BallotAllocator("p1");
    expect(counterOf(a.allocate(0, COUNTER_MAX)!)).toBe(COUNTER_MAX);
    expect(a.allocate(0, COUNTER_MAX)).toBeNull();
    expect(a.current).toBe(COUNTER_MAX);
    expect(new BallotAllocator("p2").allocate(0, Number.POSITIVE_INFINITY)).toBeNull();
  });
});
