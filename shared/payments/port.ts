import type { Money } from "../domain/money.ts";
import type { CardInput } from "../domain/order.ts";

/**
 * What the order flow needs from a card processor. Every business outcome (declined, not
 * capturable, too large a refund) is a value in the reply union; a method only rejects when the
 * processor itself is unreachable, which the caller treats like any other infrastructure failure.
 */
export interface PaymentPort {
  authorize(req: AuthorizeRequest): Promise<AuthorizeResult>;
  /** Takes `amount` (≤ the authorised amount) from an authorised payment, once. */
  capture(paymentId: string, amount: Money): Promise<CaptureResult>;
  /** Releases an authorisation that was not captured. */
  void(paymentId: string): Promise<VoidResult>;
  /** Returns money from a captured payment; refunds may repeat until they reach the capture. */
  refund(paymentId: string, amount: Money): Promise<RefundResult>;
}

export interface AuthorizeRequest {
  readonly orderId: string;
  readonly amount: Money;
  readonly card: CardInput;
  /**
   * Same key, same request → same answer, without a second authorisation. A key reused for a
   * different request is refused with `idempotency_conflict`.
   */
  readonly idempotencyKey: string;
}

export const DECLINE_REASONS = [
  "card_declined",
  "insufficient_funds",
  "expired_card",
  "invalid_card",
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

export type AuthorizeResult =
  | { readonly status: "authorized"; readonly paymentId: string }
  | { readonly status: "declined"; readonly reason: DeclineReason }
  /**
   * The processor could not decide. `processing_error` is transient: retrying with the same
   * idempotency key is safe and may succeed. `idempotency_conflict` (key reused for a different
   * request) and `invalid_request` (e.g. a zero amount) are not retryable.
   */
  | {
      readonly status: "error";
      readonly code: "processing_error" | "idempotency_conflict" | "invalid_request";
      readonly retryable: boolean;
      readonly message: string;
    };

export type PaymentRejection = {
  readonly status: "rejected";
  readonly code:
    | "not_found"
    | "invalid_state"
    | "currency_mismatch"
    | "amount_exceeds_authorized"
    | "amount_exceeds_captured"
    | "invalid_amount";
  readonly message: string;
};

export type CaptureResult =
  | { readonly status: "captured"; readonly paymentId: string; readonly captured: Money }
  | PaymentRejection;

export type VoidResult =
  | { readonly status: "voided"; readonly paymentId: string }
  | PaymentRejection;

export type RefundResult =
  | {
      readonly status: "refunded";
      readonly paymentId: string;
      /** Refunded so far, this refund included. */
      readonly refunded: Money;
      /** Still refundable. */
      readonly remaining: Money;
    }
  | PaymentRejection;
