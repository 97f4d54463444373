import { z } from "@hono/zod-openapi";
import { MAX_PLAN_CATEGORIES } from "../plans/limits.ts";
import { MAX_SEATS_PER_BUYER } from "../seats/changes.ts";
import { int32 } from "./bounds.ts";
import { BuyerId, Id, Instant, instantMs } from "./ids.ts";
import { Money, sameMoney } from "./money.ts";
import { type DomainIssue, fromZodIssues } from "./result.ts";
import type { SeatingPlan } from "./seating-plan.ts";
import { Description, Name } from "./text.ts";

/**
 * Most buyers an "authorised" event can list: the event is one replicated record, and every store
 * keeps values small (DynamoDB items ≤ 400 KB); 1,000 subjects of ≤ 255 chars stay well within.
 * Larger closed sales need a separate allow-list.
 */
export const ALLOWED_BUYERS_MAX = 1000;

export const EVENT_STATUSES = ["draft", "on-sale", "sales-closed", "cancelled"] as const;
export const EventStatus = z.enum(EVENT_STATUSES);
export type EventStatus = z.infer<typeof EventStatus>;

/** Who may see and buy: everyone, any signed-in buyer, or only the listed `allowedBuyers`. */
export const EVENT_VISIBILITIES = ["public", "signed-in", "authorised"] as const;
export const EventVisibility = z.enum(EVENT_VISIBILITIES);
export type EventVisibility = z.infer<typeof EventVisibility>;

export const PriceCategory = z
  .object({ categoryId: Id, price: Money })
  .strict()
  .openapi("PriceCategory");
export type PriceCategory = z.infer<typeof PriceCategory>;

export const SalesWindow = z
  .object({ opensAt: Instant, closesAt: Instant })
  .strict()
  .refine((w) => instantMs(w.opensAt) < instantMs(w.closesAt), {
    message: "opensAt must be before closesAt",
    path: ["closesAt"],
  })
  .openapi("SalesWindow");
export type SalesWindow = z.infer<typeof SalesWindow>;

const PriceCategories = z
  .array(PriceCategory)
  .max(MAX_PLAN_CATEGORIES)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((p, i) => {
      if (seen.has(p.categoryId)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "categoryId"],
          message: `category ${p.categoryId} is priced twice`,
        });
      }
      seen.add(p.categoryId);
      const first = list[0];
      if (first && p.price.currency !== first.price.currency) {
        ctx.addIssue({
          code: "custom",
          path: [i, "price", "currency"],
          message: `all prices of an event must share one currency (${first.price.currency})`,
        });
      }
    });
  });

const AllowedBuyers = z.array(BuyerId).max(ALLOWED_BUYERS_MAX);

/** Bounded because every capped hold carries the record of each live hold it counts. */
const MaxSeatsPerBuyer = int32(1, MAX_SEATS_PER_BUYER).meta({
  description:
    "Most seats one buyer may hold and own at once for this event (held, plus bought and not " +
    "refunded); absent: no cap. Counts the holds made while a cap is set.",
});

const editableFields = {
  title: Name,
  description: Description,
  startsAt: Instant,
  venueId: Id,
  planId: Id,
  priceCategories: PriceCategories,
  salesWindow: SalesWindow,
  visibility: EventVisibility,
  allowedBuyers: AllowedBuyers,
  maxSeatsPerBuyer: MaxSeatsPerBuyer.optional(),
};

export const Event = z
  .object({
    id: Id,
    theaterId: Id,
    ...editableFields,
    status: EventStatus,
  })
  .strict()
  .openapi("Event");
export type Event = z.infer<typeof Event>;

export const CreateEventInput = z
  .object({
    ...editableFields,
    description: editableFields.description.default(""),
    visibility: editableFields.visibility.default("public"),
    allowedBuyers: editableFields.allowedBuyers.default([]),
  })
  .strict()
  .openapi("CreateEventInput");
export type CreateEventInput = z.input<typeof CreateEventInput>;

/** Every field optional; present fields replace the stored ones whole. */
export const UpdateEventInput = z
  .object({
    title: editableFields.title.optional(),
    description: editableFields.description.optional(),
    startsAt: editableFields.startsAt.optional(),
    venueId: editableFields.venueId.optional(),
    planId: editableFields.planId.optional(),
    priceCategories: editableFields.priceCategories.optional(),
    salesWindow: editableFields.salesWindow.optional(),
    visibility: editableFields.visibility.optional(),
    allowedBuyers: editableFields.allowedBuyers.optional(),
    /** null removes the cap. */
    maxSeatsPerBuyer: MaxSeatsPerBuyer.nullable().optional(),
  })
  .strict()
  .openapi("UpdateEventInput");
export type UpdateEventInput = z.input<typeof UpdateEventInput>;

export type EventResult =
  | { readonly ok: true; readonly event: Event }
  | { readonly ok: false; readonly errors: readonly DomainIssue[] };

const fail = (code: string, message: string, path = ""): EventResult => ({
  ok: false,
  errors: [{ path, code, message }],
});

/** A new event, always starting as a draft. */
export function newEvent(id: string, theaterId: string, input: unknown): EventResult {
  const parsed = CreateEventInput.safeParse(input);
  if (!parsed.success) return { ok: false, errors: fromZodIssues(parsed.error.issues) };
  const r = Event.safeParse({ id, theaterId, ...parsed.data, status: "draft" });
  if (!r.success) return { ok: false, errors: fromZodIssues(r.error.issues) };
  return { ok: true, event: r.data };
}

/**
 * Sales have started once the event left "draft" and its window opened: from then on buyers may
 * hold prices they were shown, so prices, the plan and the opening time are frozen.
 */
export function salesHaveStarted(event: Event, now: number): boolean {
  return event.status !== "draft" && now >= instantMs(event.salesWindow.opensAt);
}

function samePrices(a: readonly PriceCategory[], b: readonly PriceCategory[]): boolean {
  return (
    a.length === b.length &&
    a.every((p, i) => {
      const q = b[i];
      return q !== undefined && p.categoryId === q.categoryId && sameMoney(p.price, q.price);
    })
  );
}

/**
 * Applies an update, returning the new event or every reason it is refused. Resending an unchanged
 * value is never refused, so clients may send the whole object back.
 * Codes: event_cancelled, price_change_after_sales_open, plan_change_after_sales_open,
 * sales_open_change_after_sales_open, invalid_schema.
 */
export function applyEventUpdate(event: Event, input: unknown, now: number): EventResult {
  const parsed = UpdateEventInput.safeParse(input);
  if (!parsed.success) return { ok: false, errors: fromZodIssues(parsed.error.issues) };
  const u = parsed.data;
  if (event.status === "cancelled") return fail("event_cancelled", "a cancelled event is final");

  const errors: DomainIssue[] = [];
  if (salesHaveStarted(event, now)) {
    if (u.priceCategories && !samePrices(u.priceCategories, event.priceCategories)) {
      errors.push({
        path: "/priceCategories",
        code: "price_change_after_sales_open",
        message: "prices can only change before sales open",
      });
    }
    if (u.planId !== undefined && u.planId !== event.planId) {
      errors.push({
        path: "/planId",
        code: "plan_change_after_sales_open",
        message: "the seating plan can only change before sales open",
      });
    }
    if (u.salesWindow && u.salesWindow.opensAt !== event.salesWindow.opensAt) {
      errors.push({
        path: "/salesWindow/opensAt",
        code: "sales_open_change_after_sales_open",
        message: "sales already opened; only closesAt can still change",
      });
    }
  }
  if (errors.length > 0) return { ok: false, errors };

  const defined = Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined));
  const next: Record<string, unknown> = { ...event, ...defined };
  if (next.maxSeatsPerBuyer === null) delete next.maxSeatsPerBuyer;
  const r = Event.safeParse(next);
  if (!r.success) return { ok: false, errors: fromZodIssues(r.error.issues) };
  return { ok: true, event: r.data };
}

/**
 * Puts an event on sale (from "draft", or again from "sales-closed" while its window lasts). With
 * the plan given, also checks every category that has seats carries a price.
 * Codes: invalid_status, sales_window_over, no_prices, unpriced_category, unknown_category.
 */
export function openSales(event: Event, now: number, plan?: SeatingPlan): EventResult {
  if (event.status !== "draft" && event.status !== "sales-closed") {
    return fail(
      "invalid_status",
      `cannot open sales of an event that is ${event.status}`,
      "/status",
    );
  }
  const errors: DomainIssue[] = [];
  if (now >= instantMs(event.salesWindow.closesAt)) {
    errors.push({
      path: "/salesWindow/closesAt",
      code: "sales_window_over",
      message: "the sales window has already closed",
    });
  }
  if (event.priceCategories.length === 0) {
    errors.push({
      path: "/priceCategories",
      code: "no_prices",
      message: "no category has a price",
    });
  }
  if (plan) {
    const priced = new Set(event.priceCategories.map((p) => p.categoryId));
    const known = new Set(plan.categories.map((c) => c.id));
    const used = new Set<string>();
    for (const s of plan.sections)
      for (const r of s.rows) for (const seat of r.seats) used.add(seat.category);
    for (const g of plan.generalAdmission) used.add(g.category);
    for (const c of used) {
      if (!priced.has(c)) {
        errors.push({
          path: "/priceCategories",
          code: "unpriced_category",
          message: `category ${c} has seats but no price`,
        });
      }
    }
    event.priceCategories.forEach((p, i) => {
      if (!known.has(p.categoryId)) {
        errors.push({
          path: `/priceCategories/${i}/categoryId`,
          code: "unknown_category",
          message: `plan ${plan.id} has no category ${p.categoryId}`,
        });
      }
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, event: { ...event, status: "on-sale" } };
}

/** Stops sales (only from "on-sale"). Code: invalid_status. */
export function closeSales(event: Event): EventResult {
  if (event.status !== "on-sale") {
    return fail(
      "invalid_status",
      `cannot close sales of an event that is ${event.status}`,
      "/status",
    );
  }
  return { ok: true, event: { ...event, status: "sales-closed" } };
}

/** Cancels an event for good; orders are refunded by the caller. Code: invalid_status. */
export function cancelEvent(event: Event): EventResult {
  if (event.status === "cancelled") {
    return fail("invalid_status", "the event is already cancelled", "/status");
  }
  return { ok: true, event: { ...event, status: "cancelled" } };
}

/** Whether `buyer` (undefined when anonymous) may see the event. */
export function canSee(event: Event, buyer: string | undefined): boolean {
  if (event.visibility === "public") return true;
  if (buyer === undefined) return false;
  return event.visibility === "signed-in" || event.allowedBuyers.includes(buyer);
}

export type SaleCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: "not_visible" | "not_on_sale" | "sales_not_open_yet" | "sales_closed";
      readonly message: string;
    };

/** Whether `buyer` may hold or buy seats of `event` at `now`. */
export function checkSale(event: Event, buyer: string | undefined, now: number): SaleCheck {
  if (!canSee(event, buyer)) {
    return { ok: false, code: "not_visible", message: "this event is not open to you" };
  }
  if (event.status !== "on-sale") {
    return { ok: false, code: "not_on_sale", message: `the event is ${event.status}` };
  }
  if (now < instantMs(event.salesWindow.opensAt)) {
    return { ok: false, code: "sales_not_open_yet", message: "sales have not opened yet" };
  }
  if (now >= instantMs(event.salesWindow.closesAt)) {
    return { ok: false, code: "sales_closed", message: "sales have closed" };
  }
  return { ok: true };
}

/** The event's price of a category, or undefined when the category is not on sale. */
export function priceOf(event: Event, categoryId: string): Money | undefined {
  return event.priceCategories.find((p) => p.categoryId === categoryId)?.price;
}
