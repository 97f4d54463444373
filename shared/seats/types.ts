/** Values of the seat registers (JSON in the acceptors). A register never written reads as null. */

/** The order a sale commits, as the seat core carries it: JSON it neither reads nor changes. */
export type SaleOrder = Readonly<Record<string, unknown>>;

export type SeatValue =
  | { readonly state: "free" }
  | { readonly state: "held"; readonly holdId: string; readonly expiresAtMs: number }
  | { readonly state: "sold"; readonly orderId: string; readonly holdId: string };

/**
 * The hold record: the one register whose state decides a hold's fate. Seats only point at a hold;
 * whether a seat held by H is really taken is read here. held → sold | released | expired, and the
 * last three never change again, so a decision read from a terminal record stays true forever.
 */
export type HoldRecord =
  | {
      readonly state: "held";
      readonly seats: readonly string[];
      readonly expiresAtMs: number;
      readonly caller: string;
      readonly hash: string;
      /** The claim and (capped event) quota register the hold's change wrote with this record: a
       * confirm proves them too (decision 0007). Absent on a two-step record (created only after
       * its claim, locks and quota were chosen). */
      readonly claimKey?: string;
      readonly quotaKey?: string;
    }
  | {
      readonly state: "sold";
      readonly seats: readonly string[];
      readonly expiresAtMs: number;
      readonly caller: string;
      readonly hash: string;
      readonly orderId: string;
      /** The confirm request that sold it (so its retries replay instead of failing). */
      readonly confirm: { readonly key: string; readonly hash: string };
      /** The order the sale committed (its id is `orderId`): what its follow-ups record and what
       * each provider derives the tickets from. Opaque here; absent on older records. */
      readonly order?: SaleOrder;
      /** The buyer's subject (the ticket claims name it; `caller` is its keyed hash). */
      readonly holder?: string;
    }
  | {
      readonly state: "released";
      readonly seats: readonly string[];
      readonly expiresAtMs: number;
      readonly caller: string;
      readonly hash: string;
    }
  /** Rolled back by someone who found its seats past expiry; may lack details if never created. */
  | {
      readonly state: "expired";
      readonly seats?: readonly string[];
      /** The expiry it was rolled back for (the record's, or the seat's when it had none); absent
       * on records written before it was kept, which are then never swept. */
      readonly expiresAtMs?: number;
    };

/** An idempotency claim: the first request with a (caller, key) pins the body hash and the ids. */
export interface IdemRecord {
  readonly op: "hold" | "confirm";
  readonly hash: string;
  /** hold: the hold id; confirm: the order id chosen by the first attempt. */
  readonly id: string;
  readonly startedAtMs: number;
  /** hold only: the expiry pinned at the first attempt so every retry locks seats alike. */
  readonly expiresAtMs?: number;
}

/** A hold counted against a buyer's per-event cap, until its record says how it ended. */
export interface QuotaLive {
  readonly holdId: string;
  readonly n: number;
  readonly expiresAtMs: number;
  /** The idempotency key of the request that made it: a retry under that key that pinned another
   * hold id proves this one can never complete. */
  readonly key: string;
}

/**
 * `quota/<caller>/<eventId>`: what one buyer holds and owns of one capped event. Sold holds move
 * from `live` to `sold` (a refund removes them); released or expired ones are dropped. Both lists
 * stay short: each entry is at least one seat and every write kept the total within the cap (≤ 50).
 */
export interface QuotaRecord {
  readonly sold: readonly { readonly holdId: string; readonly n: number }[];
  readonly live: readonly QuotaLive[];
}

export type Register = SeatValue | HoldRecord | IdemRecord | QuotaRecord;
