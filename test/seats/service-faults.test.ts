import { describe, expect, it } from "vitest";
import { holdKey, idemKey } from "../../shared/domain/keys.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import type { SeatTimings } from "../../shared/seats/changes.ts";
import { HOLD_TTL_MS, SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import { HOLD_ROUNDS, type SeatService, STEP_RETRIES } from "../../shared/seats/service.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { downStore as down } from "../support/broken-stores.ts";
import { type Change, type Faults, seatCluster } from "../support/seat-cluster.ts";

/**
 * What the seat service answers when one of its steps, and only that one, fails or races: the
 * branches a whole-cluster fault never singles out (docs/quorum.md, "Mutation testing", lists the
 * survivors these kill). A provider's client runs every call through `faults`, which may answer
 * in its place, run it and then answer otherwise (an outcome lost after the fact), or act first.
 */

/** The shared seat cluster, its providers taking the fault hooks (and their stores) directly. */
function cluster(timings?: SeatTimings) {
  const c = seatCluster(timings);
  const provider = (faults: Faults = {}, stores?: AcceptorPort[]) =>
    c.provider({ faults, ...(stores ? { stores } : {}) });
  return { ...c, provider };
}

const ev = "ev";
const seat = (id: string) => ({ section: "A", seatId: id });
const seatKey = (id: string) => `seat/${ev}/A/${id}`;
const unavailable: Change = { status: "unavailable", reason: "injected" };
const unknown: Change = { status: "unknown", reason: "injected" };
const past = HOLD_TTL_MS + SKEW_MARGIN_MS + 1;

async function holdId(s: SeatService, caller: string, key: string, ids: string[]) {
  const h = await s.hold(caller, key, { eventId: ev, seats: ids.map(seat) });
  if (!h.ok) throw new Error(`hold failed: ${h.code}`);
  return h.value.holdId;
}

describe("SeatService under single-step faults", () => {
  it("gives a hold up as taken after HOLD_ROUNDS rounds that lock nothing", async () => {
    const c = cluster();
    let rounds = 0;
    const s = c.provider({
      change: async (keys, run) => {
        if (!keys[0]?.startsWith("idem/")) return run();
        rounds++;
        return { status: "aborted", reason: { code: "records", holds: [] }, values: [] };
      },
    });
    const out = await s.hold("u1", "k1", { eventId: ev, seats: [seat("a1")] });
    expect(out).toMatchObject({ ok: false, code: "taken", detail: "seats kept changing hands" });
    expect(rounds).toBe(HOLD_ROUNDS);
  });

  it("answers 503 when an expired holder cannot be rolled back, and says whether it may have", async () => {
    for (const lostAs of [unavailable, unknown]) {
      const c = cluster();
      const first = await holdId(c.provider(), "u1", "k1", ["a1"]);
      c.advance(past);
      const s = c.provider({
        change: async (keys, run) =>
          keys.length === 1 && keys[0] === holdKey(first) ? lostAs : run(),
      });
      const out = await s.hold("u2", "k2", { eventId: ev, seats: [seat("a1")] });
      expect(out).toMatchObject({ ok: false, code: lostAs.status, status: 503 });
    }
  });

  it("rolls back an expired holder with the service's own timings, not production's", async () => {
    const timings: SeatTimings = {
      skewMarginMs: 100,
      claimInFlightMs: 1_000,
      retentionMs: 600_000,
    };
    const c = cluster(timings);
    const s = c.provider();
    const first = await holdId(s, "u1", "k1", ["a1"]);
    c.advance(HOLD_TTL_MS + 200); // past expiry and this margin, within production's 5 s
    const out = await s.hold("u2", "k2", { eventId: ev, seats: [seat("a1")] });
    expect(out).toMatchObject({ ok: true });
    expect((await s.settle(first)).ok && (await s.settle(first))).toMatchObject({
      value: { state: "expired" },
    });
  });

  it("answers 503 when a hold's change cannot reach a quorum, and 'unknown' when it may have", async () => {
    for (const lostAs of [unavailable, unknown]) {
      const c = cluster();
      let tries = 0;
      const s = c.provider({
        change: async (keys, run) => {
          if (!keys[0]?.startsWith("idem/")) return run();
          tries++;
          return lostAs;
        },
      });
      const out = await s.hold("u1", "k1", { eventId: ev, seats: [seat("a1")] });
      expect(out).toMatchObject({ ok: false, code: lostAs.status, status: 503 });
      expect(tries).toBe(STEP_RETRIES + 1);
    }
  });

  it("answers 'unknown', not 'unavailable', when a try that may have landed is followed by tries that reach no quorum", async () => {
    const c = cluster();
    let tries = 0;
    const s = c.provider({
      change: async (keys, run) => {
        if (!keys[0]?.startsWith("idem/")) return run();
        // The first try lands and its answer is lost; the re-runs meet a quorum that is gone.
        if (tries++ === 0) return (await run()) && unknown;
        return unavailable;
      },
    });
    const out = await s.hold("u1", "k1", { eventId: ev, seats: [seat("a1")] });
    expect(out).toMatchObject({ ok: false, code: "unknown", status: 503 });
    expect(tries).toBe(STEP_RETRIES + 1);
    // It did land: the same request replays it.
    expect(await c.provider().hold("u1", "k1", { eventId: ev, seats: [seat("a1")] })).toMatchObject(
      { ok: true, replayed: true },
    );
  });

  it("replays a hold whose change committed but whose answer was lost, from the change alone", async () => {
    const c = cluster();
    let lose = 1;
    let reads = 0;
    const s = c.provider({
      change: async (_keys, run) => {
        const out = await run();
        return lose-- > 0 ? unknown : out;
      },
      get: async (_keys, run) => {
        reads++;
        return run();
      },
    });
    const out = await s.hold("u1", "k1", { eventId: ev, seats: [seat("a1"), seat("a2")] });
    expect(out).toMatchObject({
      ok: true,
      replayed: true,
      value: { seats: [seatKey("a1"), seatKey("a2")] },
    });
    expect(reads).toBe(0);
  });

  it("answers a retry of a hold rolled back meanwhile as expired, and of a released one as done", async () => {
    const c = cluster();
    const s = c.provider();
    const id = await holdId(s, "u1", "k1", ["a1"]);
    c.advance(past);
    expect(await s.settle(id)).toMatchObject({ ok: true, value: { state: "expired" } });
    const again = await s.hold("u1", "k1", { eventId: ev, seats: [seat("a1")] });
    expect(again).toMatchObject({ ok: false, code: "expired", status: 410 });
    const other = await holdId(s, "u1", "k2", ["a2"]);
    expect(await s.release("u1", other)).toMatchObject({ ok: true });
    const replay = await s.hold("u1", "k2", { eventId: ev, seats: [seat("a2")] });
    expect(replay).toMatchObject({ ok: true, replayed: true, value: { holdId: other } });
  });

  it("refuses a confirm under the hold's own idempotency key (422), before any change", async () => {
    const c = cluster();
    const s = c.provider();
    const id = await holdId(s, "u1", "k1", ["a1"]);
    const from = c.log.length;
    expect(await s.confirm("u1", "k1", { holdId: id })).toMatchObject({
      ok: false,
      code: "conflict",
      status: 422,
    });
    expect(c.log.slice(from).filter((x) => x.op === "change")).toEqual([]);
  });

  it("refuses one idempotency key for confirms of two different holds", async () => {
    const c = cluster();
    const s = c.provider();
    const a = await holdId(s, "u1", "k1", ["a1"]);
    const b = await holdId(s, "u1", "k2", ["a2"]);
    expect(await s.confirm("u1", "c1", { holdId: a })).toMatchObject({ ok: true });
    expect(await s.confirm("u1", "c1", { holdId: b })).toMatchObject({
      ok: false,
      code: "conflict",
      status: 422,
    });
  });

  it("answers a confirm that cannot reach a quorum 503, 'unknown' when it may have sold", async () => {
    for (const lostAs of [unavailable, unknown]) {
      const c = cluster();
      const id = await holdId(c.provider(), "u1", "k1", ["a1"]);
      let tries = 0;
      const s = c.provider({
        change: async (keys, run) => {
          if (!keys[0]?.startsWith("idem/")) return run();
          tries++;
          return lostAs;
        },
      });
      const out = await s.confirm("u1", "c1", { holdId: id });
      expect(out).toMatchObject({ ok: false, code: lostAs.status, status: 503 });
      expect(tries).toBe(STEP_RETRIES + 1);
    }
  });

  it("a committed sale stands when its seats cannot be settled yet, naming them from its record", async () => {
    const c = cluster();
    const id = await holdId(c.provider(), "u1", "k1", ["a1", "a2"]);
    const seatsDown = (keys: readonly string[], run: () => Promise<Change>) =>
      keys[0]?.startsWith("seat/") ? Promise.resolve(unavailable) : run();
    const s = c.provider({ change: seatsDown });
    const out = await s.confirm("u1", "c1", { holdId: id });
    expect(out).toMatchObject({ ok: true, replayed: false });
    expect(out.ok && [...out.value.seats].sort()).toEqual([seatKey("a1"), seatKey("a2")]);
    // A replay that cannot settle either has no record in hand: it names no seat rather than guess.
    const replay = await s.confirm("u1", "c1", { holdId: id });
    expect(replay).toMatchObject({ ok: true, replayed: true, value: { seats: [] } });
    // Once the stores answer, the seats follow the sale.
    const settled = await c.provider().settle(id);
    expect(settled).toMatchObject({ ok: true, value: { state: "sold", changed: 2 } });
  });

  it("rolls a hold back before answering a confirm expired, so a slower confirm cannot sell it after", async () => {
    const c = cluster();
    const id = await holdId(c.provider(), "u1", "k1", ["a1"]);
    let go = () => {};
    const gate = new Promise<void>((r) => {
      go = r;
    });
    // This confirm reads its clock while the hold is live, then its change waits.
    const slow = c.provider({
      change: async (keys, run) => {
        if (keys[0] === idemKey("u1", "c1")) await gate;
        return run();
      },
    });
    const late = slow.confirm("u1", "c1", { holdId: id });
    await new Promise((r) => setTimeout(r, 0));
    c.advance(past);
    expect(await c.provider().confirm("u1", "c2", { holdId: id })).toMatchObject({
      ok: false,
      code: "expired",
    });
    go();
    expect(await late).toMatchObject({ ok: false, code: "expired" });
    expect(await c.provider().settle(id)).toMatchObject({ ok: true, value: { state: "expired" } });
  });

  it("settles a live hold with one read and no write, up to the last instant of its margin", async () => {
    const c = cluster();
    const s = c.provider();
    const id = await holdId(s, "u1", "k1", ["a1"]);
    c.advance(HOLD_TTL_MS + SKEW_MARGIN_MS); // exactly at expiry + margin: still live
    const from = c.log.length;
    expect(await s.settle(id)).toMatchObject({ ok: true, value: { state: "held", changed: 0 } });
    expect(c.log.slice(from).map((x) => x.op)).toEqual(["get"]);
    c.advance(1);
    expect(await s.settle(id)).toMatchObject({ ok: true, value: { state: "expired", changed: 1 } });
  });

  it("answers a settle whose rollback or re-read fails 503, and never frees seats it could not roll back", async () => {
    for (const lostAs of [unavailable, unknown]) {
      const c = cluster();
      const id = await holdId(c.provider(), "u1", "k1", ["a1"]);
      c.advance(past);
      const from = c.log.length;
      const s = c.provider({
        change: async (keys, run) => (keys[0] === holdKey(id) ? lostAs : run()),
      });
      expect(await s.settle(id)).toMatchObject({ ok: false, code: lostAs.status, status: 503 });
      expect(c.changesOn(seatKey("a1"), from)).toBe(0);
    }
    const c = cluster();
    const id = await holdId(c.provider(), "u1", "k1", ["a1"]);
    c.advance(past);
    let reads = 0;
    const s = c.provider({
      get: async (_keys, run) =>
        ++reads === 2 ? { status: "unavailable", reason: "injected" } : run(),
    });
    expect(await s.settle(id)).toMatchObject({ ok: false, code: "unavailable", status: 503 });
  });

  it("leaves the seats alone when a rollback finds the hold still live on a slower clock", async () => {
    const c = cluster();
    const id = await holdId(c.provider(), "u1", "k1", ["a1"]);
    c.advance(past);
    const from = c.log.length;
    const s = c.provider({
      change: async (keys, run) =>
        keys[0] === holdKey(id)
          ? { status: "aborted", reason: { code: "live" }, values: [] }
          : run(),
    });
    expect(await s.settle(id)).toMatchObject({
      ok: true,
      value: { state: "held", seats: [seatKey("a1")], changed: 0 },
    });
    expect(c.changesOn(seatKey("a1"), from)).toBe(0);
  });

  it("answers a settle whose seats cannot be moved 503, saying whether they may have", async () => {
    for (const lostAs of [unavailable, unknown]) {
      const c = cluster();
      const id = await holdId(c.provider(), "u1", "k1", ["a1"]);
      const seatsDown = c.provider({
        change: async (keys, run) => (keys[0]?.startsWith("seat/") ? lostAs : run()),
      });
      expect(await seatsDown.release("u1", id)).toMatchObject({ ok: true });
      expect(await seatsDown.settle(id)).toMatchObject({
        ok: false,
        code: lostAs.status,
        status: 503,
      });
    }
  });

  it("costs the sweep no write on a live or sold hold's record, and answers 'failed' when it cannot tell", async () => {
    const c = cluster();
    const s = c.provider();
    const live = await holdId(s, "u1", "k1", ["a1"]);
    const sold = await holdId(s, "u1", "k2", ["a2"]);
    expect(await s.confirm("u1", "c1", { holdId: sold })).toMatchObject({ ok: true });
    for (const id of [live, sold]) {
      const from = c.log.length;
      expect(await s.sweepHold(id)).toBe("kept");
      expect(c.changesOn(holdKey(id), from)).toBe(0);
    }
    const blind = c.provider({ get: async () => ({ status: "unavailable", reason: "injected" }) });
    expect(await blind.sweepHold(live)).toBe("failed");
    expect(await blind.sweepHold("hnothere")).toBe("failed");
    expect(await s.sweepHold("hnothere")).toBe("kept");
  });

  it("answers 'failed' when a sweep's own write cannot reach a quorum", async () => {
    const timings: SeatTimings = { skewMarginMs: 100, claimInFlightMs: 1_000, retentionMs: 60_000 };
    for (const lostAs of [unavailable, unknown]) {
      const c = cluster(timings);
      const s = c.provider();
      const id = await holdId(s, "u1", "k1", ["a1"]);
      expect(await s.release("u1", id)).toMatchObject({ ok: true });
      c.advance(HOLD_TTL_MS + 120_000);
      let writes = 0;
      const lossy = c.provider({
        change: async (keys, run) => {
          // The settle's re-free of the seats goes through; the sweep's null does not.
          if (keys[0] !== holdKey(id)) return run();
          writes++;
          return lostAs;
        },
      });
      expect(await lossy.sweepHold(id)).toBe("failed");
      expect(writes).toBe(STEP_RETRIES + 1);
      expect(await lossy.sweepClaim(idemKey("u1", "k1"))).toBe("swept");
      const claimLost = c.provider({ change: async () => lostAs });
      expect(await claimLost.sweepClaim(idemKey("u1", "k2"))).toBe("failed");
    }
  });

  it("an expired hold's sweep answers 'expired' until its retention, then 'swept'", async () => {
    const timings: SeatTimings = { skewMarginMs: 100, claimInFlightMs: 1_000, retentionMs: 60_000 };
    const c = cluster(timings);
    const s = c.provider();
    // A hold whose change was cut short with only its seat lock landed: the seat alone names it.
    const raw = new QuorumClient({
      acceptors: c.acceptors,
      proposerId: "cut",
      now: c.now,
      random: () => 0.5,
      sleep: async () => {},
      timeoutMs: 20,
    });
    const lock = { state: "held", holdId: "hcut", expiresAtMs: c.now() + HOLD_TTL_MS };
    expect((await raw.change([seatKey("a1")], () => ({ values: [lock] }))).status).toBe("ok");
    c.advance(HOLD_TTL_MS + 200);
    // Someone else takes the seat over: the rollback writes the tombstone with the seat's expiry.
    const taker = await s.hold("u2", "k2", { eventId: ev, seats: [seat("a1")] });
    expect(taker).toMatchObject({ ok: true });
    const scanned = await c.acceptors[1]!.scan("hold/", { limit: 10 });
    const tomb = scanned.records
      .map((r) => ({ key: r.key, v: JSON.parse(r.value ?? "null") as Record<string, unknown> }))
      .find((r) => r.v?.state === "expired");
    expect(tomb).toMatchObject({ key: "hold/hcut", v: { expiresAtMs: lock.expiresAtMs } });
    const tombId = "hcut";
    expect(await s.sweepHold(tombId)).toBe("expired");
    c.advance(60_001);
    expect(await s.sweepHold(tombId)).toBe("swept");
  });

  it("reads seats from its own store by default: committed, possibly older than the quorum's", async () => {
    const c = cluster();
    const local = c.provider();
    const id = await holdId(local, "u1", "k1", ["a1"]);
    // Another provider releases the hold while this provider's store is away.
    const [a0, a1, a2] = c.acceptors;
    const other = c.provider({}, [down, a1!, a2!]);
    expect(await other.release("u1", id)).toMatchObject({ ok: true });
    expect(a0).toBeDefined();
    const mine = await local.seats(ev, [seat("a1")]);
    expect(mine).toMatchObject({ ok: true, value: [{ seat: { state: "held", holdId: id } }] });
    const quorum = await local.seats(ev, [seat("a1")], "quorum");
    expect(quorum).toMatchObject({ ok: true, value: [{ seat: { state: "free" } }] });
  });

  it("answers an abort it does not expect with 503, never a crash", async () => {
    const c = cluster();
    const s = c.provider({
      change: async () => ({
        status: "aborted",
        reason: { code: "records", holds: [] },
        values: [],
      }),
    });
    expect(await s.release("u1", "h1")).toMatchObject({
      ok: false,
      code: "unavailable",
      status: 503,
    });
  });
});
