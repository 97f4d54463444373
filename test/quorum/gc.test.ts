import { describe, expect, it } from "vitest";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import {
  collectGarbage,
  GC_RETENTION_MS,
  minimumRetention,
  PRODUCTION_LIFETIMES,
  planGc,
} from "../../shared/quorum/gc.ts";
import type { AcceptorRecord } from "../../shared/quorum/messages.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";

const b = (counter: number, p = "p1") => encodeBallot({ counter, proposer: p });
const rec = (
  key: string,
  accepted: string,
  value: string | null,
  promised = accepted,
): AcceptorRecord => ({ key, accepted, value, promised });

function client(accs: MemoryAcceptor[], now: { ms: number }) {
  return new QuorumClient({
    acceptors: accs,
    proposerId: "gc",
    now: () => now.ms,
    random: () => 0.5,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
    timeoutMs: 50,
  });
}

describe("planGc", () => {
  it("deletes a tombstone all three hold at one ballot once its newest ballot is old enough", () => {
    const scans = [0, 1, 2].map(() => [rec("k", b(100), null, b(102))]);
    const young = planGc(scans, { now: 150, retentionMs: 50 });
    expect(young.waiting).toEqual(["k"]);
    expect(young.deletes.flat()).toEqual([]);
    const old = planGc(scans, { now: 153, retentionMs: 50 });
    expect(old.deletes).toEqual(
      [0, 1, 2].map(() => [{ key: "k", accepted: b(100), promised: b(102) }]),
    );
  });

  it("measures age from the newest promise on any acceptor, not only the tombstone's ballot", () => {
    const scans = [
      [rec("k", b(100), null)],
      [rec("k", b(100), null, b(140))],
      [rec("k", b(100), null)],
    ];
    expect(planGc(scans, { now: 180, retentionMs: 50 }).waiting).toEqual(["k"]);
    expect(planGc(scans, { now: 191, retentionMs: 50 }).deletes[1]).toEqual([
      { key: "k", accepted: b(100), promised: b(140) },
    ]);
  });

  it("rewrites a tombstone not yet on all three, and never deletes on two (gc-2of3 is a break)", () => {
    const scans = [[rec("k", b(100), null)], [rec("k", b(100), null)], [rec("k", b(90), '"v"')]];
    const plan = planGc(scans, { now: 10_000, retentionMs: 50 });
    expect(plan.rewrite).toEqual(["k"]);
    expect(plan.deletes.flat()).toEqual([]);
    const broken = planGc(scans, { now: 10_000, retentionMs: 50, deleteOnTwo: true });
    expect(broken.deletes.map((d) => d.length)).toEqual([1, 1, 0]);
  });

  it("leaves live values alone, and rewrites keys that hold only promises", () => {
    const scans = [
      [rec("live", b(100), '"v"'), rec("promised", "", null, b(5))],
      [rec("live", b(100), '"v"')],
      [rec("live", b(100), '"v"')],
    ];
    const plan = planGc(scans, { now: 10_000, retentionMs: 50 });
    expect(plan.deletes.flat()).toEqual([]);
    expect(plan.rewrite).toEqual(["promised"]);
  });

  it("the production retention covers the lifetimes it relies on", () => {
    expect(minimumRetention(PRODUCTION_LIFETIMES)).toBeLessThan(GC_RETENTION_MS);
  });
});

describe("collectGarbage", () => {
  it("deletes old tombstones on all three, rewrites lagging ones first, keeps live values", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const now = { ms: 1_000 };
    const c = client(accs, now);
    await c.change(["gc/live", "gc/dead"], () => ({ values: ["v", "w"] }));
    await c.change(["gc/dead"], () => ({ values: [null] }));
    // A tombstone that reached one store only (its coordinator died after one accept).
    await accs[1]!.accept([{ key: "gc/lag", ballot: b(1_100, "x"), value: null }]);
    await accs[0]!.accept([{ key: "gc/lag", ballot: b(1_050, "x"), value: '"old"' }]);

    const early = await collectGarbage(c, accs, "gc/", { now: now.ms, retentionMs: 500 });
    expect(early).toMatchObject({ deleted: 0, waiting: 1, rewritten: 1, unreachable: [] });
    now.ms = 2_000;
    const later = await collectGarbage(c, accs, "gc/", { now: now.ms, retentionMs: 500 });
    // gc/dead is old enough; gc/lag was rewritten at 1,000 (its new ballot) and is too.
    expect(later).toMatchObject({ deleted: 2, kept: 0 });
    for (const a of accs) expect([...a.records.keys()]).toEqual(["gc/live"]);
    expect(await c.get(["gc/dead", "gc/lag", "gc/live"])).toEqual({
      status: "ok",
      values: [null, null, "v"],
    });
  });

  it("deletes nothing while an acceptor cannot be scanned", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const now = { ms: 1_000 };
    const c = client(accs, now);
    await c.change(["gc/dead"], () => ({ values: [null] }));
    accs[2]!.scan = () => Promise.reject(new Error("down"));
    const r = await collectGarbage(c, accs, "gc/", { now: 10_000, retentionMs: 500 });
    expect(r).toMatchObject({ deleted: 0, unreachable: [2] });
    expect(accs[0]!.records.has("gc/dead")).toBe(true);
  });
});
