import type { Buyer } from "./oidc.ts";

/**
 * Authorisation rules as plain predicates: routes ask these after authentication, so the rules
 * live in one place and are tested without HTTP.
 */

/** A theater manages only what it owns; there is no cross-theater access, not even read. */
export function canTheaterAccess(theaterId: string, resource: { theaterId: string }): boolean {
  return resource.theaterId === theaterId;
}

export type EventVisibility = "public" | "signed-in" | "authorised";

/**
 * public: anyone; signed-in: any authenticated buyer; authorised: only buyers on the event's list
 * (a members' pre-sale, a private screening).
 */
export function canBuyerSeeEvent(
  buyer: Pick<Buyer, "sub"> | undefined,
  event: { visibility: EventVisibility; allowedBuyers?: readonly string[] },
): boolean {
  switch (event.visibility) {
    case "public":
      return true;
    case "signed-in":
      return buyer !== undefined;
    case "authorised":
      return buyer !== undefined && (event.allowedBuyers ?? []).includes(buyer.sub);
    default:
      // An unknown visibility from a newer writer: hide rather than leak.
      return false;
  }
}

export function canBuyerAccessOrder(
  buyer: Pick<Buyer, "sub"> | undefined,
  order: { buyerId: string },
): boolean {
  return buyer !== undefined && order.buyerId === buyer.sub;
}
