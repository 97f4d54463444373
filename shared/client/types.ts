import type {
  CreateEventInput,
  Event,
  EventStatus,
  EventVisibility,
  UpdateEventInput,
} from "../domain/event.ts";
import type { Money } from "../domain/money.ts";
import type { CardInput, Order } from "../domain/order.ts";
import type {
  GeneralAdmissionArea,
  SeatCategory,
  SeatingPlan,
  SeatingPlanInput,
} from "../domain/seating-plan.ts";
import type { CreateVenueInput, UpdateVenueInput, Venue } from "../domain/venue.ts";
import type { TicketExport } from "../tickets/export.ts";
import type { RevocationFeed } from "../tickets/revocation-feed.ts";

/** Response shapes of the API (the OpenAPI document at /openapi.json is the reference). */

export type {
  CardInput,
  CreateEventInput,
  CreateVenueInput,
  Event,
  Money,
  RevocationFeed,
  SeatingPlan,
  SeatingPlanInput,
  TicketExport,
  UpdateEventInput,
  UpdateVenueInput,
  Venue,
};

export interface Page<T> {
  items: T[];
  /** Present when more items follow: pass it as `cursor`. */
  nextCursor?: string;
}

export interface PageOptions {
  cursor?: string;
  /** 1-100. */
  limit?: number;
}

export interface EventListItem {
  id: string;
  theaterId: string;
  title: string;
  startsAt: string;
  status: EventStatus;
  visibility: EventVisibility;
}

export type PublicEvent = Omit<Event, "allowedBuyers">;

export type SeatStatus = "available" | "held" | "sold";
interface Counts {
  available: number;
  held: number;
  sold: number;
}

export interface SeatMap {
  eventId: string;
  planId: string;
  name: string;
  size: { width: number; height: number };
  categories: (SeatCategory & Counts & { price: Money | null })[];
  sections: {
    id: string;
    name: string;
    rows: {
      id: string;
      label: string;
      seats: {
        id: string;
        label: string;
        x: number;
        y: number;
        category: string;
        status: SeatStatus;
      }[];
    }[];
  }[];
  generalAdmission: (GeneralAdmissionArea & Counts & { availablePlaces: string[] })[];
  totals: Counts;
}

/** A seat (or general-admission place): section (or area) id plus seat (or place) id. */
export interface SeatRef {
  sectionId: string;
  seatId: string;
}

export interface Hold {
  holdId: string;
  eventId: string;
  seats: SeatRef[];
  state: "held" | "sold" | "released" | "expired";
  expiresAt?: string;
  total?: Money;
  orderId?: string;
}

export interface ProceedsShare {
  party: string;
  amount: Money;
}

export type BuyerOrder = Order & { proceeds: ProceedsShare[]; holdId: string };

export interface IssuedTicket {
  id: string;
  orderId: string;
  eventId: string;
  claims: Record<string, unknown>;
  ticket: { payload: string; signatures: { protected: string; signature: string }[] };
  /** Door form for a QR code. */
  compact: string;
  /** `revoked` once the order was refunded: the ticket admits no one. */
  status: "valid" | "revoked";
  /** The co-signed revocation, when revoked. */
  revocation?: { payload: string; signatures: { protected: string; signature: string }[] };
}

/** What an event's cancellation has done so far (POST /v1/manage/events/{id}/cancel). */
export interface CancelProgress {
  eventId: string;
  status: "cancelling" | "cancelled";
  orders: { refunded: number; remaining: number; failed: { orderId: string; problem: string }[] };
}

export interface Purchase {
  order: BuyerOrder;
  tickets: IssuedTicket[];
  /** True when fewer than two providers vouched for the tickets yet: fetch the order again. */
  ticketsPending: boolean;
}

/** A plan's metadata, without its seats (OpenAPI `PlanMeta`). */
export interface PlanMeta {
  id: string;
  theaterId: string;
  name: string;
  size: { width: number; height: number };
  categories: SeatCategory[];
  sections: { id: string; name: string; rows: number; seatCount: number; chunks: number }[];
  generalAdmission: GeneralAdmissionArea[];
  seatCount: number;
}

export type ManagedOrder = Order & { proceeds?: ProceedsShare[] };

export interface EventSummary {
  eventId: string;
  status: EventStatus;
  seats: { total: number; sold: number; held: number; available: number };
  orders: { confirmed: number; refunded: number; other: number };
  revenue: Money;
  refunded: Money;
  proceeds: ProceedsShare[];
}

export interface StoredBackup {
  id: string;
  href: string;
  createdAt: string;
  parts: number;
  bytes: number;
  provider: string;
}
