import { describe, expect, it } from "vitest";
import smallPlan from "../../docs/examples/plan-small.json" with { type: "json" };
import {
  applyEventUpdate,
  cancelEvent,
  canSee,
  checkSale,
  closeSales,
  type Event,
  newEvent,
  openSales,
} from "../../shared/domain/event.ts";
import { validatePlan } from "../../shared/plans/validate.ts";

const plan = (() => {
  const r = validatePlan(smallPlan);
  if (!r.ok) throw new Error("example plan invalid");
  return r.plan;
})();

const OPENS = Date.parse("2026-03-01T10:00:00+01:00");
const CLOSES = Date.parse("2026-04-01T18:00:00+02:00");
const BEFORE = OPENS - 1000;
const DURING = OPENS + 1000;

const input = {
  title: "Hamlet",
  startsAt: "2026-04-01T19:30:00+02:00",
  venueId: "v1",
  planId: "small-hall",
  priceCategories: [
    { categoryId: "premium", price: { amount: 4500, currency: "EUR" } },
    { categoryId: "standard", price: { amount: 2900, currency: "EUR" } },
  ],
  salesWindow: { opensAt: "2026-03-01T10:00:00+01:00", closesAt: "2026-04-01T18:00:00+02:00" },
};

function draft(): Event {
  const r = newEvent("e1", "t1", input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.event;
}
function onSale(): Event {
  const r = openSales(draft(), BEFORE, plan);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.event;
}
const codes = (r: { ok: boolean; errors?: readonly { code: string }[] }) =>
  r.ok ? [] : (r.errors ?? []).map((e) => e.code);

describe("newEvent", () => {
  it("creates a public draft with defaults", () => {
    const e = draft();
    expect(e).toMatchObject({ id: "e1", theaterId: "t1", status: "draft", visibility: "public" });
    expect(e.description).toBe("");
    expect(e.allowedBuyers).toEqual([]);
  });

  it("lists every input problem", () => {
    const r = newEvent("e1", "t1", {
      ...input,
      startsAt: "2026-04-01 19:30",
      priceCategories: [
        { categoryId: "premium", price: { amount: 4500, currency: "EUR" } },
        { categoryId: "premium", price: { amount: 10, currency: "USD" } },
      ],
      salesWindow: { opensAt: input.salesWindow.closesAt, closesAt: input.salesWindow.opensAt },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path).sort()).toEqual(
      [
        "/priceCategories/1/categoryId",
        "/priceCategories/1/price/currency",
        "/salesWindow/closesAt",
        "/startsAt",
      ].sort(),
    );
  });
});

describe("applyEventUpdate", () => {
  const newPrices = [
    { categoryId: "premium", price: { amount: 5000, currency: "EUR" } },
    { categoryId: "standard", price: { amount: 2900, currency: "EUR" } },
  ];

  it("changes prices of a draft", () => {
    const r = applyEventUpdate(draft(), { priceCategories: newPrices }, DURING);
    expect(r.ok && r.event.priceCategories[0]!.price.amount).toBe(5000);
  });

  it("changes prices of an event on sale before its window opens", () => {
    const r = applyEventUpdate(onSale(), { priceCategories: newPrices }, BEFORE);
    expect(r.ok).toBe(true);
  });

  it("refuses a price change once sales opened", () => {
    const r = applyEventUpdate(onSale(), { priceCategories: newPrices }, DURING);
    expect(codes(r)).toEqual(["price_change_after_sales_open"]);
    const closed = closeSales(onSale());
    if (!closed.ok) throw new Error();
    expect(codes(applyEventUpdate(closed.event, { priceCategories: newPrices }, DURING))).toEqual([
      "price_change_after_sales_open",
    ]);
  });

  it("accepts unchanged prices and other fields after sales opened", () => {
    const e = onSale();
    const r = applyEventUpdate(
      e,
      {
        title: "Hamlet (new cast)",
        priceCategories: structuredClone(e.priceCategories),
        salesWindow: { opensAt: e.salesWindow.opensAt, closesAt: "2026-04-01T19:00:00+02:00" },
      },
      DURING,
    );
    expect(r.ok && r.event.title).toBe("Hamlet (new cast)");
    expect(r.ok && r.event.salesWindow.closesAt).toBe("2026-04-01T19:00:00+02:00");
  });

  it("lists every frozen field changed after sales opened", () => {
    const r = applyEventUpdate(
      onSale(),
      {
        priceCategories: newPrices,
        planId: "other-plan",
        salesWindow: { opensAt: "2026-03-02T10:00:00+01:00", closesAt: input.salesWindow.closesAt },
      },
      DURING,
    );
    expect(codes(r)).toEqual([
      "price_change_after_sales_open",
      "plan_change_after_sales_open",
      "sales_open_change_after_sales_open",
    ]);
  });

  it("refuses updates to a cancelled event and invalid input", () => {
    const c = cancelEvent(draft());
    if (!c.ok) throw new Error();
    expect(codes(applyEventUpdate(c.event, { title: "x" }, BEFORE))).toEqual(["event_cancelled"]);
    expect(codes(applyEventUpdate(draft(), { status: "on-sale" }, BEFORE))).toEqual([
      "invalid_schema",
    ]);
    expect(codes(applyEventUpdate(draft(), { title: "" }, BEFORE))).toEqual(["invalid_schema"]);
  });

  it("checks the merged event (window order)", () => {
    const r = applyEventUpdate(
      draft(),
      { salesWindow: { opensAt: input.salesWindow.opensAt, closesAt: input.salesWindow.opensAt } },
      BEFORE,
    );
    expect(codes(r)).toEqual(["invalid_schema"]);
  });

  it("sets, changes (also after sales opened) and removes the per-buyer seat cap", () => {
    const made = newEvent("e1", "t1", { ...input, maxSeatsPerBuyer: 4 });
    expect(made.ok && made.event.maxSeatsPerBuyer).toBe(4);
    for (const bad of [0, 51, 1.5, "4"]) {
      expect(newEvent("e1", "t1", { ...input, maxSeatsPerBuyer: bad }).ok).toBe(false);
    }
    const capped = applyEventUpdate(onSale(), { maxSeatsPerBuyer: 2 }, DURING);
    expect(capped.ok && capped.event.maxSeatsPerBuyer).toBe(2);
    if (!capped.ok) return;
    const removed = applyEventUpdate(capped.event, { maxSeatsPerBuyer: null }, DURING);
    expect(removed.ok && "maxSeatsPerBuyer" in removed.event).toBe(false);
    const kept = applyEventUpdate(capped.event, { title: "Hamlet II" }, DURING);
    expect(kept.ok && kept.event.maxSeatsPerBuyer).toBe(2);
  });
});

describe("sales transitions", () => {
  it("opens, closes, reopens and cancels", () => {
    const e = onSale();
    expect(e.status).toBe("on-sale");
    const closed = closeSales(e);
    expect(closed.ok && closed.event.status).toBe("sales-closed");
    if (!closed.ok) return;
    const reopened = openSales(closed.event, DURING, plan);
    expect(reopened.ok && reopened.event.status).toBe("on-sale");
    expect(codes(openSales(e, DURING))).toEqual(["invalid_status"]);
    expect(codes(closeSales(draft()))).toEqual(["invalid_status"]);
    const cancelled = cancelEvent(e);
    expect(cancelled.ok && cancelled.event.status).toBe("cancelled");
    if (!cancelled.ok) return;
    expect(codes(cancelEvent(cancelled.event))).toEqual(["invalid_status"]);
    expect(codes(openSales(cancelled.event, BEFORE))).toEqual(["invalid_status"]);
  });

  it("refuses to open sales that cannot sell", () => {
    const r = newEvent("e2", "t1", {
      ...input,
      priceCategories: [{ categoryId: "vip", price: { amount: 100, currency: "EUR" } }],
    });
    if (!r.ok) throw new Error();
    expect(codes(openSales(r.event, CLOSES, plan))).toEqual([
      "sales_window_over",
      "unpriced_category",
      "unpriced_category",
      "unknown_category",
    ]);
    const free = newEvent("e3", "t1", { ...input, priceCategories: [] });
    if (!free.ok) throw new Error();
    expect(codes(openSales(free.event, BEFORE))).toEqual(["no_prices"]);
  });

  it("lets buyers in only while on sale, in the window, and visible to them", () => {
    const e = onSale();
    expect(checkSale(e, undefined, BEFORE)).toMatchObject({
      ok: false,
      code: "sales_not_open_yet",
    });
    expect(checkSale(e, undefined, DURING)).toEqual({ ok: true });
    expect(checkSale(e, undefined, CLOSES)).toMatchObject({ ok: false, code: "sales_closed" });
    expect(checkSale(draft(), undefined, DURING)).toMatchObject({ ok: false, code: "not_on_sale" });

    const signedIn = { ...e, visibility: "signed-in" as const };
    expect(canSee(signedIn, undefined)).toBe(false);
    expect(checkSale(signedIn, "auth0|alice", DURING)).toEqual({ ok: true });
    const closedGroup = { ...e, visibility: "authorised" as const, allowedBuyers: ["auth0|alice"] };
    expect(checkSale(closedGroup, "auth0|bob", DURING)).toMatchObject({ code: "not_visible" });
    expect(checkSale(closedGroup, "auth0|alice", DURING)).toEqual({ ok: true });
  });
});
