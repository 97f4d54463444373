import { describe, expect, it } from "vitest";
import { QuorumClient } from "../../shared/quorum/client.ts";
import { HOLD_TTL_MS, SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import { holdOfOrder, SeatService, saleOrderId } from "../../shared/seats/service.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";

function cluster() {
  const acceptors = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
  let clock = 1_000_000;
  let n = 0;
  const provider = (id: string) => {
    let seed = id.charCodeAt(id.length - 1);
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const client = new QuorumClient({
      acceptors,
      proposerId: `${id}${n++}`,
      now: () => clock,
      random,
      sleep: async () => {},
    });
    const randomBytes = (k: number) => Uint8Array.from({ length: k }, () => (random() * 256) | 0);
    return new SeatService(client, { now: () => clock, randomBytes });
  };
  return {
    acceptors,
    provider,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const seats = (...ids: string[]) => ids.map((s) => ({ section: s[0]!, seatId: s }));

describe("SeatService", () => {
  it("holds all seats or none, across sections", async () => {
    const c = cluster();
    const a = c.provider("a");
    const h = await a.hold("u1", "k1", { eventId: "ev", seats: seats("A1", "B1") });
    expect(h).toMatchObject({ ok: true, value: { seats: ["seat/ev/A/A1", "seat/ev/B/B1"] } });
    const h2 = await c.provider("b").hold("u2", "k1", { eventId: "ev", seats: seats("B1", "C1") });
    expect(h2).toMatchObject({ ok: false, code: "taken", status: 409 });
    const c1 = await c.provider("c").seats("ev", seats("C1"), "quorum");
    expect(c1).toMatchObject({ ok: true, value: [{ seat: null }] });
  });

  it("a retry on another provider replays the same hold; a different body is 422", async () => {
    const c = cluster();
    const req = { eventId: "ev", seats: seats("A1") };
    const first = await c.provider("a").hold("u1", "k1", req);
    const again = await c.provider("b").hold("u1", "k1", req);
    expect(again).toMatchObject({ ok: true, replayed: true });
    if (first.ok && again.ok) expect(again.value.holdId).toBe(first.value.holdId);
    expect(
      await c.provider("c").hold("u1", "k1", { eventId: "ev", seats: seats("A2") }),
    ).toMatchObject({
      ok: false,
      status: 422,
    });
  });

  it("confirms a live hold into a sale; retries replay the same order", async () => {
    const c = cluster();
    const h = await c.provider("a").hold("u1", "k1", { eventId: "ev", seats: seats("A1", "A2") });
    if (!h.ok) throw new Error("hold failed");
    const o = await c.provider("b").confirm("u1", "c1", { holdId: h.value.holdId });
    expect(o).toMatchObject({ ok: true, value: { seats: ["seat/ev/A/A1", "seat/ev/A/A2"] } });
    const again = await c.provider("c").confirm("u1", "c1", { holdId: h.value.holdId });
    expect(again).toMatchObject({ ok: true, replayed: true });
    if (o.ok && again.ok) expect(again.value.orderId).toBe(o.value.orderId);
    const view = await c.provider("a").seats("ev", seats("A1", "A2"), "quorum");
    expect(view.ok && view.value.map((v) => v.seat?.state)).toEqual(["sold", "sold"]);
    expect(await c.provider("a").release("u1", h.value.holdId)).toMatchObject({
      ok: false,
      code: "sold",
    });
  });

  it("expiry: the seat is free for others only past the skew margin; a late confirm fails", async () => {
    const c = cluster();
    const h = await c.provider("a").hold("u1", "k1", { eventId: "ev", seats: seats("A1") });
    if (!h.ok) throw new Error("hold failed");
    c.advance(HOLD_TTL_MS + SKEW_MARGIN_MS);
    expect(
      await c.provider("b").hold("u2", "k2", { eventId: "ev", seats: seats("A1") }),
    ).toMatchObject({
      ok: false,
      code: "taken",
    });
    c.advance(1);
    const taken = await c.provider("b").hold("u2", "k3", { eventId: "ev", seats: seats("A1") });
    expect(taken).toMatchObject({ ok: true });
    expect(await c.provider("c").confirm("u1", "c1", { holdId: h.value.holdId })).toMatchObject({
      ok: false,
      code: "expired",
    });
  });

  it("release frees the seats at once", async () => {
    const c = cluster();
    const h = await c.provider("a").hold("u1", "k1", { eventId: "ev", seats: seats("A1") });
    if (!h.ok) throw new Error("hold failed");
    expect(await c.provider("a").release("u2", h.value.holdId)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(await c.provider("b").release("u1", h.value.holdId)).toMatchObject({ ok: true });
    expect(
      await c.provider("c").hold("u2", "k2", { eventId: "ev", seats: seats("A1") }),
    ).toMatchObject({ ok: true });
  });

  it("validates input", async () => {
    const c = cluster();
    expect(await c.provider("a").hold("u1", "k1", { eventId: "ev", seats: [] })).toMatchObject({
      status: 400,
    });
    expect(
      await c.provider("a").hold("u/1", "k1", { eventId: "ev", seats: seats("A1") }),
    ).toMatchObject({ status: 400 });
  });
});

describe("a sale's order id", () => {
  const random = (b: number) => new Uint8Array(12).fill(b);
  it("names its hold, and each attempt's id is its own", () => {
    const hold = `h${"x".repeat(16)}`;
    const a = saleOrderId(hold, random(1));
    const b = saleOrderId(hold, random(2));
    expect(a).not.toBe(b);
    expect(a).toMatch(/^o[A-Za-z0-9_-]{32}$/);
    expect(holdOfOrder(a)).toBe(hold);
    expect(holdOfOrder(b)).toBe(hold);
  });
  it("names no hold for a hold id of another shape, nor for other order ids", () => {
    const o = saleOrderId("legacy-hold", random(3));
    expect(o).toMatch(/^o[A-Za-z0-9_-]{16}$/);
    expect(holdOfOrder(o)).toBeNull();
    for (const id of [
      "o",
      "order-1",
      `o${"a".repeat(31)}`,
      `o${"a".repeat(33)}`,
      `x${"a".repeat(32)}`,
    ]) {
      expect(holdOfOrder(id)).toBeNull();
    }
  });
});
