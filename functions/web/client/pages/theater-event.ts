import { ApiError, api, apiFetch, newIdempotencyKey } from "../api.ts";
import { type Counts, occupancyBar, soldLine } from "../chart.ts";
import { announce, byId, formatDateTime, h, replace } from "../dom.ts";
import { formatMoney, type Money } from "../money.ts";
import { busy, clearNotice, showError, showNotice, statusBadge } from "../ui.ts";
import { theaterGate } from "./theater-common.ts";
import {
  currencySelect,
  fromLocalInput,
  priceInputs,
  readPrices,
  toLocalInput,
} from "./theater-forms.ts";
import type { PlanBasics } from "./theater-home.ts";

/** `/theater/events/{id}`: edit, open/close sales, live dashboard, orders with refunds. */

/** Dashboard refresh while the page is visible: live enough for a box office, light on the API. */
const SUMMARY_POLL_MS = 5_000;
/** Points kept for the sales line (about an hour at the poll interval). */
const LINE_POINTS_MAX = 720;

interface ManagedEvent {
  id: string;
  title: string;
  description: string;
  startsAt: string;
  status: string;
  planId: string;
  venueId: string;
  priceCategories: { categoryId: string; price: Money }[];
  salesWindow: { opensAt: string; closesAt: string };
}
interface Summary {
  status: string;
  seats: Counts & { total: number };
  orders: { confirmed: number; refunded: number; other: number };
  revenue: Money;
  refunded: Money;
  proceeds: { party: string; amount: Money }[];
}
interface OrderSeat {
  sectionId: string;
  seatId: string;
  price: Money;
}
interface ManagedOrder {
  id: string;
  buyerId: string;
  seats: OrderSeat[];
  refundedSeats?: { sectionId: string; seatId: string }[];
  total: Money;
  status: string;
  createdAt: string;
}

/** A refund of the whole order, or of one of its seats. */
type Refund = (button: HTMLButtonElement, o: ManagedOrder, seat?: OrderSeat) => void;

export async function theaterEventPage(eventId: string): Promise<void> {
  await theaterGate();
  const notice = byId("manage-notice");
  const path = `/v1/manage/events/${encodeURIComponent(eventId)}`;
  // `ev` is set by the first load, before anything reads it.
  const page: ManagePage = {
    path,
    notice,
    ev: undefined as never,
    etag: undefined,
    plan: undefined,
  };
  try {
    await load(page);
    page.plan = await api<PlanBasics>(`/v1/manage/plans/${encodeURIComponent(page.ev.planId)}`, {
      auth: "theater",
    });
  } catch (e) {
    showError(notice, e);
    return;
  }
  const refreshSummary = summaryRefresher(path);

  fillForm(page);
  wireEditForm(page);
  wireSalesButtons(page, refreshSummary);

  await refreshSummary();
  window.setInterval(() => {
    if (document.visibilityState === "visible") void refreshSummary();
  }, SUMMARY_POLL_MS);

  const renderOrders = ordersRenderer(path, refreshSummary);
  byId<HTMLButtonElement>("orders-refresh").addEventListener("click", () => void renderOrders());
  wireCancelButton(page, async () => {
    await Promise.all([refreshSummary(), renderOrders()]);
  });
  await renderOrders();
}

interface CancelProgress {
  status: "cancelling" | "cancelled";
  orders: { refunded: number; remaining: number; failed: { orderId: string; problem: string }[] };
}

/** Calls to the cancellation one click makes before it reports what is left (each works ~20 s). */
const CANCEL_CALLS_MAX = 15;

/**
 * Two clicks, like a refund: the first arms the button, the second cancels the event and repeats
 * the call until every order is refunded (or it reports what failed and what remains).
 */
function wireCancelButton(page: ManagePage, refresh: () => Promise<void>): void {
  const button = byId<HTMLButtonElement>("cancel-event");
  button.addEventListener("click", () => {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = "Confirm: cancel and refund every order";
      announce("Press again to cancel the event and refund every order.");
      return;
    }
    void busy(button, async () => {
      clearNotice(page.notice);
      try {
        let p: CancelProgress | undefined;
        for (let i = 0; i < CANCEL_CALLS_MAX && p?.status !== "cancelled"; i++) {
          p = await api<CancelProgress>(`${page.path}/cancel`, { method: "POST", auth: "theater" });
        }
        const o = p?.orders;
        showNotice(
          page.notice,
          p?.status === "cancelled"
            ? `Event cancelled: ${o?.refunded ?? 0} order(s) refunded, every ticket revoked.`
            : `Cancelling: ${o?.refunded ?? 0} refunded, ${o?.remaining ?? 0} left (${o?.failed.length ?? 0} failed); press again to go on.`,
        );
        await load(page);
        await refresh();
      } catch (err) {
        showError(page.notice, err);
      }
    }).then(() => {
      button.dataset.armed = "false";
      button.textContent = "Cancel event";
      renderHead(page.ev);
    });
  });
}

/** The event as this page last read or saved it. */
interface ManagePage {
  path: string;
  notice: HTMLElement;
  ev: ManagedEvent;
  /** ETag of `ev`, sent with edits so one made meanwhile is not overwritten. */
  etag: string | undefined;
  plan: PlanBasics | undefined;
}

async function load(page: ManagePage): Promise<void> {
  const res = await apiFetch(page.path, { auth: "theater" });
  if (!res.ok) throw new ApiError(res.status, (await res.json()) as never);
  page.etag = res.headers.get("etag") ?? undefined;
  page.ev = (await res.json()) as ManagedEvent;
  renderHead(page.ev);
}

function renderHead(ev: ManagedEvent): void {
  document.title = `${ev.title} · Theater · Tessera`;
  byId("manage-title").textContent = ev.title;
  replace(
    byId("manage-meta"),
    h("time", { datetime: ev.startsAt }, formatDateTime(ev.startsAt)),
    " ",
    statusBadge(ev.status),
    " · ",
    h("a", { href: `/events/${encodeURIComponent(ev.id)}` }, "Buyer page"),
  );
  byId<HTMLButtonElement>("open-sales").disabled = !(
    ev.status === "draft" || ev.status === "sales-closed"
  );
  byId<HTMLButtonElement>("close-sales").disabled = ev.status !== "on-sale";
  byId<HTMLButtonElement>("cancel-event").disabled = ev.status === "cancelled";
}

// --- edit form ---

function fillForm({ ev, plan }: ManagePage): void {
  byId<HTMLInputElement>("edit-title").value = ev.title;
  byId<HTMLTextAreaElement>("edit-description").value = ev.description;
  byId<HTMLInputElement>("edit-starts-at").value = toLocalInput(ev.startsAt);
  byId<HTMLInputElement>("edit-closes-at").value = toLocalInput(ev.salesWindow.closesAt);
  // Prices freeze once sales started (the server refuses changes with 409); say so up front.
  const frozen = ev.status !== "draft" && Date.now() >= Date.parse(ev.salesWindow.opensAt);
  const currency = ev.priceCategories[0]?.price.currency ?? "EUR";
  replace(
    byId("edit-prices"),
    h("legend", {}, "Prices"),
    frozen ? h("p", { class: "muted" }, "Prices are fixed: sales have started.") : null,
    h(
      "p",
      { class: "field" },
      h("label", { for: "edit-currency" }, "Currency"),
      currencySelect("edit-currency", currency, frozen),
    ),
    priceInputs(
      plan?.categories ?? [],
      new Map(ev.priceCategories.map((p) => [p.categoryId, p.price])),
      frozen,
    ),
  );
}

function wireEditForm(page: ManagePage): void {
  const { path, notice } = page;
  const form = byId<HTMLFormElement>("edit-form");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    void busy(button, async () => {
      clearNotice(notice);
      try {
        const closesAt = fromLocalInput(byId<HTMLInputElement>("edit-closes-at").value);
        const startsAt = fromLocalInput(byId<HTMLInputElement>("edit-starts-at").value);
        const currency = byId<HTMLSelectElement>("edit-currency").value;
        const body: Record<string, unknown> = {
          title: byId<HTMLInputElement>("edit-title").value.trim(),
          description: byId<HTMLTextAreaElement>("edit-description").value,
          ...(startsAt ? { startsAt } : {}),
          ...(closesAt ? { salesWindow: { opensAt: page.ev.salesWindow.opensAt, closesAt } } : {}),
          priceCategories: byId<HTMLSelectElement>("edit-currency").disabled
            ? page.ev.priceCategories
            : readPrices(byId("edit-prices"), currency),
        };
        const res = await apiFetch(path, {
          method: "PATCH",
          auth: "theater",
          json: body,
          headers: page.etag ? { "if-match": page.etag } : {},
        });
        if (res.status === 412) {
          await load(page);
          fillForm(page);
          throw new Error(
            "someone else changed this event meanwhile; the form now shows their version",
          );
        }
        if (!res.ok) throw new ApiError(res.status, (await res.json()) as never);
        page.etag = res.headers.get("etag") ?? undefined;
        page.ev = (await res.json()) as ManagedEvent;
        renderHead(page.ev);
        fillForm(page);
        showNotice(notice, "Saved.");
      } catch (err) {
        showError(notice, err);
      }
    });
  });
}

function wireSalesButtons(page: ManagePage, refreshSummary: () => Promise<void>): void {
  const { path, notice } = page;
  for (const action of ["open-sales", "close-sales"] as const) {
    const button = byId<HTMLButtonElement>(action);
    button.addEventListener("click", () =>
      busy(button, async () => {
        clearNotice(notice);
        try {
          page.ev = await api<ManagedEvent>(`${path}/${action}`, {
            method: "POST",
            auth: "theater",
          });
          await load(page);
          fillForm(page);
          showNotice(notice, action === "open-sales" ? "Sales are open." : "Sales are closed.");
          void refreshSummary();
        } catch (err) {
          showError(notice, err);
        }
      }).then(() => renderHead(page.ev)),
    );
  }
}

// --- dashboard ---

/** Returns the function that fetches the sales summary and shows it, keeping the sales line. */
function summaryRefresher(path: string): () => Promise<void> {
  const line: { t: number; sold: number }[] = [];
  return async () => {
    try {
      const sum = await api<Summary>(`${path}/summary`, { auth: "theater" });
      line.push({ t: Date.now(), sold: sum.seats.sold });
      if (line.length > LINE_POINTS_MAX) line.shift();
      const numbers: [string, string, string?][] = [
        ["Sold", String(sum.seats.sold), "dash-sold"],
        ["Held", String(sum.seats.held), "dash-held"],
        ["Available", String(sum.seats.available), "dash-available"],
        ["Revenue", formatMoney(sum.revenue), "dash-revenue"],
        ["Refunded", formatMoney(sum.refunded)],
        ["Orders", `${sum.orders.confirmed} paid · ${sum.orders.refunded} refunded`],
      ];
      replace(
        byId("dash-numbers"),
        numbers.map(([label, value, id]) =>
          h("div", {}, h("dt", {}, label), h("dd", id ? { id } : {}, value)),
        ),
      );
      replace(byId("dash-bar"), occupancyBar(sum.seats));
      replace(byId("dash-line"), soldLine(line));
      replace(
        byId("dash-proceeds"),
        sum.proceeds.map((p) =>
          h("tr", {}, h("th", { scope: "row" }, p.party), h("td", {}, formatMoney(p.amount))),
        ),
      );
      byId("dashboard").setAttribute("aria-busy", "false");
    } catch (err) {
      showError(byId("dash-notice"), err);
    }
  };
}

// --- orders ---

/** Returns the function that lists the event's orders, each paid one with its refund button. */
function ordersRenderer(path: string, refreshSummary: () => Promise<void>): () => Promise<void> {
  const refundKeys = new Map<string, string>();
  const renderOrders = async () => {
    try {
      const page = await api<{ items: ManagedOrder[] }>(`${path}/orders?limit=100`, {
        auth: "theater",
      });
      replace(
        byId("orders-body"),
        page.items.length === 0
          ? h("tr", {}, h("td", { colspan: "6" }, "No orders yet."))
          : page.items.map((o) => orderRow(o, refund)),
      );
    } catch (err) {
      showError(byId("orders-notice"), err);
    }
  };
  // Two clicks: the first arms the button, the second refunds. No confirm() dialog, which screen
  // readers and automation handle badly.
  const refund: Refund = (button, o, seat) => {
    const amount = formatMoney(seat ? seat.price : o.total);
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = `Confirm refund of ${amount}`;
      announce(`Press again to refund ${amount}.`);
      return;
    }
    const what = seat ? `${o.id}/${seat.sectionId}/${seat.seatId}` : o.id;
    if (!refundKeys.has(what)) refundKeys.set(what, newIdempotencyKey());
    void busy(button, async () => {
      try {
        await api(`/v1/manage/orders/${encodeURIComponent(o.id)}/refund`, {
          method: "POST",
          auth: "theater",
          idempotencyKey: refundKeys.get(what)!,
          ...(seat
            ? { json: { seats: [{ sectionId: seat.sectionId, seatId: seat.seatId }] } }
            : {}),
        });
        showNotice(
          byId("orders-notice"),
          seat
            ? `Seat ${seat.seatId} of order ${o.id} refunded; it is back on sale, its ticket revoked.`
            : `Order ${o.id} refunded; its seats are back on sale.`,
        );
        await renderOrders();
        await refreshSummary();
      } catch (err) {
        showError(byId("orders-notice"), err);
      }
    });
  };
  return renderOrders;
}

/** The seats of an order; with more than one left, each can be refunded on its own. */
function seatsCell(o: ManagedOrder, refund: Refund): HTMLElement {
  const gone = (x: OrderSeat) =>
    (o.refundedSeats ?? []).some((r) => r.sectionId === x.sectionId && r.seatId === x.seatId);
  const left = o.seats.filter((x) => !gone(x));
  if (o.status !== "confirmed" || left.length < 2) return h("td", {}, String(o.seats.length));
  return h(
    "td",
    {},
    h(
      "ul",
      { class: "plain" },
      ...o.seats.map((x) =>
        h(
          "li",
          {},
          `${x.seatId} `,
          gone(x)
            ? "(refunded)"
            : h(
                "button",
                {
                  type: "button",
                  class: "link",
                  "data-seat": x.seatId,
                  "aria-label": `Refund seat ${x.seatId} (${formatMoney(x.price)})`,
                  onclick: (e: Event) => refund(e.currentTarget as HTMLButtonElement, o, x),
                },
                "Refund seat",
              ),
        ),
      ),
    ),
  );
}

function orderRow(o: ManagedOrder, refund: Refund): HTMLTableRowElement {
  const action =
    o.status === "confirmed"
      ? h(
          "button",
          {
            type: "button",
            "data-order": o.id,
            onclick: (e: Event) => refund(e.currentTarget as HTMLButtonElement, o),
          },
          "Refund",
        )
      : "–";
  return h(
    "tr",
    { "data-order": o.id },
    h("th", { scope: "row", class: "mono" }, o.id),
    h("td", {}, o.buyerId),
    seatsCell(o, refund),
    h("td", {}, formatMoney(o.total)),
    h("td", {}, o.status),
    h("td", {}, action),
  );
}
