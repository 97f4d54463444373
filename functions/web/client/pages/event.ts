import { ApiError, api, apiFetch, newIdempotencyKey } from "../api.ts";
import { buyerToken, signIn } from "../buyer-auth.ts";
import { config } from "../config.ts";
import { announce, byId, formatDateTime, h, replace, sleep } from "../dom.ts";
import { formatMoney, type Money } from "../money.ts";
import { type PlanLike, type PlanSeat, SeatMap, type SeatState, seatWhere } from "../seatmap.ts";
import { type TicketView, ticketCard } from "../tickets-view.ts";
import { busy, clearNotice, showError, showNotice, statusBadge } from "../ui.ts";
import { type GaArea, gaPicker } from "./ga-picker.ts";

/**
 * /events/{id}: the seat map, the hold with its countdown, payment, and the tickets.
 *
 * State survives a reload and the round trip through sign-in: the chosen seats and a live hold are
 * kept in sessionStorage for this event.
 */

/** How often the seat map asks for fresh availability while the page is visible. */
const SEAT_POLL_MS = 3_000;
/** MAX_SEATS_PER_HOLD on the server: one hold is one quorum batch. */
const MAX_SEATS = 20;
/** Re-issue attempts for tickets still waiting for a second signature, and the pause between. */
const REISSUE_ATTEMPTS = 10;
const REISSUE_PAUSE_MS = 2_000;

interface PublicEvent {
  id: string;
  title: string;
  description?: string;
  startsAt: string;
  status: string;
  priceCategories: { categoryId: string; price: Money }[];
}

/** GET /v1/events/{id}/seats (functions/routes/v1/catalog.ts SeatMap): the plan, live. */
interface SeatMapBody extends PlanLike {
  sections: {
    id: string;
    name: string;
    rows: { id: string; label: string; seats: (PlanSeat & { status: SeatState })[] }[];
  }[];
  generalAdmission: GaArea[];
  totals: { available: number; held: number; sold: number };
}

/** POST /v1/events/{id}/holds (functions/routes/v1/buyer/holds.ts HoldView): the hold. */
interface HoldJson {
  holdId: string;
  eventId: string;
  seats: { sectionId: string; seatId: string }[];
  state: string;
  expiresAt?: string;
  total?: Money;
}

interface Purchase {
  order: { id: string; total: Money; status: string };
  tickets: TicketView[];
  ticketsPending: boolean;
}

/** A line of the selection: a numbered seat or a general-admission place. */
interface Pick {
  key: string;
  sectionId: string;
  seatId: string;
  text: string;
  categoryId: string;
  remove: () => void;
}

interface SavedState {
  selection?: string[];
  hold?: HoldJson;
  /** Idempotency-Key of this hold's payment: the same across retries, reloads and providers. */
  payKey?: string;
}

const stateKey = (eventId: string) => `tessera.event.${eventId}`;
function loadState(eventId: string): SavedState {
  try {
    return JSON.parse(sessionStorage.getItem(stateKey(eventId)) ?? "{}") as SavedState;
  } catch {
    return {};
  }
}
const saveState = (eventId: string, st: SavedState) =>
  sessionStorage.setItem(stateKey(eventId), JSON.stringify(st));

/** Taken seats of a seat map, as "<section>/<seat>" → held | sold. */
function takenOf(map: SeatMapBody): Map<string, SeatState> {
  const out = new Map<string, SeatState>();
  for (const sec of map.sections) {
    for (const row of sec.rows) {
      for (const seat of row.seats) {
        if (seat.status !== "available") out.set(`${sec.id}/${seat.id}`, seat.status);
      }
    }
  }
  return out;
}

/**
 * The whole seat map. A house above the server's per-response limit answers 400 with its list of
 * sections; then each section is fetched on its own and the parts are merged.
 */
async function fetchSeatMap(
  eventId: string,
  auth: "buyer" | "none",
  etag: string | undefined,
): Promise<{ body: SeatMapBody; etag?: string } | undefined> {
  const base = `/v1/events/${encodeURIComponent(eventId)}/seats`;
  const res = await apiFetch(base, { auth, headers: etag ? { "if-none-match": etag } : {} });
  if (res.status === 304) return undefined;
  if (res.ok) {
    const tag = res.headers.get("etag");
    return { body: (await res.json()) as SeatMapBody, ...(tag ? { etag: tag } : {}) };
  }
  const problem = (await res.json().catch(() => ({}))) as { sections?: string[] };
  if (res.status !== 400 || !Array.isArray(problem.sections)) {
    throw new ApiError(res.status, problem);
  }
  const parts = await Promise.all(
    problem.sections.map((sec) =>
      api<SeatMapBody>(`${base}?section=${encodeURIComponent(sec)}`, { auth }),
    ),
  );
  const first = parts[0]!;
  const body: SeatMapBody = {
    ...first,
    sections: parts.flatMap((p) => p.sections),
    generalAdmission: parts.flatMap((p) => p.generalAdmission),
    totals: {
      available: parts.reduce((n, p) => n + p.totals.available, 0),
      held: parts.reduce((n, p) => n + p.totals.held, 0),
      sold: parts.reduce((n, p) => n + p.totals.sold, 0),
    },
  };
  return { body };
}

export async function eventPage(eventId: string): Promise<void> {
  const notice = byId("event-notice");
  const auth = () => (buyerToken() ? ("buyer" as const) : ("none" as const));
  const loaded = await loadEvent(eventId, auth, notice);
  if (!loaded) return;
  const { ev, first } = loaded;

  const plan: SeatMapBody = first.body;
  const prices = new Map(ev.priceCategories.map((p) => [p.categoryId, p.price]));
  const onSale = ev.status === "on-sale";
  const saved = loadState(eventId);

  const picks = (): Pick[] => [
    ...map.selected().map((seat) => ({
      key: seat.key,
      sectionId: seat.sectionId,
      seatId: seat.seatId,
      text: seatWhere(seat),
      categoryId: seat.categoryId,
      remove: () => map.toggle(seat.key),
    })),
    ...ga.picked(),
  ];
  const renderSelection = selectionRenderer(eventId, prices, onSale, picks, () => map);

  const map = new SeatMap(plan, {
    selectable: onSale,
    prices,
    maxSelected: MAX_SEATS,
    onChange: () => renderSelection(),
    onLimit: () => announce(`At most ${MAX_SEATS} seats per purchase.`),
  });
  const ga = gaPicker(byId("ga-areas"), plan.categories, prices, onSale, () => renderSelection());
  map.mount(byId("seatmap"));
  renderLegend(byId("legend"), plan, prices);
  if (!onSale) showNotice(notice, `Tickets are not on sale (${ev.status.replaceAll("-", " ")}).`);

  const refresh = watchAvailability(eventId, auth, first, map, ga);

  if (saved.selection && !saved.hold) map.select(saved.selection);
  else renderSelection();

  const view: EventView = {
    eventId,
    ev,
    notice,
    map,
    refresh,
    holdPanel: byId("hold-panel"),
    choosePanel: byId("choose-panel"),
    ticketsPanel: byId("tickets-panel"),
    countdown: undefined,
  };
  wireChoiceButtons(view, ga, picks);
  wireRelease(view);
  wirePayment(view);

  if (saved.hold) {
    const exp = saved.hold.expiresAt ? Date.parse(saved.hold.expiresAt) : 0;
    if (exp > Date.now()) showHold(view, saved.hold);
    else saveState(eventId, {});
  }
}

/** What the hold, payment and ticket parts of the page share once the seat map is up. */
interface EventView {
  eventId: string;
  ev: PublicEvent;
  notice: HTMLElement;
  map: SeatMap;
  /** Fetches availability now (unless a fetch is under way) and shows it. */
  refresh: () => Promise<void>;
  holdPanel: HTMLElement;
  choosePanel: HTMLElement;
  ticketsPanel: HTMLElement;
  /** The hold's countdown timer, while one runs. */
  countdown: number | undefined;
}

/** Loads the event and its first seat map and shows the event's details; else says why not. */
async function loadEvent(
  eventId: string,
  auth: () => "buyer" | "none",
  notice: HTMLElement,
): Promise<{ ev: PublicEvent; first: { body: SeatMapBody; etag?: string } } | undefined> {
  const title = byId("event-title");
  let ev: PublicEvent;
  let first: { body: SeatMapBody; etag?: string } | undefined;
  try {
    [ev, first] = await Promise.all([
      api<PublicEvent>(`/v1/events/${encodeURIComponent(eventId)}`, { auth: auth() }),
      fetchSeatMap(eventId, auth(), undefined),
    ]);
    if (!first) throw new Error("the seat map did not load");
  } catch (e) {
    title.textContent =
      e instanceof ApiError && e.status === 404 ? "Event not found" : "Event unavailable";
    showError(notice, e);
    return undefined;
  }
  document.title = `${ev.title} · Tessera`;
  title.textContent = ev.title;
  replace(
    byId("event-meta"),
    h(
      "p",
      {},
      h("time", { datetime: ev.startsAt }, formatDateTime(ev.startsAt)),
      " ",
      statusBadge(ev.status),
    ),
    ev.description ? h("p", { class: "description" }, ev.description) : null,
  );
  return { ev, first };
}

/** Shows the chosen seats with their total and saves them; returns the function that does so. */
function selectionRenderer(
  eventId: string,
  prices: ReadonlyMap<string, Money>,
  onSale: boolean,
  picks: () => Pick[],
  seatMap: () => SeatMap,
): () => void {
  const selectedList = byId("selected-seats");
  const totalEl = byId("selected-total");
  const holdButton = byId<HTMLButtonElement>("hold-button");
  const clearButton = byId<HTMLButtonElement>("clear-button");

  return () => {
    const map = seatMap();
    const all = picks();
    if (all.length === 0) {
      replace(selectedList, h("li", { class: "empty" }, "No seats chosen yet."));
    } else {
      replace(
        selectedList,
        all.map((p) =>
          h(
            "li",
            {},
            p.text,
            prices.get(p.categoryId) ? ` · ${formatMoney(prices.get(p.categoryId)!)}` : "",
            " ",
            h(
              "button",
              {
                type: "button",
                class: "link",
                "aria-label": `Remove ${p.text}`,
                onclick: p.remove,
              },
              "Remove",
            ),
          ),
        ),
      );
    }
    const amounts = all.map((s) => prices.get(s.categoryId)).filter((m): m is Money => !!m);
    totalEl.textContent =
      amounts.length > 0
        ? formatMoney({
            amount: amounts.reduce((a, m) => a + m.amount, 0),
            currency: amounts[0]!.currency,
          })
        : "–";
    const tooMany = all.length > MAX_SEATS;
    holdButton.disabled = all.length === 0 || !onSale || tooMany;
    clearButton.disabled = all.length === 0;
    holdButton.textContent = !buyerToken()
      ? "Sign in to hold seats"
      : all.length === 0
        ? "Hold seats"
        : `Hold ${all.length} seat${all.length === 1 ? "" : "s"}`;
    if (tooMany) announce(`At most ${MAX_SEATS} seats per purchase.`);
    saveState(eventId, { ...loadState(eventId), selection: map.selected().map((s) => s.key) });
  };
}

/**
 * Availability: polled with ETag, so an unchanged map costs a 304 and no parsing. Shows the first
 * map at once; returns the function that fetches and shows a fresh one.
 */
function watchAvailability(
  eventId: string,
  auth: () => "buyer" | "none",
  first: { body: SeatMapBody; etag?: string },
  map: SeatMap,
  ga: ReturnType<typeof gaPicker>,
): () => Promise<void> {
  let etag = first.etag;
  const apply = (body: SeatMapBody) => {
    const lost = map.setStates(takenOf(body));
    ga.update(body.generalAdmission);
    if (lost.length > 0) {
      announce(
        `${lost.length} of your chosen seats ${lost.length === 1 ? "was" : "were"} just taken.`,
      );
    }
    byId("seatmap").dataset.available = String(body.totals.available);
  };
  let polling = false;
  const refresh = async () => {
    if (polling) return;
    polling = true;
    try {
      const r = await fetchSeatMap(eventId, auth(), etag);
      if (r) {
        etag = r.etag;
        apply(r.body);
      }
    } catch {
      // Keep the last map; the next poll tries again.
    } finally {
      polling = false;
    }
  };
  apply(first.body);
  byId("seatmap").dataset.loaded = "true";
  window.setInterval(() => {
    if (document.visibilityState === "visible") void refresh();
  }, SEAT_POLL_MS);
  return refresh;
}

/** Clear empties the choice; Hold holds it (after sign-in) and shows the hold. */
function wireChoiceButtons(
  view: EventView,
  ga: ReturnType<typeof gaPicker>,
  picks: () => Pick[],
): void {
  const { eventId, notice, map, refresh } = view;
  const holdButton = byId<HTMLButtonElement>("hold-button");
  const clearButton = byId<HTMLButtonElement>("clear-button");
  clearButton.addEventListener("click", () => {
    ga.clear();
    map.clearSelection();
  });
  holdButton.addEventListener("click", () => {
    if (!buyerToken()) {
      void signIn();
      return;
    }
    void busy(holdButton, async () => {
      clearNotice(notice);
      const chosen = picks();
      try {
        const hold = await api<HoldJson>(`/v1/events/${encodeURIComponent(eventId)}/holds`, {
          method: "POST",
          auth: "buyer",
          idempotencyKey: newIdempotencyKey(),
          json: { seats: chosen.map((s) => ({ sectionId: s.sectionId, seatId: s.seatId })) },
        });
        ga.clear();
        map.clearSelection();
        saveState(eventId, { hold, payKey: newIdempotencyKey() });
        showHold(view, hold);
        void refresh();
      } catch (e) {
        showError(notice, e);
        if (e instanceof ApiError && e.status === 409) void refresh();
        if (e instanceof ApiError && e.status === 401) void signIn();
      }
    });
  });
}

/** Back to choosing seats: the hold is forgotten and its countdown stopped. */
function endHold(view: EventView, message?: string): void {
  if (view.countdown) window.clearInterval(view.countdown);
  view.countdown = undefined;
  saveState(view.eventId, {});
  view.holdPanel.hidden = true;
  view.choosePanel.hidden = false;
  if (message) showNotice(view.notice, message);
  void view.refresh();
}

/** The held seats, their total, the time left to pay, and the payment form fit for the total. */
function showHold(view: EventView, hold: HoldJson): void {
  const { map } = view;
  view.choosePanel.hidden = true;
  view.holdPanel.hidden = false;
  const keys = new Set(hold.seats.map((s) => `${s.sectionId}/${s.seatId}`));
  replace(
    byId("held-seats"),
    map.seats.filter((s) => keys.has(s.key)).map((s) => h("li", {}, seatWhere(s))),
    hold.seats
      .filter((s) => !map.seats.some((m) => m.sectionId === s.sectionId && m.seatId === s.seatId))
      .map((s) => h("li", {}, `${s.sectionId}: place ${s.seatId}`)),
  );
  byId("held-total").textContent = hold.total ? formatMoney(hold.total) : "–";
  const timer = byId("hold-timer");
  const expires = hold.expiresAt ? Date.parse(hold.expiresAt) : Date.now();
  const tick = () => {
    const left = Math.max(0, expires - Date.now());
    const m = Math.floor(left / 60_000);
    const sec = Math.floor((left % 60_000) / 1000);
    timer.textContent = `${m}:${String(sec).padStart(2, "0")}`;
    if (left === 0) {
      endHold(view, "Your hold expired and the seats were released. Please choose again.");
    }
  };
  tick();
  if (view.countdown) window.clearInterval(view.countdown);
  view.countdown = window.setInterval(tick, 1000);
  // Free seats need no card: the card fields are hidden and disabled (so not required).
  const free = hold.total?.amount === 0;
  byId("card-fields").hidden = free;
  for (const input of byId("card-fields").querySelectorAll("input")) input.disabled = free;
  byId("free-note").hidden = !free;
  byId("pay-legend").textContent = free ? "Get your free tickets" : "Pay by card";
  byId("pay-button").textContent = free ? "Get tickets" : "Pay";
  byId<HTMLInputElement>(free ? "pay-button" : "card-number").focus();
}

function wireRelease(view: EventView): void {
  const { eventId, notice } = view;
  byId<HTMLButtonElement>("release-button").addEventListener("click", (ev) => {
    const hold = loadState(eventId).hold;
    if (!hold) {
      endHold(view);
      return;
    }
    void busy(ev.currentTarget as HTMLButtonElement, async () => {
      try {
        await api(`/v1/holds/${encodeURIComponent(hold.holdId)}`, {
          method: "DELETE",
          auth: "buyer",
        });
        endHold(view, "The seats were released.");
      } catch (e) {
        showError(notice, e);
      }
    });
  });
}

/** The payment form: pays for the hold (or takes free seats), then shows the tickets. */
function wirePayment(view: EventView): void {
  const { eventId, notice } = view;
  const payForm = byId<HTMLFormElement>("pay-form");
  const testCard = config().testCard;
  if (testCard) {
    byId<HTMLInputElement>("card-number").value = testCard.replace(/(\d{4})(?=\d)/g, "$1 ");
  }
  payForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const st = loadState(eventId);
    const hold = st.hold;
    const payKey = st.payKey;
    if (!hold || !payKey) return;
    const fd = new FormData(payForm);
    const [mm = 0, yy = 0] = String(fd.get("exp") ?? "")
      .split("/")
      .map((x) => Number(x.trim()));
    const card = {
      number: String(fd.get("number") ?? "").replace(/\D/g, ""),
      expMonth: mm,
      expYear: yy < 100 ? 2000 + yy : yy,
      cvc: String(fd.get("cvc") ?? "").trim(),
    };
    const free = hold.total?.amount === 0;
    const button = byId<HTMLButtonElement>("pay-button");
    void busy(button, async () => {
      showNotice(notice, "Paying… this takes a few seconds.");
      try {
        const purchase = await api<Purchase>(
          `/v1/holds/${encodeURIComponent(hold.holdId)}/confirm`,
          // The same key for every retry of this payment, across providers and page reloads: a
          // payment that did go through is replayed, never charged twice.
          { method: "POST", auth: "buyer", idempotencyKey: payKey, json: free ? {} : { card } },
        );
        if (view.countdown) window.clearInterval(view.countdown);
        saveState(eventId, {});
        showTickets(view, purchase);
        if (purchase.ticketsPending) showTickets(view, await reissue(purchase));
      } catch (e) {
        showError(notice, e);
        if (e instanceof ApiError && (e.status === 410 || e.status === 404)) endHold(view);
      }
    });
  });
}

/**
 * Tickets need two providers' signatures; when the purchase could gather fewer, ask again
 * (each request may land on another provider) for a while before pointing to My tickets.
 */
async function reissue(p: Purchase): Promise<Purchase> {
  for (let i = 0; i < REISSUE_ATTEMPTS && p.ticketsPending; i++) {
    await sleep(REISSUE_PAUSE_MS);
    try {
      const r = await api<Purchase>(`/v1/me/orders/${encodeURIComponent(p.order.id)}/tickets`, {
        method: "POST",
        auth: "buyer",
      });
      p = { ...r, order: p.order };
    } catch {
      // still pending: try again
    }
  }
  return p;
}

function showTickets(view: EventView, p: Purchase): void {
  view.holdPanel.hidden = true;
  view.choosePanel.hidden = true;
  view.ticketsPanel.hidden = false;
  showNotice(view.notice, `Paid ${formatMoney(p.order.total)}. Order ${p.order.id} is confirmed.`);
  replace(
    byId("purchase-tickets"),
    p.tickets.map((t) => ticketCard(t, view.ev.title)),
    p.ticketsPending
      ? h("p", {}, "Your tickets are being signed; find them under My tickets shortly.")
      : null,
  );
  byId("tickets-heading").focus();
  void view.refresh();
}

function renderLegend(el: HTMLElement, plan: PlanLike, prices: ReadonlyMap<string, Money>): void {
  replace(
    el,
    plan.categories.map((c) =>
      h(
        "li",
        {},
        h("span", { class: "swatch", "data-color": c.color, "aria-hidden": "true" }),
        ` ${c.name}`,
        prices.get(c.id) ? ` · ${formatMoney(prices.get(c.id)!)}` : " · not on sale",
      ),
    ),
    h("li", {}, h("span", { class: "swatch swatch-taken", "aria-hidden": "true" }), " Taken"),
    h(
      "li",
      {},
      h("span", { class: "swatch swatch-chosen", "aria-hidden": "true" }),
      " Your choice",
    ),
  );
  // Plan colours go through CSSOM, not style attributes: the page's CSP forbids inline styles, and
  // a plan's colour is already restricted to #hex or a colour name.
  for (const sw of el.querySelectorAll<HTMLElement>(".swatch[data-color]")) {
    sw.style.backgroundColor = sw.dataset.color ?? "";
  }
}
