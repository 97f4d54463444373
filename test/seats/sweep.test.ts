import { describe, expect, it, vi } from "vitest";
import { QuorumClient } from "../../shared/quorum/client.ts";
import {
  confirmHold,
  confirmHoldKeys,
  HOLD_TTL_MS,
  RECORD_RETENTION_MS,
  releaseHold,
  SKEW_MARGIN_MS,
} from "../../shared/seats/changes.ts";
import { SeatService } from "../../shared/seats/service.ts";
import { sweepAction, sweepSeats } from "../../shared/seats/sweep.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

const END = 1_000;
const DUE = END + SKEW_MARGIN_MS + RECORD_RETENTION_MS + 1;
const j = (v: unknown) => JSON.stringify(v);

describe("sweepAction (which scanned records a sweep looks at)", () => {
  const hold = (state: string, expiresAtMs: unknown = END) => j({ state, expiresAtMs, seats: [] });
  it("rolls back held holds once past expiry and the margin", () => {
    expect(sweepAction("hold/h", hold("held"), END + SKEW_MARGIN_MS)).toBeNull();
    expect(sweepAction("hold/h", hold("held"), END + SKEW_MARGIN_MS + 1)).toBe("hold");
  });
  it("sweeps unsold ended holds only past the retention, sold ones never", () => {
    for (const state of ["released", "expired"]) {
      expect(sweepAction("hold/h", hold(state), DUE - 1)).toBeNull();
      expect(sweepAction("hold/h", hold(state), DUE)).toBe("hold");
    }
    expect(sweepAction("hold/h", hold("sold"), DUE * 2)).toBeNull();
  });
  it("sweeps a buyer's claim past the retention from its start or its hold's expiry", () => {
    const claim = (c: object) => j({ op: "hold", hash: "h", id: "H", ...c });
    expect(sweepAction("idem/b/k", claim({ startedAtMs: END }), DUE - 1)).toBeNull();
    expect(sweepAction("idem/b/k", claim({ startedAtMs: END }), DUE)).toBe("claim");
    const later = claim({ startedAtMs: 0, expiresAtMs: END });
    expect(sweepAction("idem/b/k", later, DUE - 1)).toBeNull();
    expect(sweepAction("idem/b/k", later, DUE)).toBe("claim");
  });
  it("never a theater's claim", () => {
    const claim = j({ op: "venue", hash: "h", id: "v", startedAtMs: 0 });
    expect(sweepAction("idem/theater:t1/k", claim, DUE * 2)).toBeNull();
  });
  it("skips what it cannot read: null, not JSON, not an object, no times, other prefixes", () => {
    for (const value of [null, "{", "1", "null", j({ state: "released" }), hold("held", "x")]) {
      expect(sweepAction("hold/h", value, DUE * 2)).toBeNull();
    }
    expect(sweepAction("idem/b/k", j({ op: "hold", startedAtMs: "0" }), DUE * 2)).toBeNull();
    expect(sweepAction("seat/e/A/1", hold("released"), DUE * 2)).toBeNull();
    expect(sweepAction("seat/e/A/1", j({ op: "hold", startedAtMs: 0 }), DUE * 2)).toBeNull();
    expect(sweepAction("hold/h", hold("held", null), DUE * 2)).toBeNull();
    expect(sweepAction("hold/h", hold("released", null), DUE * 2)).toBeNull();
  });
  it("follows scaled timings", () => {
    const t = { skewMarginMs: 10, claimInFlightMs: 20, retentionMs: 100 };
    expect(sweepAction("hold/h", hold("released"), END + 110, t)).toBeNull();
    expect(sweepAction("hold/h", hold("released"), END + 111, t)).toBe("hold");
  });
});

function cluster() {
  const acceptors = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
  const clock = { ms: 1_000_000 };
  let seed = 7;
  const random = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const client = new QuorumClient({
    acceptors,
    proposerId: "p0",
    now: () => clock.ms,
    random,
    sleep: async () => {},
  });
  const randomBytes = (k: number) => Uint8Array.from({ length: k }, () => (random() * 256) | 0);
  const service = new SeatService(client, { now: () => clock.ms, randomBytes });
  return { acceptors, clock, service, client };
}
const refs = (...ids: string[]) => ids.map((s) => ({ section: "A", seatId: s }));
const raw = (a: MemoryAcceptor, key: string) => {
  const v = a.records.get(key)?.value;
  return v === undefined || v === null ? v : JSON.parse(v);
};

describe("sweepSeats (a pass over one store's scan)", () => {
  it("rolls back, then sweeps, holds and claims; keeps sales; pages with a cursor", async () => {
    const c = cluster();
    const held = await c.service.hold("b1", "k1", { eventId: "e1", seats: refs("1") });
    const bought = await c.service.hold("b1", "k2", { eventId: "e1", seats: refs("2") });
    expect(held.ok && bought.ok).toBe(true);
    if (!held.ok || !bought.ok) return;
    expect((await c.service.confirm("b1", "k3", { holdId: bought.value.holdId })).ok).toBe(true);
    const now = () => c.clock.ms;

    c.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    const first = await sweepSeats(c.service, c.acceptors, "hold/", { now: now(), limit: 10 });
    expect(first).toMatchObject({ scanned: 2, expired: 1, swept: 0, failed: 0 });
    expect(first.next).toBeUndefined();
    expect(raw(c.acceptors[0]!, "seat/e1/A/1")).toEqual({ state: "free" });

    c.clock.ms += RECORD_RETENTION_MS;
    // One record per pass: the cursor carries the sweep across passes.
    const a = await sweepSeats(c.service, c.acceptors, "hold/", { now: now(), limit: 1 });
    const b = await sweepSeats(c.service, c.acceptors, "hold/", {
      now: now(),
      limit: 1,
      ...(a.next ? { after: a.next } : {}),
    });
    expect(a.swept + b.swept).toBe(1);
    expect(a.next).toBeDefined();
    expect(raw(c.acceptors[0]!, `hold/${held.value.holdId}`)).toBeNull();
    expect(raw(c.acceptors[0]!, `hold/${bought.value.holdId}`)).toMatchObject({ state: "sold" });

    const claims = await sweepSeats(c.service, c.acceptors, "idem/", { now: now(), limit: 10 });
    expect(claims).toMatchObject({ scanned: 3, swept: 3, kept: 0, failed: 0 });
    // A second pass finds only nulls: nothing to do.
    const again = await sweepSeats(c.service, c.acceptors, "idem/", { now: now(), limit: 10 });
    expect(again).toMatchObject({ swept: 0, kept: 0, failed: 0 });
  });

  it("scans the next store when the first does not answer, and reports a pass with none", async () => {
    const c = cluster();
    await c.service.hold("b1", "k1", { eventId: "e1", seats: refs("1") });
    c.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    const down: AcceptorPort = Object.assign(Object.create(c.acceptors[0]!), {
      scan: () => Promise.reject(new Error("down")),
    });
    const r = await sweepSeats(c.service, [down, c.acceptors[1]!], "hold/", {
      now: c.clock.ms,
      limit: 10,
    });
    expect(r).toMatchObject({ scanned: 1, expired: 1 });
    const none = await sweepSeats(c.service, [down], "hold/", {
      now: c.clock.ms,
      limit: 10,
      after: "hold/x",
    });
    expect(none).toEqual({
      scanned: 0,
      expired: 0,
      settled: 0,
      swept: 0,
      followed: 0,
      kept: 0,
      failed: 1,
      next: "hold/x",
    });
  });

  it("finishes the seats of a sale whose coordinator died right after the commit", async () => {
    const c = cluster();
    const h = await c.service.hold("b1", "k1", { eventId: "e1", seats: refs("1", "2") });
    expect(h.ok).toBe(true);
    if (!h.ok) return;
    // The sale's commit alone, as a coordinator killed before the settle step leaves it.
    const input = {
      caller: "b1",
      key: "k2",
      hash: "h",
      holdId: h.value.holdId,
      orderId: "o1",
      seats: h.value.seats,
      claimKey: "idem/b1/k1",
      now: c.clock.ms,
    };
    expect((await c.client.change(confirmHoldKeys(input), confirmHold(input))).status).toBe("ok");
    expect(raw(c.acceptors[0]!, "seat/e1/A/1")).toMatchObject({ state: "held" });
    const r = await sweepSeats(c.service, c.acceptors, "hold/", { now: c.clock.ms, limit: 10 });
    expect(r).toMatchObject({ settled: 1, failed: 0 });
    for (const k of ["seat/e1/A/1", "seat/e1/A/2"]) {
      expect(raw(c.acceptors[0]!, k)).toMatchObject({ state: "sold", orderId: "o1" });
    }
    // Settled: the next pass has nothing to do, and a refunded seat (free) is not "behind".
    const again = await sweepSeats(c.service, c.acceptors, "hold/", { now: c.clock.ms, limit: 10 });
    expect(again.settled).toBe(0);
  });

  it("acts on at most maxActions records per pass and resumes after the last one it did", async () => {
    const c = cluster();
    for (const [k, seat] of [
      ["k1", "1"],
      ["k2", "2"],
      ["k3", "3"],
    ] as const) {
      expect((await c.service.hold("b1", k, { eventId: "e1", seats: refs(seat) })).ok).toBe(true);
    }
    c.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    const o = { now: c.clock.ms, limit: 10, maxActions: 2 };
    const first = await sweepSeats(c.service, c.acceptors, "hold/", o);
    expect(first).toMatchObject({ scanned: 3, expired: 2 });
    const keys = [...c.acceptors[0]!.records.keys()].filter((k) => k.startsWith("hold/")).sort();
    expect(first.next).toBe(keys[1]);
    const second = await sweepSeats(c.service, c.acceptors, "hold/", { ...o, after: first.next! });
    expect(second).toMatchObject({ scanned: 1, expired: 1 });
    expect(second.next).toBeUndefined();
  });

  it("scans the first store that answers, not a later one", async () => {
    const c = cluster();
    await c.service.hold("b1", "k1", { eventId: "e1", seats: refs("1") });
    c.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    const empty = new MemoryAcceptor();
    const r = await sweepSeats(c.service, [c.acceptors[0]!, empty], "hold/", {
      now: c.clock.ms,
      limit: 10,
    });
    expect(r).toMatchObject({ scanned: 1, expired: 1 });
  });

  it("counts sweeps that could not reach a quorum as failed", async () => {
    const c = cluster();
    await c.service.hold("b1", "k1", { eventId: "e1", seats: refs("1") });
    c.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + RECORD_RETENTION_MS + 1;
    const down: AcceptorPort = Object.assign(Object.create(c.acceptors[0]!), {
      prepare: () => Promise.reject(new Error("down")),
      accept: () => Promise.reject(new Error("down")),
      read: () => Promise.reject(new Error("down")),
    });
    const cut = new QuorumClient({
      acceptors: [c.acceptors[0]!, down, down],
      proposerId: "cut",
      now: () => c.clock.ms,
      random: () => 0.5,
      sleep: async () => {},
      maxAttempts: 1,
    });
    const svc = new SeatService(cut, {
      now: () => c.clock.ms,
      randomBytes: () => new Uint8Array(12),
    });
    const o = { now: c.clock.ms, limit: 10 };
    expect(await sweepSeats(svc, c.acceptors, "hold/", o)).toMatchObject({ failed: 1, expired: 0 });
    expect(await sweepSeats(svc, c.acceptors, "idem/", o)).toMatchObject({ failed: 1, swept: 0 });
  });

  it("settles only ended holds of which the scanning store still shows a seat held", async () => {
    const c = cluster();
    const holdSeatsOf = new Map<string, { seats: readonly string[]; claimKey: string }>();
    const hold = async (key: string, seat: string) => {
      const h = await c.service.hold("b1", key, { eventId: "e1", seats: refs(seat) });
      if (!h.ok) throw new Error("hold refused");
      holdSeatsOf.set(h.value.holdId, { seats: h.value.seats, claimKey: `idem/b1/${key}` });
      return h.value.holdId;
    };
    const commitOnly = (holdId: string, key: string) => {
      const { seats, claimKey } = holdSeatsOf.get(holdId)!;
      const input = {
        caller: "b1",
        key,
        hash: "h",
        holdId,
        orderId: `o-${key}`,
        seats,
        claimKey,
        now: c.clock.ms,
      };
      return c.client.change(confirmHoldKeys(input), confirmHold(input));
    };
    const live = await hold("k1", "1");
    const settledSale = await hold("k2", "2");
    expect((await c.service.confirm("b1", "c2", { holdId: settledSale })).ok).toBe(true);
    const behind = await hold("k3", "3");
    await commitOnly(behind, "c3");
    const released = await hold("k4", "4");
    expect((await c.service.release("b1", released)).ok).toBe(true);
    // A store that lags: it still shows seat 5 held although its sale settled everywhere else.
    const lagging = await hold("k5", "5");
    await commitOnly(lagging, "c5");
    const before = c.acceptors[0]!.records.get("seat/e1/A/5")!;
    await c.service.settle(lagging);
    c.acceptors[0]!.records.set("seat/e1/A/5", before);

    // A release and a rollback whose seats were never freed (their coordinators died after the
    // record's change).
    const releasedBehind = await hold("k6", "6");
    await c.client.change(
      [`hold/${releasedBehind}`],
      releaseHold({ caller: "b1", holdId: releasedBehind }),
    );
    const expiredBehind = await hold("k7", "7");
    await c.client.change([`hold/${expiredBehind}`], (cur) => ({
      values: [{ ...(cur[0] as object), state: "expired" }],
    }));

    const settle = vi.spyOn(c.service, "settle");
    const r = await sweepSeats(c.service, c.acceptors, "hold/", { now: c.clock.ms, limit: 10 });
    expect(settle.mock.calls.map((a) => a[0]).sort()).toEqual(
      [behind, lagging, releasedBehind, expiredBehind].sort(),
    );
    expect(r).toMatchObject({ settled: 3, failed: 0 });
    for (const seat of ["6", "7"])
      expect(raw(c.acceptors[0]!, `seat/e1/A/${seat}`)).toEqual({ state: "free" });
    expect(live).toBeDefined();
  });

  it("settles nothing when the scanning store cannot read the seats", async () => {
    const c = cluster();
    const h = await c.service.hold("b1", "k1", { eventId: "e1", seats: refs("1") });
    if (!h.ok) throw new Error("hold refused");
    const input = {
      caller: "b1",
      key: "c1",
      hash: "h",
      holdId: h.value.holdId,
      orderId: "o1",
      seats: h.value.seats,
      claimKey: "idem/b1/k1",
      now: c.clock.ms,
    };
    await c.client.change(confirmHoldKeys(input), confirmHold(input));
    const blind: AcceptorPort = Object.assign(Object.create(c.acceptors[0]!), {
      read: () => Promise.reject(new Error("down")),
    });
    const settle = vi.spyOn(c.service, "settle");
    const r = await sweepSeats(c.service, [blind], "hold/", { now: c.clock.ms, limit: 10 });
    expect(r).toMatchObject({ scanned: 1, settled: 0, failed: 0 });
    expect(settle).not.toHaveBeenCalled();
  });

  it("judges every seat of a hold, counts settles that fail, and leaves seats others hold", async () => {
    const c = cluster();
    const h = await c.service.hold("b1", "k1", { eventId: "e1", seats: refs("1", "2") });
    if (!h.ok) throw new Error("hold refused");
    const holdId = h.value.holdId;
    await c.client.change([`hold/${holdId}`], releaseHold({ caller: "b1", holdId }));
    // Seat 1 was freed and taken by another hold; seat 2 is still held by the released hold.
    const other = { state: "held", holdId: "hOther", expiresAtMs: c.clock.ms + HOLD_TTL_MS };
    await c.client.change(["seat/e1/A/1"], () => ({ values: [other] }));
    const settle = vi.spyOn(c.service, "settle");
    await sweepSeats(c.service, c.acceptors, "hold/", { now: c.clock.ms, limit: 10 });
    expect(settle.mock.calls.map((a) => a[0])).toEqual([holdId]);
    expect(raw(c.acceptors[0]!, "seat/e1/A/1")).toMatchObject({ state: "held" });
    expect(raw(c.acceptors[0]!, "seat/e1/A/2")).toEqual({ state: "free" });

    // Now only another hold holds one of its seats: nothing to settle.
    settle.mockClear();
    await sweepSeats(c.service, c.acceptors, "hold/", { now: c.clock.ms, limit: 10 });
    expect(settle).not.toHaveBeenCalled();

    // Seat 2 held by the released hold again on this store only; the quorum cannot be reached.
    const before = c.acceptors[0]!.records.get("seat/e1/A/2")!;
    c.acceptors[0]!.records.set("seat/e1/A/2", {
      ...before,
      value: JSON.stringify({ state: "held", holdId, expiresAtMs: c.clock.ms }),
    });
    settle.mockResolvedValueOnce({ ok: false, code: "unavailable", status: 503 });
    const r = await sweepSeats(c.service, c.acceptors, "hold/", { now: c.clock.ms, limit: 10 });
    expect(r).toMatchObject({ settled: 0, failed: 1 });
  });
});
