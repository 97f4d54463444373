import { toBase64Url } from "../../shared/crypto/base64.ts";
import { paymentKey } from "../../shared/domain/keys.ts";
import type { Money } from "../../shared/domain/money.ts";
import type { Payment } from "../../shared/domain/payment.ts";
import type {
  AuthorizeRequest,
  AuthorizeResult,
  CaptureResult,
  PaymentPort,
  PaymentRejection,
  RefundResult,
  VoidResult,
} from "../../shared/payments/port.ts";
import { SimulatedCardProcessor } from "../../shared/payments/simulated-processor.ts";
import type { Services } from "./index.ts";
import type { EntityStore } from "./store.ts";

/**
 * The simulated card processor made durable across providers: an authorisation taken on one
 * provider may be captured, voided or refunded on another (a retried confirm, a refund from the management
 * API), so every payment's state lives in the replicated store at `payment/<paymentId>`.
 *
 * Each payment gets its own SimulatedCardProcessor state (a tiny Map) loaded from its record, so
 * the processor's rules (idempotency fingerprints, capture/void/refund transitions) are the library's,
 * not re-implemented here. Inside such a state the payment is always the provider's first one; its
 * public id is derived from the authorisation's idempotency key, so two providers authorising the
 * same request compute the same id and meet at the same record (the first write wins, the other
 * adopts it). Writes are compare-and-set on the loaded record: concurrent refunds never lose one.
 */

/** Id of the single payment inside one payment's own provider state (its sequence starts at 1). */
const INNER_ID = "pay_test_1";
/** Attempts of a read-modify-write that lost a race with another writer of the same payment. */
const CAS_ATTEMPTS_MAX = 5;
/** 32 base64url characters = 192 bits: payment ids never collide. */
const PAYMENT_ID_CHARS = 32;

export interface PaymentRecord {
  /** The processor's view of the payment under its public id; null after a decline. */
  readonly payment: Payment | null;
  /** The payment's SimulatedCardProcessor state entries (payment and idempotency record). */
  readonly state: Readonly<Record<string, string>>;
}

export async function paymentIdFor(idempotencyKey: string): Promise<string> {
  const d = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`authorize\n${idempotencyKey}`),
  );
  return `pay_${toBase64Url(new Uint8Array(d)).slice(0, PAYMENT_ID_CHARS)}`;
}

export class DurablePayments implements PaymentPort {
  constructor(
    private readonly store: EntityStore,
    private readonly now: () => number,
    private readonly sleep?: (ms: number) => Promise<void>,
  ) {}

  private provider(rec: PaymentRecord | null): SimulatedCardProcessor {
    return new SimulatedCardProcessor({
      now: this.now,
      ...(this.sleep ? { sleep: this.sleep } : {}),
      state: new Map(Object.entries(rec?.state ?? {})),
    });
  }

  private record(id: string, p: SimulatedCardProcessor): PaymentRecord {
    const inner = p.get(INNER_ID);
    return { payment: inner ? { ...inner, id } : null, state: Object.fromEntries(p.state) };
  }

  /** The stored payment, linearizably (null when unknown). */
  async get(paymentId: string): Promise<Payment | null> {
    return (await this.store.read<PaymentRecord>(paymentKey(paymentId)))?.payment ?? null;
  }

  async authorize(req: AuthorizeRequest): Promise<AuthorizeResult> {
    const id = await paymentIdFor(req.idempotencyKey);
    // Optimistic: decide on a fresh state and try to create the record in one round; when it
    // already exists (a retry, or another provider first), the stored state answers instead.
    const p = this.provider(null);
    let res = await p.authorize(req);
    // A transient failure is not remembered: the processor invites a retry.
    if (res.status === "error" && res.retryable) return res;
    const won = await this.store.createOnce(paymentKey(id), this.record(id, p));
    if (!won.created) res = await this.provider(won.value).authorize(req);
    return res.status === "authorized" ? { ...res, paymentId: id } : res;
  }

  capture(paymentId: string, amount: Money): Promise<CaptureResult> {
    return this.update(paymentId, (p) => p.capture(INNER_ID, amount));
  }

  void(paymentId: string): Promise<VoidResult> {
    return this.update(paymentId, (p) => p.void(INNER_ID));
  }

  refund(paymentId: string, amount: Money): Promise<RefundResult> {
    return this.update(paymentId, (p) => p.refund(INNER_ID, amount));
  }

  private async update<R extends CaptureResult | VoidResult | RefundResult>(
    id: string,
    op: (p: SimulatedCardProcessor) => Promise<R>,
  ): Promise<R | PaymentRejection> {
    const key = paymentKey(id);
    for (let attempt = 1; ; attempt++) {
      // Read-only: the change below re-checks the record, and a repairing read would spend the
      // promise this instance holds for the key since it created it.
      const stored = await this.store.read<PaymentRecord>(key);
      const p = this.provider(stored);
      if (stored?.payment == null) {
        return {
          status: "rejected",
          code: "not_found",
          message: `no payment ${id}`,
        } as unknown as R;
      }
      const res = await op(p);
      const next = this.record(id, p);
      const out: R = res.status === "rejected" ? res : { ...res, paymentId: id };
      if (JSON.stringify(next.state) === JSON.stringify(stored.state)) return out;
      const before = JSON.stringify(stored);
      const w = await this.store.change<PaymentRecord>([key], ([cur]) =>
        JSON.stringify(cur) === before ? [next] : { abort: "changed" },
      );
      if (w.ok) return out;
      if (attempt >= CAS_ATTEMPTS_MAX) {
        throw new Error(`payment ${id}: gave up after ${attempt} concurrent updates`);
      }
    }
  }
}

const instances = new WeakMap<Services, DurablePayments>();

/**
 * The durable payment port of an app instance. Every route that moves money must use this one (not
 * `s.payments`, whose state is one instance's memory) so that a refund finds its capture anywhere.
 */
export function paymentsFor(s: Services): DurablePayments {
  let p = instances.get(s);
  if (!p) {
    p = new DurablePayments(s.store, s.now);
    instances.set(s, p);
  }
  return p;
}
