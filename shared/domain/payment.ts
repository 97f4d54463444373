import { z } from "@hono/zod-openapi";
import { Id, IdempotencyKey, Instant } from "./ids.ts";
import { MONEY_AMOUNT_MAX, Money } from "./money.ts";

/**
 * A payment as a provider keeps it. Amounts are in minor units of `amount.currency`.
 * Lifecycle: authorized → captured (→ refunded once refunds reach the captured amount), or
 * authorized → voided. Partial refunds leave it "captured" with `refunded` > 0.
 */
export const PAYMENT_STATUSES = ["authorized", "captured", "voided", "refunded"] as const;
export const PaymentStatus = z.enum(PAYMENT_STATUSES);
export type PaymentStatus = z.infer<typeof PaymentStatus>;

const minor = z.number().int().min(0).max(MONEY_AMOUNT_MAX);

export const Payment = z
  .object({
    id: Id,
    orderId: Id,
    /** Authorised amount. */
    amount: Money,
    captured: minor,
    refunded: minor,
    status: PaymentStatus,
    /** Last four digits, for receipts and support; the full number is never kept. */
    cardLast4: z.string().regex(/^\d{4}$/),
    createdAt: Instant,
    idempotencyKey: IdempotencyKey,
  })
  .strict()
  .openapi("Payment");
export type Payment = z.infer<typeof Payment>;
