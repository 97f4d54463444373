import type { ProviderId } from "../../shared/config.ts";
import type { SeatRef } from "../../shared/domain/keys.ts";

/**
 * What the flash-sale workload needs from "the system": hold seats, confirm a hold, release it,
 * each at a chosen provider. Implemented over the quorum protocol directly (SeatService in this
 * process, acting as a coordinator at each provider) and over the public HTTP API.
 */

export interface Buyer {
  /** Key-segment-safe id (the SeatService caller). */
  readonly id: string;
  /** Bearer token for the HTTP API (minted by the bench with the dev IdP key). */
  readonly token?: string;
}

export type BuyerOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly replayed: boolean }
  | {
      readonly ok: false;
      /** HTTP status, or 0 when the request never got an answer (connection lost, aborted). */
      readonly status: number;
      readonly code: string;
      /** 503 with Retry-After: "quorum short / outcome unknown, try again". */
      readonly retryAfter: boolean;
      /** Seat keys named as someone else's (409). */
      readonly taken?: readonly string[];
    };

export interface OpMeasure {
  /** Latency seen by the buyer (ms). */
  readonly latencyMs: number;
  /** t2 of the operation as its coordinator saw it (median over its changes), if known. */
  readonly t2Ms?: number;
  /** Quorum changes the operation made (protocol mode). */
  readonly changes?: number;
  /** Of the latency, the card processor's time, as the server reported it (HTTP confirms). */
  readonly processorMs?: number;
  /** Every step the server reported in Server-Timing (ms, summed by name). */
  readonly serverSteps?: Readonly<Record<string, number>>;
}

export interface HoldValue {
  readonly holdId: string;
  readonly seats: readonly string[];
}
export interface OrderValue {
  readonly orderId: string;
  readonly holdId: string;
}

export interface OpControl {
  /** The client gives up on the request after this long (chaos: killed mid-flight). */
  readonly abortAfterMs?: number;
}

export interface Measured<T> {
  readonly outcome: BuyerOutcome<T>;
  readonly measure: OpMeasure;
}

export interface SaleBackend {
  readonly name: string;
  readonly providers: readonly ProviderId[];
  buyer(n: number): Promise<Buyer>;
  hold(
    at: ProviderId,
    buyer: Buyer,
    idem: string,
    eventId: string,
    seats: readonly SeatRef[],
    ctl?: OpControl,
  ): Promise<Measured<HoldValue>>;
  confirm(
    at: ProviderId,
    buyer: Buyer,
    idem: string,
    holdId: string,
    ctl?: OpControl,
  ): Promise<Measured<OrderValue>>;
  release(
    at: ProviderId,
    buyer: Buyer,
    holdId: string,
    ctl?: OpControl,
  ): Promise<Measured<unknown>>;
  /**
   * The seats of `seats` that the live seat map at `at` shows free ("<section>/<seatId>"), or
   * null when it cannot be read. Buyers look at it before they leave a sale their map says is
   * sold out: a refusal (409) or an answer that never came can leave seats shown as taken that
   * came back (a hold cut short and refused, a release whose answer was lost).
   */
  freeOnMap(
    at: ProviderId,
    buyer: Buyer,
    eventId: string,
    seats: readonly SeatRef[],
  ): Promise<Set<string> | null>;
}

export const aborted = <T>(latencyMs: number): Measured<T> => ({
  outcome: { ok: false, status: 0, code: "aborted", retryAfter: false },
  measure: { latencyMs },
});
