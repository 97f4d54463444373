import { api, newIdempotencyKey } from "../api.ts";
import { byId, h, replace } from "../dom.ts";
import { busy, clearNotice, showError, showNotice } from "../ui.ts";
import { theaterGate } from "./theater-common.ts";
import {
  currencySelect,
  fromLocalInput,
  priceInputs,
  readPrices,
  toLocalInput,
} from "./theater-forms.ts";
import type { PlanBasics } from "./theater-home.ts";

/** `/theater/events/new`: an event in one of the theater's plans, optionally put on sale at once. */

interface Page<T> {
  items: T[];
}
interface Venue {
  id: string;
  name: string;
  planId: string;
}
interface Created {
  id: string;
}

const DAY_MS = 24 * 3600 * 1000;
/** Default date of a new event: far enough ahead that its sales window is a real window. */
const DEFAULT_LEAD_DAYS = 30;

export async function theaterEventNewPage(): Promise<void> {
  await theaterGate();
  const notice = byId("event-form-notice");
  const form = byId<HTMLFormElement>("event-form");
  let plans: PlanBasics[];
  let venues: Venue[];
  try {
    [plans, venues] = await Promise.all([
      api<Page<PlanBasics>>("/v1/manage/plans?limit=100", { auth: "theater" }).then((p) => p.items),
      api<Page<Venue>>("/v1/manage/venues?limit=100", { auth: "theater" }).then((p) => p.items),
    ]);
  } catch (e) {
    showError(notice, e);
    return;
  }
  if (plans.length === 0) {
    showNotice(notice, "Import a seating plan first.");
    form.hidden = true;
    return;
  }
  const { planSelect, venueSelect } = fillPlanAndVenue(plans, venues);
  fillDefaults();
  wireSubmit(form, notice, planSelect, venueSelect, venues);
}

/**
 * The plan choice (the one named in `?plan=` first selected), and the venues and price inputs of
 * the chosen plan, kept in step with it.
 */
function fillPlanAndVenue(
  plans: PlanBasics[],
  venues: Venue[],
): { planSelect: HTMLSelectElement; venueSelect: HTMLSelectElement } {
  const wanted = new URLSearchParams(location.search).get("plan");
  const planSelect = byId<HTMLSelectElement>("plan");
  replace(
    planSelect,
    plans.map((p) => h("option", { value: p.id, selected: p.id === wanted }, p.name)),
  );
  const venueSelect = byId<HTMLSelectElement>("venue");
  const newVenue = byId("new-venue");
  const renderVenues = () => {
    const own = venues.filter((v) => v.planId === planSelect.value);
    replace(
      venueSelect,
      own.map((v) => h("option", { value: v.id }, v.name)),
      h("option", { value: "" }, "New venue…"),
    );
    newVenue.hidden = own.length > 0;
  };
  venueSelect.addEventListener("change", () => {
    newVenue.hidden = venueSelect.value !== "";
  });
  const renderPrices = () => {
    const plan = plans.find((p) => p.id === planSelect.value);
    replace(byId("prices"), priceInputs(plan?.categories ?? [], new Map()));
  };
  planSelect.addEventListener("change", () => {
    renderVenues();
    renderPrices();
  });
  renderVenues();
  renderPrices();
  return { planSelect, venueSelect };
}

/** Currency, the new venue's time zone, and dates a month ahead with sales open from now. */
function fillDefaults(): void {
  replace(
    byId("currency-slot"),
    h("label", { for: "currency" }, "Currency"),
    currencySelect("currency", "EUR"),
  );
  byId<HTMLInputElement>("venue-tz").value = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const starts = new Date(Date.now() + DEFAULT_LEAD_DAYS * DAY_MS);
  starts.setHours(19, 30, 0, 0);
  byId<HTMLInputElement>("starts-at").value = toLocalInput(starts.toISOString());
  byId<HTMLInputElement>("opens-at").value = toLocalInput(new Date().toISOString());
  byId<HTMLInputElement>("closes-at").value = toLocalInput(starts.toISOString());
}

/** On submit: a new venue if asked for, then the event, its sales if asked, and off to it. */
function wireSubmit(
  form: HTMLFormElement,
  notice: HTMLElement,
  planSelect: HTMLSelectElement,
  venueSelect: HTMLSelectElement,
  venues: Venue[],
): void {
  // Keys per distinct request body: a retried click replays, an edited form is a new request.
  const keys = new Map<string, string>();
  const keyFor = (body: unknown) => {
    const k = JSON.stringify(body);
    if (!keys.has(k)) keys.set(k, newIdempotencyKey());
    return keys.get(k)!;
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    void busy(button, async () => {
      clearNotice(notice);
      try {
        const fd = new FormData(form);
        const currency = String(fd.get("currency") ?? "EUR");
        const startsAt = fromLocalInput(String(fd.get("startsAt") ?? ""));
        const opensAt = fromLocalInput(String(fd.get("opensAt") ?? ""));
        const closesAt = fromLocalInput(String(fd.get("closesAt") ?? ""));
        if (!startsAt || !opensAt || !closesAt) throw new Error("fill in the dates");
        let venueId = venueSelect.value;
        if (!venueId) {
          const venueBody = {
            name: String(fd.get("venueName") ?? "").trim(),
            address: String(fd.get("venueAddress") ?? "").trim(),
            timezone: String(fd.get("venueTz") ?? "").trim(),
            planId: planSelect.value,
          };
          const venue = await api<Venue>("/v1/manage/venues", {
            method: "POST",
            auth: "theater",
            idempotencyKey: keyFor(venueBody),
            json: venueBody,
          });
          venues.push(venue);
          venueId = venue.id;
        }
        const body = {
          title: String(fd.get("title") ?? "").trim(),
          description: String(fd.get("description") ?? ""),
          startsAt,
          venueId,
          planId: planSelect.value,
          priceCategories: readPrices(byId("prices"), currency),
          salesWindow: { opensAt, closesAt },
          visibility: String(fd.get("visibility") ?? "public"),
        };
        const event = await api<Created>("/v1/manage/events", {
          method: "POST",
          auth: "theater",
          idempotencyKey: keyFor(body),
          json: body,
        });
        if (fd.get("openNow")) {
          await api(`/v1/manage/events/${encodeURIComponent(event.id)}/open-sales`, {
            method: "POST",
            auth: "theater",
          });
        }
        location.assign(`/theater/events/${encodeURIComponent(event.id)}`);
      } catch (e) {
        showError(notice, e);
      }
    });
  });
}
