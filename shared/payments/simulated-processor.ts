import type { Money } from "../domain/money.ts";
import { type Payment, Payment as PaymentSchema } from "../domain/payment.ts";
import { cardExpired, luhnValid } from "./card.ts";
import type {
  AuthorizeRequest,
  AuthorizeResult,
  CaptureResult,
  PaymentPort,
  PaymentRejection,
  RefundResult,
  VoidResult,
} from "./port.ts";

/**
 * Card numbers with a fixed behaviour, as in the big processors' test modes. Any other number that
 * passes the Luhn check is authorised like 4242…; one that fails it is declined as invalid_card.
 */
export const TEST_CARDS = {
  /** Authorised. */
  success: "4242424242424242",
  /** Declined: card_declined. */
  declined: "4000000000000002",
  /** Declined: insufficient_funds. */
  insufficientFunds: "4000000000009995",
  /** Fails with a retryable processing_error after DELAYED_FAILURE_MS. */
  delayedFailure: "4000000000000341",
} as const;

/**
 * How long the delayed-failure card waits before failing: long enough that checkout's
 * "processing…" state and hold expiry during payment get exercised, short enough for a demo.
 */
export const DELAYED_FAILURE_MS = 3000;

export interface SimulatedCardProcessorOptions {
  /** Clock (ms since epoch): dates payments and checks card expiry. */
  readonly now: () => number;
  /** Waits `ms`; tests pass an instant one. Defaults to a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Where payments and idempotency records live, as JSON text under string keys, so a replicated
   * store can stand in later. A fresh Map by default.
   */
  readonly state?: Map<string, string>;
}

interface IdempotencyEntry {
  readonly fingerprint: string;
  readonly result: AuthorizeResult;
}

const SEQ_KEY = "test-payments/seq";
const paymentStateKey = (id: string) => `test-payments/payment/${id}`;
const idemStateKey = (key: string) => `test-payments/idem/${key}`;

const reject = (code: PaymentRejection["code"], message: string): PaymentRejection => ({
  status: "rejected",
  code,
  message,
});

/**
 * The built-in card processor, simulated: it moves no money. The default in local runs and tests,
 * and the one a deployment uses until a real processor is configured.
 */
export class SimulatedCardProcessor implements PaymentPort {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  readonly state: Map<string, string>;
  /** Authorisations under way, so a duplicate arriving meanwhile waits for the same answer. */
  private readonly inFlight = new Map<
    string,
    { readonly fingerprint: string; readonly run: Promise<AuthorizeResult> }
  >();

  constructor(options: SimulatedCardProcessorOptions) {
    this.now = options.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.state = options.state ?? new Map();
  }

  /** The stored payment, or undefined. */
  get(paymentId: string): Payment | undefined {
    const text = this.state.get(paymentStateKey(paymentId));
    return text === undefined ? undefined : PaymentSchema.parse(JSON.parse(text));
  }

  private put(p: Payment): void {
    this.state.set(paymentStateKey(p.id), JSON.stringify(p));
  }

  async authorize(req: AuthorizeRequest): Promise<AuthorizeResult> {
    // Card number as-is in the fingerprint would keep it; last four and expiry tell requests apart.
    const fingerprint = JSON.stringify([
      req.orderId,
      req.amount.amount,
      req.amount.currency,
      req.card.number.slice(-4),
      req.card.expMonth,
      req.card.expYear,
    ]);
    const conflict: AuthorizeResult = {
      status: "error",
      code: "idempotency_conflict",
      retryable: false,
      message: "this idempotency key was used for a different request",
    };
    const pending = this.inFlight.get(req.idempotencyKey);
    if (pending) return pending.fingerprint === fingerprint ? pending.run : conflict;
    const stored = this.state.get(idemStateKey(req.idempotencyKey));
    if (stored !== undefined) {
      const entry = JSON.parse(stored) as IdempotencyEntry;
      return entry.fingerprint === fingerprint ? entry.result : conflict;
    }
    const run = this.decide(req);
    this.inFlight.set(req.idempotencyKey, { fingerprint, run });
    try {
      const result = await run;
      // A transient failure is not remembered: the retry it invites must get a fresh attempt.
      if (result.status !== "error") {
        const entry: IdempotencyEntry = { fingerprint, result };
        this.state.set(idemStateKey(req.idempotencyKey), JSON.stringify(entry));
      }
      return result;
    } finally {
      this.inFlight.delete(req.idempotencyKey);
    }
  }

  private async decide(req: AuthorizeRequest): Promise<AuthorizeResult> {
    const { card, amount } = req;
    if (amount.amount <= 0) {
      return {
        status: "error",
        code: "invalid_request",
        retryable: false,
        message: "nothing to pay: the amount is zero",
      };
    }
    if (!luhnValid(card.number)) return { status: "declined", reason: "invalid_card" };
    if (cardExpired(card.expMonth, card.expYear, this.now())) {
      return { status: "declined", reason: "expired_card" };
    }
    switch (card.number) {
      case TEST_CARDS.declined:
        return { status: "declined", reason: "card_declined" };
      case TEST_CARDS.insufficientFunds:
        return { status: "declined", reason: "insufficient_funds" };
      case TEST_CARDS.delayedFailure:
        await this.sleep(DELAYED_FAILURE_MS);
        return {
          status: "error",
          code: "processing_error",
          retryable: true,
          message: "the card processor did not answer in time",
        };
    }
    const seq = Number(this.state.get(SEQ_KEY) ?? "0") + 1;
    this.state.set(SEQ_KEY, String(seq));
    const payment: Payment = {
      id: `pay_test_${seq}`,
      orderId: req.orderId,
      amount,
      captured: 0,
      refunded: 0,
      status: "authorized",
      cardLast4: card.number.slice(-4),
      createdAt: new Date(this.now()).toISOString(),
      idempotencyKey: req.idempotencyKey,
    };
    this.put(PaymentSchema.parse(payment));
    return { status: "authorized", paymentId: payment.id };
  }

  async capture(paymentId: string, amount: Money): Promise<CaptureResult> {
    const p = this.get(paymentId);
    if (!p) return reject("not_found", `no payment ${paymentId}`);
    if (amount.currency !== p.amount.currency) {
      return reject("currency_mismatch", `the payment is in ${p.amount.currency}`);
    }
    // Repeating a successful capture answers the same (a retry after a lost reply is safe).
    if (p.status === "captured" && p.captured === amount.amount && p.refunded === 0) {
      return { status: "captured", paymentId, captured: amount };
    }
    if (p.status !== "authorized") {
      return reject("invalid_state", `cannot capture a payment that is ${p.status}`);
    }
    if (amount.amount <= 0) return reject("invalid_amount", "capture a positive amount");
    if (amount.amount > p.amount.amount) {
      return reject("amount_exceeds_authorized", `only ${p.amount.amount} was authorised`);
    }
    this.put({ ...p, status: "captured", captured: amount.amount });
    return { status: "captured", paymentId, captured: amount };
  }

  async void(paymentId: string): Promise<VoidResult> {
    const p = this.get(paymentId);
    if (!p) return reject("not_found", `no payment ${paymentId}`);
    if (p.status === "voided") return { status: "voided", paymentId };
    if (p.status !== "authorized") {
      return reject("invalid_state", `cannot void a payment that is ${p.status}; refund it`);
    }
    this.put({ ...p, status: "voided" });
    return { status: "voided", paymentId };
  }

  async refund(paymentId: string, amount: Money): Promise<RefundResult> {
    const p = this.get(paymentId);
    if (!p) return reject("not_found", `no payment ${paymentId}`);
    if (amount.currency !== p.amount.currency) {
      return reject("currency_mismatch", `the payment is in ${p.amount.currency}`);
    }
    if (p.status !== "captured" && p.status !== "refunded") {
      return reject("invalid_state", `cannot refund a payment that is ${p.status}`);
    }
    if (amount.amount <= 0) return reject("invalid_amount", "refund a positive amount");
    const remaining = p.captured - p.refunded;
    if (amount.amount > remaining) {
      return reject("amount_exceeds_captured", `only ${remaining} can still be refunded`);
    }
    const refunded = p.refunded + amount.amount;
    this.put({ ...p, refunded, status: refunded === p.captured ? "refunded" : "captured" });
    return {
      status: "refunded",
      paymentId,
      refunded: { amount: refunded, currency: p.amount.currency },
      remaining: { amount: p.captured - refunded, currency: p.amount.currency },
    };
  }
}
