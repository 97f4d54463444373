import { describe, expect, it } from "vitest";
import { DurablePayments } from "../../../../functions/services/payments.ts";
import { PROVIDERS } from "../../../../shared/config.ts";
import { MemoryAcceptor } from "../../../../shared/storage/memory.ts";
import { directStore } from "../../../support/seed.ts";
import { CARD_OK } from "./helpers.ts";

const now = () => Date.UTC(2026, 10, 25, 12);
const acceptors = Object.fromEntries(PROVIDERS.map((p) => [p, new MemoryAcceptor()])) as Record<
  (typeof PROVIDERS)[number],
  MemoryAcceptor
>;
// Two app instances (say Cloudflare and AWS) each with its own payment port over one cluster.
const a = new DurablePayments(directStore(acceptors, now), now);
const b = new DurablePayments(directStore(acceptors, now), now);
const eur = (amount: number) => ({ amount, currency: "EUR" as const });

describe("durable test payments", () => {
  it("an authorisation taken on one instance is captured and refunded on another", async () => {
    const req = { orderId: "h1", amount: eur(5000), card: CARD_OK, idempotencyKey: "pk-1" };
    const auth = await a.authorize(req);
    expect(auth.status).toBe("authorized");
    if (auth.status !== "authorized") return;
    expect(await b.authorize(req)).toEqual(auth);
    expect(await b.capture(auth.paymentId, eur(5000))).toMatchObject({ status: "captured" });
    expect(await a.refund(auth.paymentId, eur(2000))).toMatchObject({
      status: "refunded",
      remaining: eur(3000),
    });
    expect(await b.refund(auth.paymentId, eur(3001))).toMatchObject({
      status: "rejected",
      code: "amount_exceeds_captured",
    });
    expect(await b.get(auth.paymentId)).toMatchObject({
      id: auth.paymentId,
      status: "captured",
      captured: 5000,
      refunded: 2000,
    });
  });

  it("the same request authorised concurrently on two instances is one payment", async () => {
    const req = { orderId: "h2", amount: eur(100), card: CARD_OK, idempotencyKey: "pk-2" };
    const [x, y] = await Promise.all([a.authorize(req), b.authorize(req)]);
    expect(x).toEqual(y);
  });

  it("concurrent refunds on two instances never lose one", async () => {
    const req = { orderId: "h3", amount: eur(1000), card: CARD_OK, idempotencyKey: "pk-3" };
    const auth = await a.authorize(req);
    if (auth.status !== "authorized") throw new Error("not authorised");
    await a.capture(auth.paymentId, eur(1000));
    const rs = await Promise.all([
      a.refund(auth.paymentId, eur(300)),
      b.refund(auth.paymentId, eur(300)),
      a.refund(auth.paymentId, eur(300)),
    ]);
    expect(rs.every((r) => r.status === "refunded")).toBe(true);
    expect((await b.get(auth.paymentId))?.refunded).toBe(900);
  });

  it("a key reused for another request is a conflict; a void is final", async () => {
    const req = { orderId: "h4", amount: eur(700), card: CARD_OK, idempotencyKey: "pk-4" };
    const auth = await a.authorize(req);
    expect(await b.authorize({ ...req, amount: eur(701) })).toMatchObject({
      status: "error",
      code: "idempotency_conflict",
    });
    if (auth.status !== "authorized") throw new Error("not authorised");
    expect(await b.void(auth.paymentId)).toMatchObject({ status: "voided" });
    expect(await a.capture(auth.paymentId, eur(700))).toMatchObject({ code: "invalid_state" });
    expect(await a.capture("pay_unknown", eur(1))).toMatchObject({ code: "not_found" });
  });
});
