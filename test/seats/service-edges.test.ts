import { describe, expect, it } from "vitest";
import { seatKeys } from "../../shared/domain/keys.ts";
import type { QuorumClient } from "../../shared/quorum/client.ts";
import { HOLD_TTL_MS, SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import { requestHash } from "../../shared/seats/hash.ts";
import type { MemoryAcceptor } from "../../shared/storage/memory.ts";
import { downStore as down } from "../support/broken-stores.ts";
import { seatCluster } from "../support/seat-cluster.ts";

/** The shared seat cluster; `flaky` makes a provider's first changes come back with a status
 * without running. */
function cluster() {
  const c = seatCluster();
  const provider = (flaky: { status: "unknown" | "unavailable"; times: number } | null = null) =>
    c.provider(flaky ? { flaky } : {});
  return { ...c, provider };
}

const seats = (...ids: string[]) => ids.map((s) => ({ section: s[0]!, seatId: s }));
const many = (k: number) =>
  Array.from({ length: k }, (_, i) => ({ section: "A", seatId: `s${i}` }));

describe("SeatService edges", () => {
  it("validates every input, saying what is wrong", async () => {
    const s = cluster().provider();
    const hold = (caller: string, key: string, n: number, cap?: number) =>
      s.hold(caller, key, {
        eventId: "ev",
        seats: many(n),
        ...(cap === undefined ? {} : { maxSeatsPerBuyer: cap }),
      });
    expect(await hold("u 1", "k", 1)).toMatchObject({
      code: "invalid",
      status: 400,
      detail: "bad caller or key",
    });
    expect(await hold("u1", "k/1", 1)).toMatchObject({
      code: "invalid",
      detail: "bad caller or key",
    });
    expect(await hold("u1", "k", 21)).toMatchObject({
      code: "invalid",
      detail: "between 1 and 20 seats",
    });
    expect(await hold("u1", "k20", 20)).toMatchObject({ ok: true });
    for (const cap of [0, 1.5, 51]) {
      expect(await hold("u2", "k", 1, cap)).toMatchObject({
        code: "invalid",
        detail: "a cap of 1 to 50 seats",
      });
    }
    expect(await s.confirm("u 1", "c", { holdId: "h1" })).toMatchObject({
      code: "invalid",
      detail: "bad caller, key or hold id",
    });
    expect(await s.confirm("u1", "c 1", { holdId: "h1" })).toMatchObject({ code: "invalid" });
    expect(await s.confirm("u1", "c", { holdId: "h/1" })).toMatchObject({ code: "invalid" });
    expect(await s.release("u 1", "h1")).toMatchObject({
      code: "invalid",
      detail: "bad caller or hold id",
    });
    expect(await s.release("u1", "h/1")).toMatchObject({
      code: "invalid",
      detail: "bad caller or hold id",
    });
    expect(await s.seats("ev", [{ section: "a/b", seatId: "1" }])).toMatchObject({
      code: "invalid",
      status: 400,
    });
  });

  it("takes caps of 1 and 50, and refuses past the cap with the counts", async () => {
    const s = cluster().provider();
    const one = { eventId: "ev", seats: seats("A1"), maxSeatsPerBuyer: 1 };
    const h = await s.hold("u1", "k1", one);
    expect(h).toMatchObject({ ok: true, replayed: false });
    if (h.ok) expect(h.value.holdId).toMatch(/^h/);
    expect(await s.hold("u1", "k2", { ...one, seats: seats("A2") })).toEqual({
      ok: false,
      code: "seat-cap-reached",
      status: 409,
      detail: { cap: 1, count: 1, requested: 1 },
    });
    expect(
      await s.hold("u2", "k1", { ...one, seats: seats("A3"), maxSeatsPerBuyer: 50 }),
    ).toMatchObject({ ok: true });
  });

  it("answers each refusal with its own code", async () => {
    const c = cluster();
    const s = c.provider();
    expect(await s.confirm("u1", "c1", { holdId: "hnone" })).toMatchObject({
      code: "not-found",
      status: 404,
    });
    const h = await s.hold("u1", "k1", { eventId: "ev", seats: seats("A1") });
    if (!h.ok) throw new Error("hold failed");
    const holdId = h.value.holdId;
    expect(await s.confirm("u2", "c1", { holdId })).toMatchObject({
      code: "forbidden",
      status: 403,
    });
    const sold = await s.confirm("u1", "c1", { holdId });
    expect(sold).toMatchObject({
      ok: true,
      replayed: false,
      value: { holdId, seats: ["seat/ev/A/A1"] },
    });
    if (sold.ok) expect(sold.value.orderId).toMatch(/^o/);
    expect(await s.confirm("u1", "c1", { holdId })).toMatchObject({ ok: true, replayed: true });
    expect(await s.confirm("u1", "c2", { holdId })).toMatchObject({
      code: "already-confirmed",
      status: 409,
    });
    expect(await s.release("u1", holdId)).toMatchObject({ code: "sold", status: 409 });
    expect(await s.release("u1", "hnone")).toMatchObject({ code: "not-found" });
  });

  it("a retry of a hold rolled back for someone else answers expired", async () => {
    const c = cluster();
    const req = { eventId: "ev", seats: seats("A1") };
    expect(await c.provider().hold("u1", "k1", req)).toMatchObject({ ok: true });
    c.advance(HOLD_TTL_MS + SKEW_MARGIN_MS + 1);
    expect(await c.provider().hold("u2", "k1", req)).toMatchObject({ ok: true });
    expect(await c.provider().hold("u1", "k1", req)).toMatchObject({
      ok: false,
      code: "expired",
      status: 410,
    });
  });

  it("settles: not found, still held, expired and freed, sold", async () => {
    const c = cluster();
    const s = c.provider();
    expect(await s.settle("hnone")).toMatchObject({ ok: false, code: "not-found" });
    const h = await s.hold("u1", "k1", { eventId: "ev", seats: seats("A1", "A2") });
    if (!h.ok) throw new Error("hold failed");
    const { holdId, expiresAtMs } = h.value;
    expect(await s.settle(holdId)).toEqual({
      ok: true,
      replayed: false,
      value: { state: "held", seats: ["seat/ev/A/A1", "seat/ev/A/A2"], changed: 0, foreign: [] },
    });
    // A hold whose record was never written is known by its seats' expiry only.
    expect(await s.settle("hghost", { seats: ["seat/ev/A/A9"], expiresAtMs })).toMatchObject({
      ok: true,
      value: { state: "held", seats: [] },
    });
    c.advance(HOLD_TTL_MS + SKEW_MARGIN_MS);
    expect(await s.settle(holdId)).toMatchObject({ ok: true, value: { state: "held" } });
    c.advance(1);
    expect(await s.settle(holdId)).toEqual({
      ok: true,
      replayed: false,
      value: { state: "expired", seats: ["seat/ev/A/A1", "seat/ev/A/A2"], changed: 2, foreign: [] },
    });
    const view = await s.seats("ev", seats("A1"), "quorum");
    expect(view).toEqual({
      ok: true,
      replayed: false,
      value: [{ key: "seat/ev/A/A1", seat: { state: "free" } }],
    });
  });

  it("confirms without settling when told to, and settles the sale after, with or without its record", async () => {
    const c = cluster();
    const s = c.provider();
    const sell = async (key: string, ids: string[]) => {
      const h = await s.hold("u1", key, { eventId: "ev", seats: seats(...ids) });
      if (!h.ok) throw new Error("hold failed");
      return h.value.holdId;
    };
    const state = async (id: string) => {
      const v = await s.seats("ev", seats(id), "quorum");
      return v.ok ? v.value[0]?.seat?.state : null;
    };
    const holdId = await sell("k1", ["A1"]);
    const sold = await s.confirm("u1", "c1", { holdId, settle: false });
    expect(sold).toMatchObject({ ok: true, value: { holdId, seats: ["seat/ev/A/A1"] } });
    expect(await state("A1")).toBe("held");
    if (!sold.ok) throw new Error("confirm failed");
    expect(sold.value.sold).toMatchObject({ state: "sold", orderId: sold.value.orderId });
    expect(await s.settleSold(holdId, sold.value.sold)).toMatchObject({
      ok: true,
      value: { state: "sold", changed: 1 },
    });
    expect(await state("A1")).toBe("sold");
    // A replayed confirm hands over the record its change read (an abort's values are read
    // linearizably); settleSold also finds it alone.
    const other = await sell("k2", ["A2"]);
    const first = await s.confirm("u1", "c2", { holdId: other, settle: false });
    const again = await s.confirm("u1", "c2", { holdId: other, settle: false });
    expect(again).toMatchObject({ ok: true, replayed: true, value: { seats: ["seat/ev/A/A2"] } });
    if (!again.ok || !first.ok) throw new Error("replay failed");
    expect(again.value.sold).toEqual(first.value.sold);
    expect(await s.settleSold(other)).toMatchObject({ ok: true, value: { state: "sold" } });
    expect(await state("A2")).toBe("sold");
  });

  it("retries a step whose outcome was unknown or unavailable, a bounded number of times", async () => {
    const c = cluster();
    const req = { eventId: "ev", seats: seats("A1") };
    expect(await c.provider({ status: "unknown", times: 3 }).hold("u1", "k1", req)).toMatchObject({
      ok: true,
    });
    expect(
      await c
        .provider({ status: "unavailable", times: 3 })
        .hold("u2", "k1", { ...req, seats: seats("A2") }),
    ).toMatchObject({ ok: true });
    expect(
      await c
        .provider({ status: "unknown", times: 4 })
        .hold("u3", "k1", { ...req, seats: seats("A3") }),
    ).toMatchObject({ ok: false, code: "unknown", status: 503 });
    expect(
      await c
        .provider({ status: "unavailable", times: 4 })
        .hold("u4", "k1", { ...req, seats: seats("A4") }),
    ).toMatchObject({ ok: false, code: "unavailable", status: 503 });
  });

  it("reads seats locally or through a quorum, and says when it cannot", async () => {
    const c = cluster();
    const s = c.provider();
    await s.hold("u1", "k1", { eventId: "ev", seats: seats("A1") });
    const local = await s.seats("ev", seats("A1"));
    expect(local).toMatchObject({
      ok: true,
      value: [{ key: "seat/ev/A/A1", seat: { state: "held" } }],
    });
    const cut = cluster();
    cut.acceptors[0] = down;
    cut.acceptors[1] = down;
    expect(await cut.provider().seats("ev", seats("A1"), "quorum")).toMatchObject({
      ok: false,
      code: "unavailable",
      status: 503,
    });
    expect(await cut.provider().settle("h1")).toMatchObject({ ok: false, code: "unavailable" });
  });

  it("answers a release exactly, and says when a store quorum is out of reach", async () => {
    const c = cluster();
    const s = c.provider();
    const h = await s.hold("u1", "k1", { eventId: "ev", seats: seats("A1") });
    if (!h.ok) throw new Error("hold failed");
    const cut = c.provider({ status: "unavailable", times: 99 });
    expect(await cut.release("u1", h.value.holdId)).toMatchObject({
      ok: false,
      code: "unavailable",
      detail: "flaky",
    });
    expect(await cut.confirm("u1", "c1", { holdId: h.value.holdId })).toMatchObject({
      ok: false,
      code: "unavailable",
    });
    expect(
      await c.provider({ status: "unknown", times: 99 }).release("u1", h.value.holdId),
    ).toMatchObject({
      ok: false,
      code: "unknown",
      detail: "may or may not have happened: retry with the same idempotency key",
    });
    expect(await s.release("u1", h.value.holdId)).toEqual({
      ok: true,
      value: { holdId: h.value.holdId },
      replayed: false,
    });
  });

  it("writes no quota register for an event without a cap", async () => {
    const c = cluster();
    await c.provider().hold("u1", "k1", { eventId: "ev", seats: seats("A1") });
    const keys = [...(c.acceptors[0] as MemoryAcceptor).records.keys()];
    expect(keys.some((k) => k.startsWith("quota/"))).toBe(false);
  });

  it("settles a bare tombstone (a hold rolled back before its record existed) as expired, seatless", async () => {
    const c = cluster();
    const s = c.provider();
    c.advance(HOLD_TTL_MS + SKEW_MARGIN_MS + 1);
    await s.settle("hghost", { seats: ["seat/ev/A/A9"], expiresAtMs: 1_000_000 });
    expect(await s.settle("hghost")).toEqual({
      ok: true,
      replayed: false,
      value: { state: "expired", seats: [], changed: 0, foreign: [] },
    });
  });

  it("reads seats from the local store by default, from the majority with it down", async () => {
    const c = cluster();
    c.acceptors[0] = down;
    expect(await c.provider().seats("ev", seats("A1"))).toMatchObject({ ok: true });
    c.acceptors[1] = down;
    expect(await c.provider().seats("ev", seats("A1"))).toMatchObject({
      ok: false,
      code: "unavailable",
    });
  });

  it("tells a second attempt that the first is still running (409), until its claim is stale", async () => {
    const c = cluster();
    const req = { eventId: "ev", seats: seats("A1") };
    // The first attempt's change landed on the claim only (cut short), moments ago.
    const raw = (c.provider() as unknown as { client: QuorumClient }).client;
    const claim = {
      op: "hold",
      hash: requestHash({ op: "hold", seats: seatKeys("ev", req.seats) }),
      id: "hfirst",
      startedAtMs: c.now(),
      expiresAtMs: c.now() + HOLD_TTL_MS,
    };
    expect((await raw.change(["idem/u1/k1"], () => ({ values: [claim] }))).status).toBe("ok");
    expect(await c.provider().hold("u1", "k1", req)).toMatchObject({
      ok: false,
      code: "in-flight",
      status: 409,
    });
    // Once the claim is stale, a retry takes it over under its hold id and finishes the hold.
    c.advance(30_000);
    expect(await c.provider().hold("u1", "k1", req)).toMatchObject({
      ok: true,
      value: { holdId: "hfirst" },
    });
  });
});
