import { describe, expect, it } from "vitest";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { ChosenMemo } from "../../shared/quorum/chosen.ts";
import { ACCEPTOR_TIMEOUT_MS, QuorumClient } from "../../shared/quorum/client.ts";
import { collectGarbage, minimumRetention, planGc } from "../../shared/quorum/gc.ts";
import {
  effectiveMembership,
  MEMBER,
  MembershipAcceptor,
  MembershipControl,
  parseMembership,
} from "../../shared/quorum/membership.ts";
import type { AcceptorRecord } from "../../shared/quorum/messages.ts";
import { caughtUp, REJOIN_DELAY_MS, rejoinSlice, rejoinStep } from "../../shared/quorum/rejoin.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import { type AcceptorPort, BATCH_KEYS_MAX } from "../../shared/storage/ports.ts";

/**
 * Edges of the memo of chosen ballots, the garbage collector, the membership record and the
 * rejoin walk that the simulator reaches too rarely for mutation testing to see them
 * (docs/quorum.md, "Mutation testing").
 */

const b = (counter: number, p = "p1") => encodeBallot({ counter, proposer: p });
const rec = (key: string, accepted: string, value: string | null, promised = accepted) =>
  ({ key, accepted, value, promised }) as AcceptorRecord;

function client(acceptors: AcceptorPort[], now = () => 1_000) {
  let seed = 7;
  return new QuorumClient({
    acceptors,
    proposerId: "edge",
    now,
    random: () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    },
    sleep: async () => {},
    timeoutMs: 50,
  });
}

/** A store that answers reads and scans but whose prepares and accepts fail. */
function mute(inner: MemoryAcceptor): AcceptorPort {
  return {
    prepare: () => Promise.reject(new Error("down")),
    accept: () => Promise.reject(new Error("down")),
    deleteIf: (e) => inner.deleteIf(e),
    read: (k) => inner.read(k),
    scan: (p, o) => inner.scan(p, o),
    ping: () => inner.ping(),
  };
}

describe("ChosenMemo", () => {
  it("keeps the newest chosen ballot per key, never stepping back", () => {
    const m = new ChosenMemo();
    m.note("k", b(2));
    expect(m.knows("k", b(2))).toBe(true);
    m.note("k", b(1));
    expect(m.knows("k", b(2))).toBe(true);
    expect(m.knows("k", b(1))).toBe(false);
    m.note("k", b(3));
    expect(m.knows("k", b(3))).toBe(true);
    expect(m.knows("k", b(2))).toBe(false);
  });

  it("holds at most max keys, forgetting the least recently noted (a repeat note refreshes)", () => {
    const m = new ChosenMemo(2);
    m.note("a", b(1));
    m.note("b", b(1));
    expect(m.knows("a", b(1)) && m.knows("b", b(1))).toBe(true);
    m.note("a", b(1));
    m.note("c", b(1));
    expect(m.knows("a", b(1))).toBe(true);
    expect(m.knows("b", b(1))).toBe(false);
    expect(m.knows("c", b(1))).toBe(true);
  });
});

describe("garbage collection edges", () => {
  it("minimumRetention adds up every lifetime it relies on", () => {
    expect(
      minimumRetention({
        changeLifetimeMs: 3,
        warmTtlMs: 10,
        messageAgeMaxMs: 100,
        clockSkewMaxMs: 1_000,
      }),
    ).toBe(2_116);
  });

  it("plans keys in order, only up to a truncated scan's end, and waits at exactly the retention", () => {
    const dead = (k: string) => rec(k, b(100), null);
    const scans = [[dead("b"), dead("c")], [dead("a"), dead("b"), dead("c")], [dead("c")]];
    expect(planGc(scans, { now: 1e9, retentionMs: 50 }).rewrite).toEqual(["a", "b"]);
    expect(planGc(scans, { now: 1e9, retentionMs: 50, upTo: "b" }).scanned).toBe(2);
    const all = [0, 1, 2].map(() => [dead("k")]);
    expect(planGc(all, { now: 150, retentionMs: 50 }).waiting).toEqual(["k"]);
    expect(planGc(all, { now: 151, retentionMs: 50 }).waiting).toEqual([]);
  });

  it("an older tombstone on the third store does not count toward all three", () => {
    const scans = [[rec("k", b(100), null)], [rec("k", b(100), null)], [rec("k", b(90), null)]];
    const plan = planGc(scans, { now: 1e9, retentionMs: 50 });
    expect(plan.rewrite).toEqual(["k"]);
    expect(plan.deletes.flat()).toEqual([]);
    expect(
      planGc(scans, { now: 1e9, retentionMs: 50, deleteOnTwo: true }).deletes.flat(),
    ).toHaveLength(2);
  });

  it("counts deletions a store refused as kept, and batches past BATCH_KEYS_MAX keys", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const c = client(accs, () => 1_000);
    const n = BATCH_KEYS_MAX + 5;
    const keys = Array.from({ length: n }, (_, i) => `gc/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < n; i += 50) {
      const batch = keys.slice(i, i + 50);
      expect((await c.change(batch, () => ({ values: batch.map(() => null) }))).status).toBe("ok");
    }
    const refuse = accs[2]!;
    const real = refuse.deleteIf.bind(refuse);
    refuse.deleteIf = async (e) =>
      (await real(e)).map((r) => (r.key === keys[0] ? { ok: false, key: r.key } : r));
    const r = await collectGarbage(c, accs, "gc/", { now: 1e12, retentionMs: 50 });
    expect(r).toMatchObject({ scanned: n, deleted: n - 1, kept: 1, rewritten: 0, failed: 0 });
    expect(r.next).toBeUndefined();
  });

  it("rewrites past BATCH_KEYS_MAX keys, and a rewrite that fails is counted failed", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const n = BATCH_KEYS_MAX + 3;
    for (let i = 0; i < n; i++)
      await accs[0]!.accept([
        { key: `gc/${String(i).padStart(4, "0")}`, ballot: b(5), value: null },
      ]);
    const ok = await collectGarbage(client(accs), accs, "gc/", { now: 1e12, retentionMs: 50 });
    expect(ok).toMatchObject({ scanned: n, rewritten: n, failed: 0 });
    const accs2 = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await accs2[0]!.accept([{ key: "gc/x", ballot: b(5), value: null }]);
    const ports = [accs2[0]!, mute(accs2[1]!), mute(accs2[2]!)];
    const bad = await collectGarbage(client(ports), ports, "gc/", { now: 1e12, retentionMs: 50 });
    expect(bad).toMatchObject({ scanned: 1, rewritten: 0, failed: 1 });
  });

  it("a truncated pass plans only up to its end and says where to resume", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await accs[0]!.accept([{ key: "gc/a", ballot: b(5), value: null }]);
    await accs[0]!.accept([{ key: "gc/c", ballot: b(5), value: null }]);
    await accs[2]!.accept([{ key: "gc/b", ballot: b(5), value: null }]);
    await accs[2]!.accept([{ key: "gc/c", ballot: b(5), value: null }]);
    const r = await collectGarbage(client(accs), accs, "gc/", { now: 1e12, limit: 1 });
    expect(r).toMatchObject({ scanned: 1, rewritten: 1, next: "gc/a" });
  });

  it("deletes nothing while a store is rejoining, and says so", async () => {
    const raw = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const c0 = client(raw);
    await c0.change(["gc/d"], () => ({ values: [null] }));
    await new MembershipControl(raw[1]!).markRestored(0);
    const ports = [raw[0]!, new MembershipAcceptor(raw[1]!, () => 0), raw[2]!];
    const r = await collectGarbage(client(ports), ports, "gc/", { now: 1e12, retentionMs: 50 });
    expect(r.rejoining).toBe(true);
    expect(r).toMatchObject({ scanned: 0, deleted: 0 });
    expect(raw[0]!.records.has("gc/d")).toBe(true);
  });

  it("with a store unreachable, plans nothing at all", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await accs[0]!.accept([{ key: "gc/a", ballot: b(5), value: null }]);
    accs[1]!.scan = () => Promise.reject(new Error("down"));
    const r = await collectGarbage(client(accs), accs, "gc/", { now: 1e12 });
    expect(r).toMatchObject({ scanned: 0, rewritten: 0, unreachable: [1] });
  });
});

describe("membership edges", () => {
  it("parses only a known state with an integer epoch, and carries no absent fields", () => {
    const r = (value: string) => rec("sys/member", b(4, "membership"), value);
    expect(parseMembership(r('{"state":"member"}'))).toEqual({ state: "rejoining", epoch: 4 });
    expect(parseMembership(r('{"state":"gone","epoch":1}'))).toEqual({
      state: "rejoining",
      epoch: 4,
    });
    expect(parseMembership(r('{"state":"member","epoch":2}'))).toStrictEqual({
      state: "member",
      epoch: 2,
    });
    expect(
      parseMembership(r('{"state":"member","epoch":2,"markedAtMs":5,"restore":"x"}')),
    ).toStrictEqual({ state: "member", epoch: 2, markedAtMs: 5, restore: "x" });
    expect(effectiveMembership(MEMBER)).toBe(MEMBER);
    expect(effectiveMembership({ ...MEMBER, restore: "x" }, "x")).toMatchObject({
      state: "member",
    });
    expect(effectiveMembership(MEMBER, "x")).toEqual({ state: "rejoining", epoch: 0 });
  });

  it("a mark without a restore name stores none; markMember needs the epoch being swept", async () => {
    const store = new MemoryAcceptor();
    const ctl = new MembershipControl(store);
    expect(await ctl.markRestored(7)).toStrictEqual({
      state: "rejoining",
      epoch: 1,
      markedAtMs: 7,
    });
    expect(await ctl.markMember(2)).toBe(false);
    expect(await ctl.read()).toMatchObject({ state: "rejoining", epoch: 1 });
    expect(await ctl.markMember(1)).toBe(true);
    expect(await ctl.markMember(1)).toBe(true); // already member for that epoch
    expect(await ctl.markMember(0)).toBe(false);
  });

  it("gives up after five refused writes", async () => {
    const store = new MemoryAcceptor();
    let accepts = 0;
    store.accept = async (e) => {
      accepts++;
      return e.map((x) => ({ ok: false as const, key: x.key, conflict: b(99, "zz") }));
    };
    await expect(new MembershipControl(store).markRestored(0)).rejects.toThrow(
      "membership record: too many concurrent updates",
    );
    expect(accepts).toBe(5);
  });

  it("the decorator reads the record at most once per cache period, and again after a clock step back", async () => {
    const inner = new MemoryAcceptor();
    let reads = 0;
    const read = inner.read.bind(inner);
    inner.read = (k) => {
      reads++;
      return read(k);
    };
    let t = 1_000;
    const d = new MembershipAcceptor(inner, () => t, { cacheMs: 100, restore: "r1" });
    expect(d.restore).toBe("r1");
    await d.membership();
    t = 1_099;
    await d.membership();
    expect(reads).toBe(1);
    t = 1_100;
    await d.membership();
    expect(reads).toBe(2);
    t = 900;
    await d.membership();
    expect(reads).toBe(3);
  });

  it("deleteIf is refused while rejoining and passed through as a member; ping passes through", async () => {
    const inner = new MemoryAcceptor();
    await inner.accept([{ key: "k", ballot: b(1), value: null }]);
    const entry = { key: "k", accepted: b(1), promised: b(1) };
    const ctl = new MembershipControl(inner);
    await ctl.markRestored(0);
    const d = new MembershipAcceptor(inner, () => 0, { cacheMs: 0 });
    expect(await d.deleteIf([entry])).toEqual([{ ok: false, key: "k" }]);
    expect(inner.records.has("k")).toBe(true);
    await ctl.markMember(1);
    expect(await d.deleteIf([entry])).toEqual([{ ok: true, key: "k" }]);
    expect(inner.records.has("k")).toBe(false);
    await expect(d.deleteIf([{ ...entry, key: "sys/member" }])).rejects.toThrow("reserved key");
    await expect(d.ping()).resolves.toBeUndefined();
  });
});

describe("rejoin edges", () => {
  const access = (ctl: MembershipControl) => ({
    read: () => ctl.read(),
    markMember: (e: number) => ctl.markMember(e),
  });

  it("waits twice the acceptor timeout after the mark, and not a millisecond more", async () => {
    expect(REJOIN_DELAY_MS).toBe(2 * ACCEPTOR_TIMEOUT_MS);
    const raw = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const ctl = new MembershipControl(raw[2]!);
    await ctl.markRestored(1_000);
    const ports = [raw[0]!, raw[1]!, new MembershipAcceptor(raw[2]!, () => 0, { cacheMs: 0 })];
    const at = (now: number) => rejoinStep(client(ports), ports, 2, access(ctl), null, { now });
    expect(await at(1_000 + REJOIN_DELAY_MS - 1)).toMatchObject({ waiting: true });
    expect(await at(1_000 + REJOIN_DELAY_MS)).toMatchObject({ rejoined: true });
  });

  it("a member store needs no walk", async () => {
    const raw = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const ctl = new MembershipControl(raw[2]!);
    const scans: string[] = [];
    raw[0]!.scan = async (p) => {
      scans.push(p);
      return { records: [] };
    };
    const step = await rejoinStep(client(raw), raw, 2, access(ctl), null, { now: 1e9 });
    expect(step).toStrictEqual({ membership: MEMBER, progress: null, rejoined: false });
    expect(scans).toEqual([]);
  });

  it("a key is moved only by a re-choice that succeeded, even if the copies already agree", async () => {
    const raw = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await client(raw).change(["k"], () => ({ values: [1] }));
    await new MembershipControl(raw[2]!).markRestored(0);
    const ports = [raw[0]!, mute(raw[1]!), new MembershipAcceptor(raw[2]!, () => 0)];
    const slice = await rejoinSlice(client(ports), ports, 2);
    expect(slice).toMatchObject({ scanned: 1, moved: 0, failed: 1 });
  });

  it("walks past BATCH_KEYS_MAX keys, and a truncated slice is not the end of the walk", async () => {
    const raw = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const n = BATCH_KEYS_MAX + 2;
    const keys = Array.from({ length: n }, (_, i) => `k/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < n; i += 50) {
      const batch = keys.slice(i, i + 50);
      await client(raw).change(batch, () => ({ values: batch.map(() => 1) }));
    }
    const ctl = new MembershipControl(raw[2]!);
    await ctl.markRestored(0);
    const ports = [raw[0]!, raw[1]!, new MembershipAcceptor(raw[2]!, () => 0, { cacheMs: 0 })];
    expect(await rejoinSlice(client(ports), ports, 2)).toMatchObject({
      scanned: n,
      moved: n,
      failed: 0,
    });
    const first = await rejoinStep(client(ports), ports, 2, access(ctl), null, {
      now: 1e9,
      limit: 10,
    });
    expect(first).toMatchObject({ rejoined: false, progress: { after: keys[9], clean: true } });
  });

  it("a walk during which a store could not be scanned is not clean: no rejoin", async () => {
    const raw = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await client(raw).change(["k"], () => ({ values: [1] }));
    const ctl = new MembershipControl(raw[2]!);
    await ctl.markRestored(0);
    const blind: AcceptorPort = {
      ...mute(raw[1]!),
      prepare: (r) => raw[1]!.prepare(r),
      accept: (e) => raw[1]!.accept(e),
      scan: () => Promise.reject(new Error("down")),
    };
    const ports = [raw[0]!, blind, new MembershipAcceptor(raw[2]!, () => 0, { cacheMs: 0 })];
    const step = await rejoinStep(client(ports), ports, 2, access(ctl), null, { now: 1e9 });
    expect(step.slice).toMatchObject({ failed: 0, unreachable: [1] });
    expect(step.rejoined).toBe(false);
    expect(await ctl.read()).toMatchObject({ state: "rejoining" });
  });

  it("caughtUp compares with the lower of the two voters, whatever their order", () => {
    const r = (accepted: string) => rec("k", accepted, null);
    expect(caughtUp(r(b(3)), [r(b(5)), r(b(3))])).toBe(true);
  });
});
