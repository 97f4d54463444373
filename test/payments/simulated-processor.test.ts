import { describe, expect, it } from "vitest";
import type { CardInput } from "../../shared/domain/order.ts";
import { luhnValid } from "../../shared/payments/card.ts";
import type { AuthorizeRequest } from "../../shared/payments/port.ts";
import {
  DELAYED_FAILURE_MS,
  SimulatedCardProcessor,
  TEST_CARDS,
} from "../../shared/payments/simulated-processor.ts";

const NOW = Date.parse("2026-03-10T12:00:00Z");
const eur = (amount: number) => ({ amount, currency: "EUR" as const });
const card = (number: string, over: Partial<CardInput> = {}): CardInput => ({
  number,
  expMonth: 12,
  expYear: 2030,
  cvc: "123",
  ...over,
});

function setup() {
  const sleeps: number[] = [];
  const provider = new SimulatedCardProcessor({
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  let n = 0;
  const req = (number: string, over: Partial<AuthorizeRequest> = {}): AuthorizeRequest => ({
    orderId: "o1",
    amount: eur(5800),
    card: card(number),
    idempotencyKey: `key-${++n}`,
    ...over,
  });
  return { provider, sleeps, req };
}

describe("SimulatedCardProcessor", () => {
  it("documents Luhn-valid test cards", () => {
    for (const n of Object.values(TEST_CARDS)) expect(luhnValid(n), n).toBe(true);
    expect(luhnValid("4242424242424241")).toBe(false);
  });

  it("authorises and captures the success card", async () => {
    const { provider, req } = setup();
    const a = await provider.authorize(req(TEST_CARDS.success));
    expect(a.status).toBe("authorized");
    if (a.status !== "authorized") return;
    expect(provider.get(a.paymentId)).toMatchObject({
      status: "authorized",
      cardLast4: "4242",
      amount: eur(5800),
      createdAt: "2026-03-10T12:00:00.000Z",
    });
    expect(await provider.capture(a.paymentId, eur(5800))).toEqual({
      status: "captured",
      paymentId: a.paymentId,
      captured: eur(5800),
    });
    expect(provider.get(a.paymentId)?.status).toBe("captured");
    // Nothing keeps the full card number.
    expect([...provider.state.values()].join()).not.toContain(TEST_CARDS.success);
  });

  it("declines, reports insufficient funds, and fails late with a processing error", async () => {
    const { provider, sleeps, req } = setup();
    expect(await provider.authorize(req(TEST_CARDS.declined))).toEqual({
      status: "declined",
      reason: "card_declined",
    });
    expect(await provider.authorize(req(TEST_CARDS.insufficientFunds))).toEqual({
      status: "declined",
      reason: "insufficient_funds",
    });
    expect(sleeps).toEqual([]);
    expect(await provider.authorize(req(TEST_CARDS.delayedFailure))).toMatchObject({
      status: "error",
      code: "processing_error",
      retryable: true,
    });
    expect(sleeps).toEqual([DELAYED_FAILURE_MS]);
  });

  it("declines mistyped and expired cards, and refuses zero amounts", async () => {
    const { provider, req } = setup();
    expect(await provider.authorize(req("4242424242424241"))).toEqual({
      status: "declined",
      reason: "invalid_card",
    });
    const expired = req(TEST_CARDS.success, {
      card: card(TEST_CARDS.success, { expMonth: 2, expYear: 2026 }),
    });
    expect(await provider.authorize(expired)).toEqual({
      status: "declined",
      reason: "expired_card",
    });
    const thisMonth = req(TEST_CARDS.success, {
      card: card(TEST_CARDS.success, { expMonth: 3, expYear: 2026 }),
    });
    expect((await provider.authorize(thisMonth)).status).toBe("authorized");
    expect(await provider.authorize(req(TEST_CARDS.success, { amount: eur(0) }))).toMatchObject({
      status: "error",
      code: "invalid_request",
    });
  });

  it("answers a repeated idempotency key with the first answer", async () => {
    const { provider, req } = setup();
    const r = req(TEST_CARDS.success, { idempotencyKey: "same" });
    const first = await provider.authorize(r);
    const again = await provider.authorize({ ...r });
    expect(again).toEqual(first);
    const payments = [...provider.state.keys()].filter((k) => k.includes("/payment/"));
    expect(payments).toHaveLength(1);

    const declined = req(TEST_CARDS.declined, { idempotencyKey: "d" });
    expect(await provider.authorize(declined)).toEqual(await provider.authorize(declined));

    expect(await provider.authorize({ ...r, amount: eur(1) })).toMatchObject({
      status: "error",
      code: "idempotency_conflict",
      retryable: false,
    });
  });

  it("shares one attempt between concurrent duplicates", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const provider = new SimulatedCardProcessor({
      now: () => NOW,
      sleep: async () => {
        calls++;
        await gate;
      },
    });
    const r: AuthorizeRequest = {
      orderId: "o1",
      amount: eur(100),
      card: card(TEST_CARDS.delayedFailure),
      idempotencyKey: "k",
    };
    const both = Promise.all([provider.authorize(r), provider.authorize({ ...r })]);
    release();
    const [a, b] = await both;
    expect(a).toEqual(b);
    expect(calls).toBe(1);
    // A transient failure is not remembered: a later retry tries again.
    await provider.authorize(r);
    expect(calls).toBe(2);
  });

  it("captures only an authorised payment, at most the authorised amount, once", async () => {
    const { provider, req } = setup();
    const a = await provider.authorize(req(TEST_CARDS.success));
    if (a.status !== "authorized") throw new Error();
    expect(await provider.capture("nope", eur(1))).toMatchObject({ code: "not_found" });
    expect(await provider.capture(a.paymentId, eur(5801))).toMatchObject({
      code: "amount_exceeds_authorized",
    });
    expect(await provider.capture(a.paymentId, { amount: 5800, currency: "USD" })).toMatchObject({
      code: "currency_mismatch",
    });
    expect(await provider.capture(a.paymentId, eur(0))).toMatchObject({ code: "invalid_amount" });
    expect((await provider.capture(a.paymentId, eur(5000))).status).toBe("captured");
    // The same capture again is a safe retry; a different one is not.
    expect((await provider.capture(a.paymentId, eur(5000))).status).toBe("captured");
    expect(await provider.capture(a.paymentId, eur(800))).toMatchObject({ code: "invalid_state" });
  });

  it("voids an authorisation but not a capture", async () => {
    const { provider, req } = setup();
    const a = await provider.authorize(req(TEST_CARDS.success));
    const b = await provider.authorize(req(TEST_CARDS.success));
    if (a.status !== "authorized" || b.status !== "authorized") throw new Error();
    expect(await provider.void(a.paymentId)).toEqual({ status: "voided", paymentId: a.paymentId });
    expect(await provider.void(a.paymentId)).toEqual({ status: "voided", paymentId: a.paymentId });
    expect(await provider.capture(a.paymentId, eur(1))).toMatchObject({ code: "invalid_state" });
    await provider.capture(b.paymentId, eur(5800));
    expect(await provider.void(b.paymentId)).toMatchObject({ code: "invalid_state" });
    expect(await provider.void("nope")).toMatchObject({ code: "not_found" });
  });

  it("refunds up to the captured amount, in parts", async () => {
    const { provider, req } = setup();
    const a = await provider.authorize(req(TEST_CARDS.success));
    if (a.status !== "authorized") throw new Error();
    expect(await provider.refund(a.paymentId, eur(1))).toMatchObject({ code: "invalid_state" });
    await provider.capture(a.paymentId, eur(5000));
    expect(await provider.refund(a.paymentId, eur(5001))).toMatchObject({
      code: "amount_exceeds_captured",
    });
    expect(await provider.refund(a.paymentId, eur(2000))).toEqual({
      status: "refunded",
      paymentId: a.paymentId,
      refunded: eur(2000),
      remaining: eur(3000),
    });
    expect(provider.get(a.paymentId)?.status).toBe("captured");
    expect(await provider.refund(a.paymentId, eur(3001))).toMatchObject({
      code: "amount_exceeds_captured",
    });
    expect(await provider.refund(a.paymentId, eur(3000))).toMatchObject({ remaining: eur(0) });
    expect(provider.get(a.paymentId)?.status).toBe("refunded");
    expect(await provider.refund(a.paymentId, eur(1))).toMatchObject({
      code: "amount_exceeds_captured",
    });
  });

  it("keeps its state in the injected map", async () => {
    const state = new Map<string, string>();
    const one = new SimulatedCardProcessor({ now: () => NOW, state });
    const a = await one.authorize({
      orderId: "o1",
      amount: eur(100),
      card: card(TEST_CARDS.success),
      idempotencyKey: "k",
    });
    if (a.status !== "authorized") throw new Error();
    const two = new SimulatedCardProcessor({ now: () => NOW, state });
    expect((await two.capture(a.paymentId, eur(100))).status).toBe("captured");
    const b = await two.authorize({
      orderId: "o2",
      amount: eur(100),
      card: card(TEST_CARDS.success),
      idempotencyKey: "k2",
    });
    expect(b.status === "authorized" && b.paymentId).not.toBe(a.paymentId);
  });
});
